// The set-up the browser end-to-end runs (e2e/run.mjs, e2e/flows.mjs) share: the real
// thamesthrive binary on a fresh data directory, Debian's chromium driven by
// playwright-core (no browser download), a screenshot for every step with a check that
// every visible control has a label, and a run that fails on any console error or
// failed page script, shows the server's output on failure and always cleans up.
import { spawn } from 'node:child_process'
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import assert from 'node:assert/strict'
import { chromium } from 'playwright-core'

const BIN = resolve(process.env.THAMESTHRIVE_BIN ?? '../bin/thamesthrive')
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium'
export const SHOTS = resolve(process.argv[2] ?? 'e2e/out')
export const TOKEN = 'e2e-installation-token'
export const ADMIN = { user: 'admin@example.com', pass: 'correct horse battery' }

const started = Date.now()
const seconds = () => ((Date.now() - started) / 1000).toFixed(1)
mkdirSync(SHOTS, { recursive: true })

let server // the running binary, from startServer
let browser // from launchBrowser
let steps = 0 // screenshots taken
const problems = [] // console errors and page errors seen by watched pages

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => res(port))
    })
    s.on('error', rej)
  })
}

// startServer starts `thamesthrive serve` on a free loopback port and a fresh data
// directory (named after prefix), with the installation token and the GUI API on, plus
// env, and waits until it is ready. It answers the base URL, the data directory and
// call(method, path, body, token), which sends JSON and answers { status, body }.
export async function startServer(prefix, env = {}) {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const dataDir = mkdtempSync(join(tmpdir(), prefix))
  const proc = spawn(BIN, ['serve'], {
    env: { PATH: process.env.PATH, HTTP_ADDR: `127.0.0.1:${port}`, DATA_DIR: dataDir, INSTALLATION_TOKEN: TOKEN, EXPOSE_GUI_API: 'yes', LOGGING_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  // The server's output is shown only when the run fails.
  server = { proc, dataDir, log: '', exited: false }
  proc.stdout.on('data', (b) => (server.log += b))
  proc.stderr.on('data', (b) => (server.log += b))
  proc.on('exit', () => (server.exited = true))

  const call = async (method, path, body, token) => {
    const res = await fetch(base + path, {
      method,
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: 'Bearer ' + token } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : null }
  }

  for (let i = 0; ; i++) {
    if (server.exited) throw new Error('thamesthrive exited at start-up')
    if (i === 200) throw new Error('thamesthrive did not become ready')
    try {
      if ((await fetch(base + '/readyz')).ok) break
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return { base, dataDir, call }
}

// launchBrowser starts chromium and opens one watched page of viewport size on base.
export async function launchBrowser(base, viewport, expectedStatuses) {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  })
  const ctx = await browser.newContext({ viewport, baseURL: base, acceptDownloads: true })
  const page = await ctx.newPage()
  watch(page, expectedStatuses)
  return page
}

// closeBrowser closes the browser and fails if a watched page logged an error.
export async function closeBrowser() {
  await browser.close()
  if (problems.length) throw new Error('browser console errors:\n' + problems.join('\n'))
}

// watch records the page's console errors and page errors as problems. The browser
// logs every non-2xx fetch; the statuses the run provokes on purpose (expectedStatuses,
// e.g. [400, 409]) are not problems.
function watch(page, expectedStatuses) {
  const expected = new RegExp(`Failed to load resource: the server responded with a status of (${expectedStatuses.join('|')})`)
  page.on('console', (m) => {
    if (m.type() !== 'error') return
    const text = m.text()
    if (expected.test(text)) return
    problems.push(text)
  })
  page.on('pageerror', (e) => problems.push('page error: ' + e.message))
}

// screenshots answers shot(name, p = page): it waits for the page to settle (settleMs
// more after the network is idle), checks every visible control has a label and saves
// SHOTS/<prefix><step>-<name>.png.
export function screenshots(page, { prefix = '', settleMs = 0 } = {}) {
  return async (name, p = page) => {
    steps++
    await p.waitForLoadState('networkidle')
    if (settleMs) await p.waitForTimeout(settleMs)
    assert.deepEqual(await p.evaluate(unlabelledControls), [], `controls without a label on ${name}`)
    await p.screenshot({ path: join(SHOTS, `${prefix}${String(steps).padStart(2, '0')}-${name}.png`) })
    console.log(`  ok ${steps} ${name} (${seconds()} s)`)
  }
}

// unlabelledControls runs in the page: the visible form controls and buttons that have
// no accessible name (a <label>, aria-label, aria-labelledby or, for buttons, text).
function unlabelledControls() {
  const out = []
  for (const el of document.querySelectorAll('input, select, textarea, button, a[href]')) {
    if (el.offsetParent === null && el.getClientRects().length === 0) continue
    const named =
      el.getAttribute('aria-label') ||
      el.getAttribute('aria-labelledby') ||
      (el.labels && el.labels.length > 0) ||
      ((el.tagName === 'BUTTON' || el.tagName === 'A') && el.textContent.trim() !== '')
    if (!named) out.push(el.outerHTML.slice(0, 120))
  }
  return out
}

// run runs main and exits: 0 when it passed; 1 when it failed, after printing the error,
// the server's last output and saving SHOTS/failureShot. Either way it runs cleanup,
// stops the server and removes its data directory.
export async function run(label, main, { failureShot, cleanup = () => {} }) {
  let failed = false
  try {
    await main()
    console.log(`${label}: ${steps} steps passed in ${seconds()} s; screenshots in ${SHOTS}`)
  } catch (e) {
    failed = true
    console.error(`${label} FAILED after step`, steps, ':', e)
    console.error('--- thamesthrive output ---\n' + (server?.log ?? '').slice(-5000))
    try {
      const pages = browser?.contexts().flatMap((c) => c.pages()) ?? []
      if (pages[0]) await pages[0].screenshot({ path: join(SHOTS, failureShot) })
    } catch {
      /* nothing more to save */
    }
    await browser?.close().catch(() => {})
  } finally {
    cleanup()
    if (server) {
      server.proc.kill('SIGTERM')
      await new Promise((r) => (server.exited ? r() : server.proc.on('exit', r)))
      rmSync(server.dataDir, { recursive: true, force: true })
    }
  }
  process.exit(failed ? 1 : 0)
}

// login signs who in on the sign-in form the page shows.
export async function login(page, who) {
  await page.getByLabel('E-mail').fill(who.user)
  await page.getByLabel('Password').fill(who.pass)
  await page.getByRole('button', { name: 'Sign in' }).click()
}
