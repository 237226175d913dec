// /tracker.js and @segment/analytics-next in Debian's Chromium, on a website served
// from another origin than ThamesThrive, as a real site is set up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { startServer, site, readModule, until, deriveID } from './harness.mjs';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let s, web, browser, writeKey;
const outside = []; // requests that tried to leave 127.0.0.1

before(async () => {
  s = await startServer();
  web = await site({
    '/': ['text/html', `<!doctype html><title>Shop</title><script>
(function(w,d,u){w.thamesthrive=w.thamesthrive||function(){(w.thamesthrive.q=w.thamesthrive.q||[]).push(arguments)};
var s=d.createElement('script');s.async=true;s.src=u;d.head.appendChild(s)})(window,document,'${s.url}/tracker.js');
thamesthrive('init',{source:'web',spa:true});
</script><h1>Shop</h1>`],
    '/other': ['text/html', '<!doctype html><title>Other</title>'],
    '/ajs.js': ['text/javascript', readModule('@segment/analytics-next/dist/umd/index.js')],
    '/analytics': ['text/html', `<!doctype html><title>AJS</title><script src="/ajs.js"></script><script>
window.ajsReady = AnalyticsNext.AnalyticsBrowser.load(
  {writeKey: new URLSearchParams(location.search).get('key'), cdnURL: '${s.url}'},
  {integrations: {'Segment.io': {apiHost: '${s.url.replace('http://', '')}/v1', protocol: 'http'}}});
</script>`],
  });
  const src = await s.source('web', { allowed_origins: [web.url] });
  writeKey = src.write_key;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
});

after(async () => {
  await browser?.close();
  await web?.close();
  await s?.stop();
});

async function newPage() {
  const ctx = await browser.newContext();
  await ctx.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.hostname !== '127.0.0.1') { outside.push(u.href); return route.abort(); }
    return route.continue();
  });
  const page = await ctx.newPage();
  return { ctx, page };
}

const ids = (page) => page.evaluate(() => ({ pid: localStorage.getItem('tt_pid'), sid: localStorage.getItem('tt_sid') }));

async function eventsOf(pid, type) {
  return (await s.events(pid)).filter((e) => !type || e.type === type);
}

test('tracker.js: page views, ids kept, SPA, identify merges, beacon on hide, offline queue, opt-out', async () => {
  const { ctx, page } = await newPage();
  // A customer the shop already knows.
  const known = await fetch(s.url + '/track', { method: 'POST', body: JSON.stringify({ source: { id: 'web' },
    events: [{ type: 'identification', properties: { email: { main: 'ann@example.com' } } }] }) }).then((r) => r.json());

  // First page view: the answer's ids are stored.
  await page.goto(web.url + '/');
  const first = await until(async () => { const i = await ids(page); return i.pid && i.sid && i; }, 'ids stored');
  await until(async () => (await eventsOf(first.pid, 'page-view')).length === 1, 'first page view');

  // Second page view reuses them; an SPA navigation counts one more.
  await page.reload();
  await until(async () => (await eventsOf(first.pid, 'page-view')).length === 2, 'second page view');
  assert.deepEqual(await ids(page), first);
  await page.evaluate(() => history.pushState({}, '', '/spa/step-2'));
  await until(async () => (await eventsOf(first.pid, 'page-view')).some((e) => e.hit.url.endsWith('/spa/step-2')), 'SPA page view');
  let p = await s.get('/api/v1/profiles/' + first.pid);
  assert.equal(p.stats.visits, 1);
  assert.equal(p.stats.views, 3);

  // Batching in one tick: two calls, one request.
  const posts = [];
  page.on('request', (r) => r.url().endsWith('/track') && posts.push(r));
  await page.evaluate(() => { thamesthrive('track', 'tick-a', { n: 1 }); thamesthrive('track', 'tick-b', { n: 2 }); });
  await until(async () => (await eventsOf(first.pid)).filter((e) => e.type.startsWith('tick-')).length === 2, 'batched events');
  assert.equal(posts.length, 1, 'two calls in one tick are one request');

  // identify with the known e-mail merges the visitor into the known customer, and the
  // answer's (new) profile id is stored.
  await page.evaluate(() => thamesthrive('identify', { email: 'Ann@Example.com', plan: 'gold' }));
  await until(async () => (await ids(page)).pid === known.profile.id, 'merged profile id stored');
  p = await s.get('/api/v1/profiles/' + first.pid);
  assert.equal(p.id, known.profile.id);
  assert.equal(p.traits.plan, 'gold');

  // Offline: events wait in the bounded queue, and go when the network returns.
  await ctx.setOffline(true);
  await page.evaluate(() => { thamesthrive('track', 'offline-1'); });
  await page.evaluate(() => { thamesthrive('track', 'offline-2'); });
  await until(async () => JSON.parse(await page.evaluate(() => localStorage.getItem('tt_queue')) || '[]').flat().length === 2, 'queued offline');
  await ctx.setOffline(false);
  await until(async () => (await eventsOf(known.profile.id)).filter((e) => e.type.startsWith('offline-')).length === 2, 'offline queue drained');
  assert.equal(await page.evaluate(() => localStorage.getItem('tt_queue')), null);

  // Page hide: with fetch failing, the unsent event leaves with the beacon.
  await ctx.route(s.url + '/track', (route) => route.request().resourceType() === 'fetch' ? route.abort() : route.continue());
  await page.evaluate(() => thamesthrive('track', 'before-leaving'));
  await until(async () => JSON.parse(await page.evaluate(() => localStorage.getItem('tt_queue')) || '[]').length === 1, 'fetch failed');
  await page.goto(web.url + '/other');
  await until(async () => (await eventsOf(known.profile.id, 'before-leaving')).length === 1, 'beacon delivered');
  await ctx.unroute(s.url + '/track');

  // Opt-out: nothing is sent and the ids are forgotten; after opting in again the next
  // event arrives, and the one in between never does.
  await page.goto(web.url + '/');
  await until(async () => (await ids(page)).pid, 'ids');
  await page.evaluate(() => { thamesthrive('optOut'); thamesthrive('track', 'while-opted-out'); });
  assert.deepEqual(await ids(page), { pid: null, sid: null });
  await page.reload(); // the automatic page view of an opted-out visitor is not sent either
  await page.evaluate(() => { thamesthrive('optIn'); thamesthrive('track', 'after-opt-in'); });
  const again = await until(async () => { const i = await ids(page); return i.pid && i; }, 'new ids after opt-in');
  const evs = await until(async () => { const e = await eventsOf(again.pid); return e.some((x) => x.type === 'after-opt-in') && e; }, 'after opt-in');
  assert.deepEqual(evs.map((e) => e.type), ['after-opt-in']);
  assert.equal((await eventsOf(known.profile.id, 'while-opted-out')).length, 0);
  await ctx.close();
  assert.deepEqual(outside, []);
});

