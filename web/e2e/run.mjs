// End-to-end test of the GUI: the real thamesthrive binary on a fresh data directory,
// driven through Debian's chromium with playwright-core (no browser download). Every
// step saves a screenshot; any console error or failed page script fails the run.
//
//   THAMESTHRIVE_BIN=../bin/thamesthrive node e2e/run.mjs [screenshot-dir]
import { readFile } from 'node:fs/promises'
import { createServer as createHTTPServer } from 'node:http'
import assert from 'node:assert/strict'
import { ADMIN, TOKEN, closeBrowser, launchBrowser, login, run, screenshots, startServer } from './harness.mjs'

const MARKETER = { user: 'mia@example.com', pass: 'marketing staple 42' }

// A webhook receiver that refuses everything, for the destination step.
let received = 0
const receiver = createHTTPServer((req, res) => {
  received++
  req.resume()
  res.writeHead(500).end('not today')
})
await new Promise((r) => receiver.listen(0, '127.0.0.1', r))
const receiverURL = `http://127.0.0.1:${receiver.address().port}/hook`

async function main() {
  const { base, call } = await startServer('thamesthrive-gui-e2e-', {
    // The test's webhook receiver is on loopback; failing deliveries die quickly.
    OUTBOUND_ALLOW_PRIVATE: 'yes', DELIVERY_MAX_AGE: '2s', DELIVERY_BACKOFF: '200ms',
  })
  // track0 sends one event of type with properties from an anonymous visitor.
  const track0 = (type, properties) => call('POST', '/track', { source: { id: 'website' }, events: [{ type, properties }] })
  // The answers the test provokes on purpose (wrong token, syntax error, stale version,
  // revoked token) are expected.
  const page = await launchBrowser(base, { width: 1280, height: 800 }, [400, 401, 403, 409])
  const shot = screenshots(page)

  // 1. First run: / goes to the GUI, which asks for the installation token.
  await page.goto('/')
  await page.getByRole('heading', { name: 'Welcome to ThamesThrive' }).waitFor()
  assert.match(page.url(), /\/gui\/setup$/)
  await page.getByLabel('Installation token').fill('wrong-token')
  await page.getByLabel('Admin e-mail').fill(ADMIN.user)
  await page.getByLabel('Password', { exact: true }).fill(ADMIN.pass)
  await page.getByLabel('Repeat the password').fill(ADMIN.pass)
  await page.getByRole('button', { name: 'Create admin' }).click()
  await page.locator('.field.invalid', { hasText: 'Installation token' }).waitFor()
  await shot('setup-wrong-token')
  await page.getByLabel('Installation token').fill(TOKEN)
  await page.getByRole('button', { name: 'Create admin' }).click()

  // 2. Login.
  await page.getByRole('heading', { name: 'Sign in to ThamesThrive' }).waitFor()
  await login(page, ADMIN)
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor()
  await shot('dashboard-empty')

  // 3. Create a source in the GUI; its page shows the snippet and a curl example.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Event sources' }).click()
  await page.getByRole('link', { name: 'New event source' }).click()
  await page.getByLabel('Id', { exact: true }).fill('website')
  await page.getByLabel('Name (required)').fill('Website')
  await page.getByLabel('Allowed origins').fill('https://shop.example.com')
  await page.getByRole('button', { name: 'Create' }).click()
  await page.getByRole('heading', { name: 'Try it with curl' }).waitFor()
  assert.match(await page.locator('pre.code').last().innerText(), /curl -X POST '.*\/track'/)
  await shot('source-created')

  // An event type with a JSON Schema: a syntax error is shown where it is.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Event types' }).click()
  await page.getByRole('link', { name: 'New event type' }).click()
  await page.getByLabel('Event type', { exact: true }).fill('purchase')
  await page.getByLabel('Name (required)').fill('Purchase')
  const schemaBox = page.getByLabel('JSON Schema of the properties')
  await schemaBox.fill('{"type": "object",\n "required": ["order_id",]}')
  await page.getByText('is not valid JSON at line 2, column 26').waitFor()
  await schemaBox.fill('{"type": "object", "required": ["order_id"]}')
  await page.getByText('Looks like a JSON Schema').waitFor()
  await page.getByRole('button', { name: 'Create' }).click()
  await page.getByRole('heading', { name: 'Purchase' }).waitFor()
  assert.equal((await track0('purchase', {})).status, 422)

  // 4. Send events over HTTP as a web site would.
  // The server makes the ids of new visitors (a client cannot choose them); a known
  // visitor sends back the profile id it was given.
  const track = (profile, events) =>
    call('POST', '/track', { source: { id: 'website' }, ...(profile ? { profile: { id: profile } } : {}), events })
  const first = await track(null, [{ type: 'sign-in', properties: { email: { main: 'Ann@Example.com' }, firstname: 'Ann' } }, { type: 'page-view', properties: {} }])
  assert.equal(first.status, 200, JSON.stringify(first.body))
  const annId = first.body.profile.id
  const again = await track(annId, [{ type: 'page-view', properties: {} }, { type: 'page-view', properties: {} }])
  assert.equal(again.status, 200, JSON.stringify(again.body))
  assert.equal(again.body.profile.id, annId)
  const bob = await track(null, [{ type: 'page-view', properties: {} }])
  assert.equal(bob.status, 200, JSON.stringify(bob.body))
  const bobId = bob.body.profile.id

  // 5. Find the profile with a condition: a wrong one shows the parser's position inline.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Profiles' }).click()
  const cond = page.getByLabel('Condition on profiles')
  await cond.fill('data.contact.email.main == ')
  await page.getByRole('button', { name: 'Search' }).click()
  await page.getByText(/Line 1, column \d+:/).waitFor()
  await shot('search-syntax-error')
  await cond.fill('data.contact.email.main == "ann@example.com"')
  await page.getByRole('button', { name: 'Search' }).click()
  await page.getByText('1 profile matches').waitFor()
  await shot('search-found')
  // Sorting by a column.
  await cond.fill('')
  await page.getByRole('button', { name: 'Search' }).click()
  await page.getByText('2 profiles match').waitFor()
  await page.getByRole('button', { name: 'Views' }).click()
  await page.locator('th[aria-sort="descending"]', { hasText: 'Views' }).waitFor()
  // The header turns at once; the rows follow when the sorted search answers.
  await page.locator('tbody tr').first().locator('td', { hasText: annId }).waitFor()
  assert.equal(await page.locator('tbody tr').first().locator('td').first().innerText(), annId)
  await page.getByRole('button', { name: 'Views ▼' }).click()
  await page.locator('th[aria-sort="ascending"]', { hasText: 'Views' }).waitFor()
  await page.locator('tbody tr').first().locator('td', { hasText: bobId }).waitFor()
  await cond.fill('data.contact.email.main == "ann@example.com"')
  await page.getByRole('button', { name: 'Search' }).click()
  await page.getByText('1 profile matches').waitFor()

  // 6. Its page and timeline.
  await page.getByRole('link', { name: annId }).click()
  await page.getByRole('heading', { name: 'Timeline' }).waitFor()
  await page.getByText('2 sessions, 4 events').waitFor()
  await shot('profile-timeline')
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export (download)' }).click()])
  assert.equal(download.suggestedFilename(), `profile-${annId}.json`)
  const exported = JSON.parse(await readFile(await download.path(), 'utf8'))
  assert.equal(exported.profile.id, annId)
  assert.equal(exported.events.length, 4)
  await page.setViewportSize({ width: 390, height: 844 })
  await shot('profile-phone')
  assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 390, 'the page scrolls sideways at 390 px')
  await page.setViewportSize({ width: 1280, height: 800 })

  // 7. A segment: the member count follows the condition as it is typed.
  await page.goto('/gui/config/segments/new')
  await page.getByLabel('Name (required)').fill('Returning visitors')
  const segCond = page.getByLabel('Condition (required)')
  await segCond.fill('stats.views > 0')
  await page.getByTestId('live-count').filter({ hasText: /^2$/ }).waitFor()
  await segCond.fill('stats.views > 2')
  await page.getByTestId('live-count').filter({ hasText: /^1$/ }).waitFor()
  await shot('segment-live-count')
  await page.getByRole('button', { name: 'Create' }).click()
  await page.getByRole('heading', { name: 'Returning visitors' }).waitFor()

  // 8. Change a rule; a concurrent change meanwhile is merged, not lost.
  const admin = (await call('POST', '/api/v1/auth/token', { username: ADMIN.user, password: ADMIN.pass })).body.access_token
  const flow = { id: 'welcome', name: 'Welcome', draft: { nodes: [{ id: 'start', type: 'start' }, { id: 'mark', type: 'set-data', config: { set: { 'profile@traits.welcomed': true } } }],
    edges: [{ source: 'start', source_port: 'payload', target: 'mark', target_port: 'payload' }] } }
  assert.equal((await call('POST', '/api/v1/flows', flow, admin)).status, 201)
  assert.equal((await call('POST', '/api/v1/rules', { id: 'welcome-rule', name: 'Welcome on sign-in', event_type: 'sign-in', flow_id: 'welcome' }, admin)).status, 201)
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Rules' }).click()
  await page.getByRole('link', { name: 'Welcome on sign-in' }).click()
  await page.getByLabel('Condition', { exact: true }).fill('event@properties.email.main EXISTS')
  const other = await call('PUT', '/api/v1/rules/welcome-rule', { name: 'Welcome on sign-in', event_type: 'sign-in', flow_id: 'welcome', description: 'changed by someone else', version: 1 }, admin)
  assert.equal(other.status, 200, JSON.stringify(other.body))
  await page.getByRole('button', { name: 'Save' }).click()
  await page.getByRole('button', { name: 'Reload and merge my changes' }).waitFor()
  await shot('rule-stale-version')
  await page.getByRole('button', { name: 'Reload and merge my changes' }).click()
  await waitValue(page.getByLabel('Description'), 'changed by someone else')
  await waitValue(page.getByLabel('Condition', { exact: true }), 'event@properties.email.main EXISTS')
  await page.getByRole('button', { name: 'Save' }).click()
  await page.getByText('Saved (version 3).').waitFor()
  await shot('rule-saved')
  const rule = (await call('GET', '/api/v1/rules/welcome-rule', undefined, admin)).body
  assert.equal(rule.condition, 'event@properties.email.main EXISTS')
  assert.equal(rule.description, 'changed by someone else')

  // 9. A 400 is shown next to the field it names, and the input stays.
  await page.getByLabel('Flow id (required)').fill('no-such-flow')
  await page.getByRole('button', { name: 'Save' }).click()
  await page.locator('.field.invalid', { hasText: 'Flow id' }).waitFor()
  assert.equal(await page.getByLabel('Flow id (required)').inputValue(), 'no-such-flow')
  await shot('rule-field-error')

  // A destination: failed deliveries are logged, then dead-lettered, and can be replayed.
  await page.goto('/gui/config/destinations/new')
  await page.getByLabel('Id', { exact: true }).fill('crm')
  await page.getByLabel('Name (required)').fill('CRM webhook')
  await page.getByLabel('Send events').check()
  await page.getByLabel('URL (required)').fill(receiverURL)
  await page.getByRole('button', { name: 'Create' }).click()
  await page.getByRole('heading', { name: 'Delivery' }).waitFor()
  assert.equal((await track0('page-view', {})).status, 200)
  await page.getByRole('button', { name: /^Replay all/ }).waitFor({ timeout: 20000 })
  assert.ok(received >= 1, 'the receiver got no delivery')
  await shot('destination-dead-letters')
  await page.getByRole('button', { name: /^Replay all/ }).click()
  await page.getByRole('table', { name: 'Recent delivery attempts' }).getByText(/dead/).first().waitFor()

  // 10. The dashboard with data, at desktop and phone widths.
  const def = await call('POST', '/api/v1/report-definitions', { name: 'Events by source', kind: 'events-breakdown', params: { by: 'source', range: '24h' } }, admin)
  assert.equal(def.status, 201, JSON.stringify(def.body))
  await page.goto('/gui/')
  await page.getByRole('region', { name: 'Top event types' }).getByText('page-view').waitFor()
  await page.getByRole('region', { name: 'Events by source' }).getByText('website').waitFor()
  await shot('dashboard')
  await page.setViewportSize({ width: 390, height: 844 })
  await shot('dashboard-phone')
  assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 390, 'the page scrolls sideways at 390 px')
  await page.setViewportSize({ width: 1280, height: 800 })

  // 11. Erase a profile, with confirmation.
  await page.goto('/gui/profiles/' + bobId)
  await page.getByRole('button', { name: 'Erase…' }).click()
  await shot('erase-confirm')
  await page.getByRole('button', { name: 'Erase for good' }).click()
  await page.getByRole('heading', { name: 'Profile erased' }).waitFor()
  await shot('profile-erased')
  assert.equal((await call('GET', '/api/v1/profiles/' + bobId, undefined, admin)).status, 404)

  // 12. A marketer: created by the admin, sees no users screen.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click()
  const form = page.getByRole('form', { name: 'New user' })
  await form.getByLabel('E-mail (required)').fill(MARKETER.user)
  await form.getByLabel('Password (required)').fill(MARKETER.pass)
  await page.getByRole('button', { name: 'Create user' }).click()
  await page.getByRole('cell', { name: MARKETER.user, exact: true }).waitFor()
  await shot('users')
  await page.getByRole('button', { name: 'Sign out' }).click()
  await page.getByRole('heading', { name: 'Sign in to ThamesThrive' }).waitFor()
  assert.equal(await page.evaluate(() => sessionStorage.getItem('thamesthrive.token')), null)
  await loginWithKeyboard(page, MARKETER)
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor()
  const nav = page.getByRole('navigation', { name: 'Main' })
  assert.equal(await nav.getByRole('link', { name: 'Users' }).count(), 0)
  assert.equal(await nav.getByRole('link', { name: 'Event sources' }).count(), 0)
  assert.equal(await nav.getByRole('link', { name: 'Segments' }).count(), 1)
  await shot('marketer-navigation')
  await page.goto('/gui/users')
  await page.getByRole('heading', { name: 'Not allowed' }).waitFor()

  // 13. A revoked token returns to login, and after it to the page the user was on.
  await page.goto('/gui/profiles/' + annId)
  await page.getByRole('heading', { name: 'Timeline' }).waitFor()
  const users = (await call('GET', '/api/v1/users', undefined, admin)).body.items
  const mia = users.find((u) => u.username === MARKETER.user)
  assert.equal((await call('DELETE', `/api/v1/users/${mia.id}/sessions`, undefined, admin)).status, 200)
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Events' }).click()
  await page.getByRole('heading', { name: 'Sign in to ThamesThrive' }).waitFor()
  assert.match(page.url(), /\/gui\/login\?next=%2Fevents/)
  await shot('session-revoked')
  await login(page, MARKETER)
  await page.getByRole('heading', { name: 'Events' }).waitFor()
  assert.match(page.url(), /\/gui\/events$/)
  // A deep link works on reload.
  await page.reload()
  await page.getByRole('heading', { name: 'Events' }).waitFor()

  await closeBrowser()
}

// waitValue waits until a form control holds value (the page updates asynchronously).
async function waitValue(locator, value, ms = 5000) {
  const end = Date.now() + ms
  let got
  while (Date.now() < end) {
    got = await locator.inputValue()
    if (got === value) return
    await new Promise((r) => setTimeout(r, 50))
  }
  assert.equal(got, value)
}

async function loginWithKeyboard(page, who) {
  await page.keyboard.press('Tab')
  await page.keyboard.type(who.user)
  await page.keyboard.press('Tab')
  await page.keyboard.type(who.pass)
  await page.keyboard.press('Enter')
}

await run('gui e2e', main, { failureShot: 'failure.png', cleanup: () => receiver.close() })
