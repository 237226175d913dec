// Starts the real thamesthrive binary on a temporary data directory, and talks to it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';

const BIN = process.env.THAMESTHRIVE_BIN;
const TOKEN = 'collect-test-installation-token';
const ADMIN = { username: 'admin@example.com', password: 'correct horse battery' };

export async function startServer(env = {}) {
  if (!BIN) throw new Error('set THAMESTHRIVE_BIN (make test-collect does)');
  const dir = mkdtempSync(join(tmpdir(), 'tt-collect-'));
  const proc = spawn(BIN, ['serve'], {
    env: { PATH: process.env.PATH, HTTP_ADDR: '127.0.0.1:0', DATA_DIR: dir, INSTALLATION_TOKEN: TOKEN, LOGGING_LEVEL: 'info', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const url = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('server did not start: ' + log)), 60000);
    proc.stderr.on('data', (b) => {
      log += b;
      for (const line of log.split('\n')) {
        try {
          const j = JSON.parse(line);
          if (j.msg === 'listening') { clearTimeout(t); resolve('http://' + j.addr); }
        } catch {}
      }
    });
    proc.on('exit', (c) => reject(new Error('server exited ' + c + ': ' + log)));
  });
  const s = {
    url, proc, token: '',
    async stop() { proc.kill('SIGKILL'); await new Promise((r) => proc.once('exit', r)).catch(() => {}); rmSync(dir, { recursive: true, force: true }); },
    async api(method, path, body) {
      if (!s.token) {
        await fetch(url + '/api/v1/install', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...ADMIN, token: TOKEN }) });
        const r = await fetch(url + '/api/v1/auth/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
        s.token = (await r.json()).access_token;
      }
      const r = await fetch(url + path, { method, headers: { authorization: 'Bearer ' + s.token, 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : null };
    },
    async get(path) {
      const r = await s.api('GET', path);
      if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    },
    async source(id, extra = {}) {
      const r = await s.api('POST', '/api/v1/event-sources', { id, name: id, type: 'rest', ...extra });
      if (r.status !== 201) throw new Error('source: ' + JSON.stringify(r.body));
      return r.body;
    },
    // events of a profile (all its merged ids), oldest first
    async events(profileId) {
      const b = await s.get(`/api/v1/profiles/${profileId}/events?limit=1000`);
      return b.items.reverse();
    },
  };
  return s;
}

// The server's derived ids (internal/segmentio.DeriveID): UUIDv5 in its namespace.
const NS = Buffer.from('5b0d7c1e4a514a2b9d6e2f1c8e7a9b30', 'hex');
export function deriveID(kind, value) {
  const h = createHash('sha1').update(NS).update(kind + '\0' + value).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

// A proxy in front of the server that, for the first `fail` POSTs, forwards the request
// and then answers 503 anyway, as if the answer were lost: the SDK must retry and the
// server must store each message once.
export async function flakyProxy(target, fail) {
  let failed = 0;
  const seen = [];
  const srv = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    const headers = { ...req.headers };
    delete headers.host;
    delete headers['content-length'];
    const r = await fetch(target + req.url, { method: req.method, headers, body: req.method === 'GET' ? undefined : body });
    const text = Buffer.from(await r.arrayBuffer());
    seen.push({ method: req.method, url: req.url, status: r.status, type: req.headers['content-type'] });
    if (req.method === 'POST' && failed < fail) {
      failed++;
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '0' });
      res.end('{"status":503,"error":"lost"}');
      return;
    }
    res.writeHead(r.status, { 'content-type': r.headers.get('content-type') || 'application/json' });
    res.end(text);
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${srv.address().port}`, seen, close: () => new Promise((r) => srv.close(r)) };
}

// A static server on another port: the "website" for the browser tests.
export async function site(routes) {
  const srv = createServer((req, res) => {
    const path = req.url.split('?')[0];
    const h = routes[path];
    if (!h) { res.writeHead(404); res.end(); return; }
    const [type, body] = typeof h === 'function' ? h(req) : h;
    res.writeHead(200, { 'content-type': type });
    res.end(body);
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${srv.address().port}`, close: () => new Promise((r) => { srv.closeAllConnections(); srv.close(r); }) };
}

export function readModule(path) { return readFileSync(new URL('../node_modules/' + path, import.meta.url)); }

export async function until(fn, what, ms = 15000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out waiting for ' + what + ': ' + (last && last.stack || JSON.stringify(last)));
}