test('@segment/analytics-next in Chromium: settings from the server, page/track/identify arrive once, merged', async () => {
  // The customer is known to the back end already.
  await fetch(s.url + '/v1/track', { method: 'POST', headers: { authorization: 'Basic ' + btoa(writeKey + ':'), 'content-type': 'application/json' },
    body: JSON.stringify({ userId: 'ajs-user', event: 'Account Created' }) });
  const { ctx, page } = await newPage();
  const sent = [];
  page.on('requestfinished', async (r) => { if (r.url().startsWith(s.url + '/v1/')) sent.push([r.method(), new URL(r.url()).pathname, (await r.response()).status()]); });
  await page.goto(web.url + '/analytics?key=' + writeKey);
  await page.evaluate(async () => {
    const [a] = await window.ajsReady;
    await a.page('Home');
    await a.track('Clicked', { button: 'buy' });
    await a.identify('ajs-user', { email: 'ajs@example.com' });
  });
  const anon = JSON.parse(await page.evaluate(() => localStorage.getItem('ajs_anonymous_id')));
  const pid = deriveID('anonymous', anon);
  const p = await until(async () => { const p = await s.get('/api/v1/profiles/' + deriveID('user', 'ajs-user')); return p.data?.contact?.email?.main && p; }, 'identified');
  const viaAnon = await s.get('/api/v1/profiles/' + pid);
  assert.equal(viaAnon.id, p.id, 'the anonymous profile is merged into the identified one');
  const types = (await s.events(p.id)).map((e) => e.type).sort();
  assert.deepEqual(types, ['account-created', 'clicked', 'page-view', 'profile-update']);
  assert.ok(sent.some(([m, path]) => m === 'GET' && path === `/v1/projects/${writeKey}/settings`), JSON.stringify(sent));
  assert.ok(sent.filter(([m]) => m === 'POST').every(([, , st]) => st === 200), JSON.stringify(sent));
  await ctx.close();
  assert.deepEqual(outside, []);
});

test("Tracardi's tracker headers: a cross-origin POST with X-Timestamp passes the CORS preflight", async () => {
  const { ctx, page } = await newPage();
  await page.goto(web.url + '/other');
  const answer = await page.evaluate(async (url) => {
    const r = await fetch(url + '/track', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Timestamp': String(Date.now() / 1000) },
      body: JSON.stringify({ source: { id: 'web' }, events: [{ type: 'page-view' }] }) });
    return r.json();
  }, s.url);
  assert.ok(answer.profile.id && answer.session.id, JSON.stringify(answer));
  await ctx.close();
});
