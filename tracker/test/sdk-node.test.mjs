// The official server-side SDKs, from npm, against the real binary: every message
// arrives once, on the right profile, with the anonymous profile merged into the
// identified one — also when an answer is lost and the SDK retries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Analytics } from '@segment/analytics-node';
import Rudder from '@rudderstack/rudder-sdk-node';
import { startServer, deriveID, flakyProxy } from './harness.mjs';

// script runs the same story through any SDK shaped like Segment's.
function story(a, p) {
  a.track({ userId: `${p}-old-login`, event: 'Logged In' });
  a.track({ anonymousId: `${p}-anon`, event: 'Product Viewed', properties: { sku: 'A1' } });
  a.page({ anonymousId: `${p}-anon`, name: 'Pricing', properties: { url: 'https://shop.example.com/pricing', title: 'Pricing' } });
  a.identify({ anonymousId: `${p}-anon`, userId: `${p}-user`, traits: { email: `${p}@example.com`, firstName: 'Ann', plan: 'pro' } });
  a.track({ userId: `${p}-user`, event: 'Order Completed', properties: { total: 30 } });
  a.group({ userId: `${p}-user`, groupId: `${p}-acme`, traits: { name: 'Acme' } });
  a.alias({ userId: `${p}-user`, previousId: `${p}-old-login` });
}

async function check(s, p) {
  const anon = deriveID('anonymous', `${p}-anon`);
  const old = deriveID('user', `${p}-old-login`);
  // The three profiles (old login, anonymous, identified) are one now. (Which one
  // survives depends on the order the SDK delivered its batches in.)
  const viaUser = await s.get('/api/v1/profiles/' + deriveID('user', `${p}-user`));
  const viaAnon = await s.get('/api/v1/profiles/' + anon);
  const viaOld = await s.get('/api/v1/profiles/' + old);
  assert.equal(viaUser.id, viaAnon.id, 'anonymous and identified profiles merged');
  assert.equal(viaUser.id, viaOld.id, 'the aliased profile merged');
  assert.equal(viaUser.data.contact.email.main, `${p}@example.com`);
  assert.equal(viaUser.data.identifier.id, `${p}-user`);
  assert.equal(viaUser.data.pii.firstname, 'Ann');
  assert.equal(viaUser.traits.plan, 'pro');
  assert.deepEqual(viaUser.traits.groups, [`${p}-acme`]);
  assert.equal(viaUser.stats.views, 1);
  const evs = await s.events(viaUser.id);
  const types = evs.map((e) => e.type).sort();
  assert.deepEqual(types, ['alias', 'group', 'logged-in', 'order-completed', 'page-view', 'product-viewed', 'profile-update'].sort(), 'each message once');
}

test('@segment/analytics-node: track, identify, page, group, alias with flushes and a lost answer', async () => {
  const s = await startServer();
  const { write_key } = await s.source('node');
  const proxy = await flakyProxy(s.url, 1);
  try {
    const a = new Analytics({ writeKey: write_key, host: proxy.url, flushAt: 3, flushInterval: 100, maxRetries: 5 });
    const errors = [];
    a.on('error', (e) => errors.push(e));
    story(a, 'seg');
    await a.closeAndFlush({ timeout: 30000 });
    assert.deepEqual(errors, []);
    const posts = proxy.seen.filter((r) => r.method === 'POST');
    assert.ok(posts.length >= 4, 'several flushes and a retry: ' + JSON.stringify(posts));
    assert.ok(posts.every((r) => r.status === 200), JSON.stringify(posts));
    await check(s, 'seg');
  } finally {
    await proxy.close();
    await s.stop();
  }
});

test('@rudderstack/rudder-sdk-node: the same story, gzip batches, a lost answer', async () => {
  const s = await startServer();
  const { write_key } = await s.source('rudder');
  const proxy = await flakyProxy(s.url, 1);
  try {
    const a = new Rudder(write_key, { dataPlaneUrl: proxy.url, flushAt: 3, flushInterval: 100, retryCount: 5, logLevel: 'error' });
    story(a, 'rs');
    for (let i = 0; i < 5; i++) await a.flush().catch(() => {});
    await new Promise((r) => setTimeout(r, 500));
    await a.flush();
    const posts = proxy.seen.filter((r) => r.method === 'POST');
    assert.ok(posts.length >= 4, JSON.stringify(posts));
    assert.equal(posts.filter((r) => r.status !== 200).length, 0, JSON.stringify(posts));
    await check(s, 'rs');
  } finally {
    await proxy.close();
    await s.stop();
  }
});
