// End-to-end test of the visual flow editor: the real thamesthrive binary on a fresh
// data directory, driven through Debian's chromium with playwright-core (no browser
// download). It builds a flow from an empty draft with the mouse, saves, deploys, runs
// it on real traffic, debugs it and restores a version; every step saves a screenshot.
//
//   THAMESTHRIVE_BIN=../bin/thamesthrive node e2e/flows.mjs [screenshot-dir]
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import assert from 'node:assert/strict'
import { ADMIN, SHOTS, TOKEN, closeBrowser, launchBrowser, login, run, screenshots, startServer } from './harness.mjs'

for (const f of readdirSync(SHOTS)) if (/^flow-.*\.png$/.test(f)) rmSync(join(SHOTS, f)) // a shorter run leaves no stale steps

async function main() {
  const { base, dataDir, call } = await startServer('thamesthrive-flows-e2e-')
  assert.equal((await call('POST', '/api/v1/install', { username: ADMIN.user, password: ADMIN.pass, token: TOKEN })).status, 201)
  const admin = (await call('POST', '/api/v1/auth/token', { username: ADMIN.user, password: ADMIN.pass })).body.access_token
  assert.equal((await call('POST', '/api/v1/event-sources', { id: 'shop', name: 'Shop' }, admin)).status, 201)

  // The run provokes 400 and 409 on purpose.
  const page = await launchBrowser(base, { width: 1600, height: 960 }, [400, 409])
  const shot = screenshots(page, { prefix: 'flow-', settleMs: 150 }) // let the canvas finish drawing edges

  await page.goto('/gui/flows')
  await login(page, ADMIN)

  // 1. Create an empty flow from the list; the editor opens on it.
  await page.getByRole('heading', { name: 'Flows', exact: true }).waitFor()
  await page.getByLabel('Name (required)').fill('Big spenders')
  await page.getByLabel('Id (optional)').fill('big-spender')
  await page.getByRole('button', { name: 'Create and open' }).click()
  await page.getByRole('heading', { name: 'Big spenders' }).waitFor()
  assert.match(page.url(), /\/gui\/flows\/big-spender$/)
  await page.getByText('Drag a Start node from the palette to begin.').waitFor()
  await shot('empty-draft')

  // 2. Drag start, if, add-segment and increment-counter from the palette.
  const canvas = page.locator('.flow-canvas .react-flow__pane')
  const palette = page.getByRole('complementary', { name: 'Node palette' })
  const drop = async (type, x, y) => {
    await palette.locator(`[data-node-type="${type}"]`).dragTo(canvas, { targetPosition: { x, y } })
    await page.locator(`.react-flow__node[data-id="${type}-1"]`).waitFor()
  }
  await palette.getByPlaceholder('Search nodes').fill('segm')
  assert.equal(await palette.locator('[data-node-type="if"]').count(), 0)
  await shot('palette-search')
  await palette.getByPlaceholder('Search nodes').fill('')
  await drop('start', 110, 220)
  await drop('if', 370, 220)
  await drop('add-segment', 640, 120)
  await drop('increment-counter', 640, 330)

  // 3. Connect ports with the mouse: output port (right) to input port (left).
  const port = (node, dir, name) => page.locator(`.react-flow__node[data-id="${node}"] [data-port="${dir}:${name}"]`)
  const connect = async (from, fromPort, to, toPort) => {
    const a = await port(from, 'out', fromPort).boundingBox()
    const b = await port(to, 'in', toPort).boundingBox()
    await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2)
    await page.mouse.down()
    await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 5 })
    await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 5 })
    await page.mouse.up()
    await page.locator(`.react-flow__edge[data-id="${from}:${fromPort}->${to}:${toPort}"]`).waitFor({ state: 'attached' })
  }
  await connect('start-1', 'payload', 'if-1', 'payload')
  await connect('if-1', 'true', 'add-segment-1', 'payload')
  await connect('if-1', 'true', 'increment-counter-1', 'payload')

  // 4. Fill the forms. An invalid condition is flagged as it is typed, at its position.
  const node = (id) => page.locator(`.react-flow__node[data-id="${id}"]`)
  await node('if-1').click()
  const condition = page.getByLabel('condition (required)')
  await condition.fill('event@properties.price >')
  await page.getByText(/Line 1, column \d+: expected value/).waitFor()
  await shot('condition-checked-live')
  await node('add-segment-1').click()
  await page.getByLabel('segment (required)').fill('big-spender')
  await node('increment-counter-1').click()
  assert.equal(await page.getByLabel('by', { exact: true }).inputValue(), '1') // the spec's default
  await page.getByLabel('counter (required)').fill('big-orders')

  // 5. Saving with the invalid condition: the API's error is drawn on the node it names.
  await page.getByRole('button', { name: 'Save draft' }).click()
  await node('if-1').locator('.fnode-error', { hasText: 'expected value' }).waitFor()
  assert.ok(await node('if-1').locator('.fnode.has-error').count() === 1)
  await shot('save-error-on-node')
  await condition.fill('event@properties.price > 100')
  await page.getByText('Settings are valid.').waitFor()
  await page.getByRole('button', { name: 'Save draft' }).click()
  await page.getByText(/Draft saved \(version \d+\)/).waitFor()
  assert.equal(await node('if-1').locator('.fnode.has-error').count(), 0)
  const stored = (await call('GET', '/api/v1/flows/big-spender', undefined, admin)).body
  assert.equal(stored.draft.nodes.length, 4)
  assert.equal(stored.draft.edges.length, 3)
  assert.ok(stored.draft.nodes.every((n) => n.position), 'positions are saved in the draft')
  assert.equal(stored.draft.nodes.find((n) => n.id === 'if-1').config.condition, 'event@properties.price > 100')
  await shot('saved')

  // 6. Multi-select (shift-drag a box), copy/paste, undo/redo, delete (keyboard on the canvas).
  const boxes = [await node('add-segment-1').boundingBox(), await node('increment-counter-1').boundingBox()]
  await page.keyboard.down('Shift')
  await page.mouse.move(Math.min(...boxes.map((b) => b.x)) - 15, Math.min(...boxes.map((b) => b.y)) - 15)
  await page.mouse.down()
  await page.mouse.move(Math.max(...boxes.map((b) => b.x + b.width)) + 15, Math.max(...boxes.map((b) => b.y + b.height)) + 15, { steps: 8 })
  await page.mouse.up()
  await page.keyboard.up('Shift')
  await page.getByText('2 nodes selected.', { exact: false }).waitFor()
  await page.locator('.react-flow__pane').focus()
  await page.keyboard.press('Control+c')
  await page.keyboard.press('Control+v')
  await node('add-segment-2').waitFor()
  await node('increment-counter-2').waitFor()
  await shot('multi-select-paste')
  await page.keyboard.press('Control+z')
  await node('add-segment-2').waitFor({ state: 'detached' })
  await node('increment-counter-1').click()
  await page.keyboard.press('Control+c')
  await page.keyboard.press('Control+v')
  await node('increment-counter-2').waitFor()
  await page.keyboard.press('Control+z')
  await node('increment-counter-2').waitFor({ state: 'detached' })
  await page.keyboard.press('Control+Shift+z')
  await node('increment-counter-2').waitFor()
  await node('increment-counter-2').click()
  await page.keyboard.press('Delete')
  await node('increment-counter-2').waitFor({ state: 'detached' })
  await page.getByText(/^Saved · version/).waitFor()

  // 7. Deploy, then create the rule from the Flow tab.
  await page.getByRole('button', { name: 'Deploy' }).click()
  await page.getByText('Deployed as version 1.', { exact: false }).waitFor()
  await page.getByRole('tab', { name: 'Flow' }).click()
  await page.getByLabel('Event type (required)').fill('purchase')
  await page.getByLabel('Rule name').fill('Purchases')
  await page.getByRole('button', { name: 'Create rule' }).click()
  await page.getByRole('link', { name: 'Purchases' }).waitFor()
  await shot('deployed-with-rule')

  // 8. A matching event over HTTP puts the profile in the segment.
  // New visitors get server-made ids (a client cannot choose them).
  const track = async (price) => {
    const r = await call('POST', '/track', { source: { id: 'shop' }, events: [{ type: 'purchase', properties: { price } }] })
    assert.equal(r.status, 200, JSON.stringify(r.body))
    return r.body.profile.id
  }
  const annId = await track(150)
  const bobId = await track(20)
  await page.goto('/gui/profiles/' + annId)
  await page.getByRole('region', { name: 'Segments' }).getByText('big-spender').waitFor()
  await shot('profile-in-segment')
  const bob = (await call('GET', '/api/v1/profiles/' + bobId, undefined, admin)).body
  assert.ok(!(bob.segments ?? []).includes('big-spender'))

  // 9. Debug the draft with a stored event: the trace is drawn on the nodes.
  await page.goto('/gui/flows/big-spender')
  await page.getByRole('tab', { name: 'Debug' }).click()
  await page.getByLabel('A stored event').check()
  await page.getByLabel('Find events (condition)').fill('properties.price > 100')
  await page.getByRole('button', { name: 'Search events' }).click()
  await page.locator('.event-picks li').first().waitFor()
  assert.equal(await page.locator('.event-picks li').count(), 1)
  await page.getByRole('button', { name: 'Run the draft' }).click()
  await page.getByRole('region', { name: 'Run result' }).waitFor()
  for (const id of ['start-1', 'if-1', 'add-segment-1', 'increment-counter-1']) await node(id).locator('[data-trace="ok"]').waitFor()
  assert.equal(await page.locator('.react-flow__edge.edge-taken').count(), 3)
  await page.getByRole('table', { name: 'Profile changes' }).getByText('stats.counters.big-orders').waitFor()
  await shot('debug-trace')
  // a written event that does not match: the false port is taken, the rest skipped
  await page.getByLabel('Write one').check()
  await page.getByLabel('Event (JSON)').fill(JSON.stringify({ type: 'purchase', properties: { price: 5 } }))
  await page.getByRole('button', { name: 'Run the draft' }).click()
  await node('add-segment-1').locator('[data-trace="skipped"]').waitFor()
  await page.locator('.trace-table').getByRole('button', { name: 'if-1' }).click()
  await page.getByRole('region', { name: 'What the run did in this node' }).getByText('out: false').waitFor()
  await shot('debug-node-details')

  // 10. The production run from step 8 opens in the same view.
  await page.getByRole('tab', { name: 'Runs' }).click()
  await page.locator('.runs li').first().waitFor()
  await page.locator('.runs li').first().getByRole('button').click()
  await node('add-segment-1').locator('[data-trace]').first().waitFor()
  await shot('production-run')

  // 11. A second version, then restore the first to production and to the draft.
  await node('if-1').click()
  await page.getByRole('tab', { name: 'Node' }).click()
  await page.getByLabel('condition (required)').fill('event@properties.price > 500')
  await page.getByRole('button', { name: 'Deploy' }).click()
  await page.getByText('Deployed as version 2.', { exact: false }).waitFor()
  await page.getByRole('tab', { name: 'Versions' }).click()
  await page.locator('[data-version="1"]').getByRole('button', { name: 'Compare with draft' }).click()
  await page.getByRole('region', { name: 'Version 1 compared with the draft' }).getByText('config.condition').waitFor()
  await shot('versions-diff')
  await page.locator('[data-version="1"]').getByRole('button', { name: 'Restore to production' }).click()
  await page.getByRole('dialog').getByRole('button', { name: 'Restore' }).click()
  await page.getByText('Version 1 is in production again, as version 3.').waitFor()
  const v3 = (await call('GET', '/api/v1/flows/big-spender/versions/3', undefined, admin)).body
  assert.equal(v3.restored_from, 1)
  assert.equal(v3.graph.nodes.find((n) => n.id === 'if-1').config.condition, 'event@properties.price > 100')
  await page.locator('[data-version="1"]').getByRole('button', { name: 'Restore to draft' }).click()
  await page.getByRole('dialog').getByRole('button', { name: 'Restore' }).click()
  await page.getByText('Version 1 restored to the draft.', { exact: false }).waitFor()
  await node('if-1').click()
  await page.getByRole('tab', { name: 'Node' }).click()
  assert.equal(await page.getByLabel('condition (required)').inputValue(), 'event@properties.price > 100')
  await shot('version-restored')

  // 12. A stale version (someone saved meanwhile): the edits stay, and can win.
  const now = (await call('GET', '/api/v1/flows/big-spender', undefined, admin)).body
  assert.equal((await call('PUT', '/api/v1/flows/big-spender', { ...now, description: 'changed elsewhere' }, admin)).status, 200)
  await page.getByLabel('Label').fill('Big order?')
  await page.getByRole('button', { name: 'Save draft' }).click()
  await page.getByText('Someone saved this flow since you opened it', { exact: false }).waitFor()
  assert.equal(await page.getByLabel('Label').inputValue(), 'Big order?')
  await shot('stale-version')
  await page.getByRole('button', { name: 'Save mine over theirs' }).click()
  await page.getByText(/Draft saved/).waitFor()
  const merged = (await call('GET', '/api/v1/flows/big-spender', undefined, admin)).body
  assert.equal(merged.draft.nodes.find((n) => n.id === 'if-1').name, 'Big order?')
  assert.equal(merged.description, 'changed elsewhere') // what they changed and we did not stays

  // 13. Disable and enable.
  await page.getByRole('tab', { name: 'Flow' }).click()
  await page.getByRole('button', { name: 'Disable flow' }).click()
  await page.getByText('Flow disabled', { exact: false }).waitFor()
  assert.equal((await call('GET', '/api/v1/flows/big-spender', undefined, admin)).body.enabled, false)
  await page.getByRole('button', { name: 'Enable flow' }).click()
  await page.getByText('Flow enabled', { exact: false }).waitFor()

  // 14. Unsaved edits survive leaving the page (kept in the tab's sessionStorage).
  await node('if-1').click()
  await page.getByRole('tab', { name: 'Node' }).click()
  await page.getByLabel('Label').fill('Orders over 100')
  await page.getByText('Unsaved changes').waitFor()
  await page.waitForTimeout(500) // the copy is written 300 ms after the last change
  await page.getByRole('link', { name: '← Flows' }).click()
  await page.getByRole('link', { name: 'Big spenders', exact: true }).click()
  await page.getByRole('button', { name: 'Restore my unsaved edits' }).click()
  await node('if-1').getByText('Orders over 100').waitFor()
  await page.getByRole('button', { name: 'Save draft' }).click()
  await page.getByText(/Draft saved/).waitFor()
  assert.equal((await call('GET', '/api/v1/flows/big-spender', undefined, admin)).body.draft.nodes.find((n) => n.id === 'if-1').name, 'Orders over 100')

  // 15. The list: export, import (no positions: laid out automatically), duplicate, delete.
  await page.getByRole('link', { name: '← Flows' }).click()
  await page.getByRole('heading', { name: 'Flows', exact: true }).waitFor()
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export Big spenders' }).click()])
  const exported = JSON.parse(readFileSync(await download.path(), 'utf8'))
  assert.equal(exported.id, 'big-spender')
  assert.equal(exported.draft.nodes.length, 4)
  assert.equal(exported.version, undefined)
  const imp = join(dataDir, 'imported.flow.json')
  writeFileSync(imp, JSON.stringify({ id: 'big-spender', name: 'Imported', draft: { nodes: exported.draft.nodes.map(({ position, ...n }) => n), edges: exported.draft.edges } }))
  await page.setInputFiles('#flow-import', imp)
  await page.getByText('Imported Imported (big-spender-2).').waitFor()
  await page.getByRole('button', { name: 'Duplicate Big spenders' }).click()
  await page.getByText('Duplicated as Big spenders (copy) (big-spender-copy).').waitFor()
  await shot('flows-list')
  await page.getByRole('link', { name: 'Imported' }).click()
  await page.getByText('laid out automatically', { exact: false }).waitFor()
  const xs = {}
  for (const id of ['start-1', 'if-1', 'add-segment-1']) xs[id] = (await node(id).boundingBox()).x
  assert.ok(xs['start-1'] < xs['if-1'] && xs['if-1'] < xs['add-segment-1'], 'laid out left to right: ' + JSON.stringify(xs))
  await shot('imported-auto-layout')
  await page.getByRole('link', { name: '← Flows' }).click()
  await page.getByRole('button', { name: 'Delete Imported' }).click()
  await page.getByRole('dialog').getByRole('button', { name: 'Delete flow' }).click()
  await page.getByText('Deleted Imported.').waitFor()
  assert.equal((await call('GET', '/api/v1/flows/big-spender-2', undefined, admin)).status, 404)

  await closeBrowser()
}

await run('flow editor e2e', main, { failureShot: 'flow-failure.png' })
