// The pool of connections to IAM on its own, against the Keystone double:
// IAM's timeout counts from the socket, not from the queue; the queue is
// bounded in length and in time, and a call refused by it never reached IAM.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { IamQueueFull } from '../src/iam/circuit-breaker.js';
import { KeystoneConnections } from '../src/iam/keystone-http.js';
import { FakeKeystone } from './support/fake-keystone.js';

describe('KeystoneConnections', () => {
  let keystone: FakeKeystone;
  before(async () => (keystone = await FakeKeystone.start()));
  after(async () => keystone.stop());
  beforeEach(() => {
    keystone.mode = 'ok';
    keystone.delayMs = 0;
    keystone.latency = undefined;
  });

  const version = (pool: KeystoneConnections, timeoutMs: number) =>
    pool.call(new URL(keystone.endpoint), { headers: {}, timeoutMs });

  test('time waiting for a connection is not IAM time: queued calls do not time out', async () => {
    // Each answer takes 300 ms of a 500 ms timeout; the third call waits
    // 600 ms for the one connection and still gets its whole 500 ms.
    keystone.delayMs = 300;
    const pool = new KeystoneConnections({
      maxConnections: 1,
      maxQueued: 10,
      maxQueueWaitMs: 10_000,
    });
    const answers = await Promise.all([1, 2, 3].map(() => version(pool, 500)));
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200],
    );
  });

  test('a slow answer still times out, counted from the socket', async () => {
    keystone.delayMs = 1000;
    const pool = new KeystoneConnections({ maxConnections: 1, maxQueued: 1, maxQueueWaitMs: 5000 });
    await assert.rejects(version(pool, 200), (error) => !(error instanceof IamQueueFull));
  });

  test('a full queue refuses at once, without asking IAM', async () => {
    keystone.delayMs = 300;
    const pool = new KeystoneConnections({ maxConnections: 2, maxQueued: 1, maxQueueWaitMs: 5000 });
    const before = keystone.versionRequests;
    const calls = [1, 2, 3, 4].map(() => version(pool, 2000));
    const outcomes = await Promise.allSettled(calls);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'fulfilled', 'fulfilled', 'rejected'],
    );
    const refused = outcomes[3] as PromiseRejectedResult;
    assert.ok(refused.reason instanceof IamQueueFull, String(refused.reason));
    assert.equal(keystone.versionRequests - before, 3, 'the refused call reached IAM');
  });

  test('a wait longer than maxQueueWaitMs is refused, without asking IAM', async () => {
    keystone.delayMs = 1000;
    const pool = new KeystoneConnections({ maxConnections: 1, maxQueued: 5, maxQueueWaitMs: 50 });
    const before = keystone.versionRequests;
    const first = version(pool, 5000);
    await assert.rejects(version(pool, 5000), IamQueueFull);
    assert.equal((await first).status, 200);
    assert.equal(keystone.versionRequests - before, 1);
  });

  test('a call that ends gives its connection back', async () => {
    keystone.delayMs = 200;
    const pool = new KeystoneConnections({ maxConnections: 1, maxQueued: 0, maxQueueWaitMs: 50 });
    const first = version(pool, 2000);
    await assert.rejects(version(pool, 2000), IamQueueFull);
    assert.equal((await first).status, 200);
    keystone.delayMs = 0;
    assert.equal((await version(pool, 2000)).status, 200);
    keystone.mode = 'reset';
    await assert.rejects(version(pool, 2000), (error) => !(error instanceof IamQueueFull));
    keystone.mode = 'ok';
    assert.equal((await version(pool, 2000)).status, 200, 'a failed call gave it back too');
  });
});
