// GET /health/live and /health/ready: outside the IAM auth, honest about the
// database and IAM, quick when either is gone, and well again by itself.

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import request from 'supertest';
import { assertOmsError } from './support/stop-checks.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { startTestApp, testDatabaseUrl, type TestApp } from './support/test-app.js';

const HEALTH_TIMEOUT_MS = 300;

function get(t: TestApp, path: string) {
  return request(t.server).get(path).timeout(10_000);
}

describe('health checks', () => {
  let proxy: TcpProxy;
  let t: TestApp;

  before(async () => {
    // The service reaches PostgreSQL through a proxy the test can cut.
    const direct = new URL(testDatabaseUrl());
    proxy = await TcpProxy.start(direct.hostname, Number(direct.port || 5432));
    const viaProxy = new URL(direct);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    t = await startTestApp({
      databaseUrl: viaProxy.toString(),
      env: {
        HEALTH_TIMEOUT_MS: String(HEALTH_TIMEOUT_MS),
        // These tests change the database and IAM between calls and expect
        // each call to see it; sharing a result is tested below.
        HEALTH_READY_CACHE_MS: '0',
        DATABASE_CONNECT_TIMEOUT_MS: '2000',
        IAM_TIMEOUT_MS: '2000',
      },
    });
  });
  after(async () => {
    proxy.restore();
    await t.close();
    await proxy.stop();
  });
  afterEach(() => {
    proxy.restore();
    t.keystone.mode = 'ok';
  });

  test('live: 200 without credentials, with a request id', async () => {
    const res = await get(t, '/health/live');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { status: 'ok' });
    assert.match(String(res.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });

  test('ready: 200 with both checks up; IAM is asked for its version document, not a validation', async () => {
    const before = t.keystone.versionRequests;
    const res = await get(t, '/health/ready');
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, {
      status: 'ok',
      checks: {
        database: { status: 'up' },
        iam: { status: 'up', circuit: 'closed' },
        events: { status: 'off', leader: false },
      },
    });
    assert.equal(t.keystone.versionRequests, before + 1);
    assert.equal(t.keystone.validationCount(), 0);
  });

  test('ready: 503 naming the database when it is cut off, 200 again once it is back', async () => {
    proxy.cut();
    const started = Date.now();
    const res = await get(t, '/health/ready');
    const elapsed = Date.now() - started;
    assert.equal(res.status, 503, res.text);
    assert.equal(res.body.status, 'unavailable');
    assert.equal(res.body.checks.database.status, 'down');
    assert.equal(res.body.checks.iam.status, 'up');
    // Bounded by the health timeout, not the 2 s connect timeout (loose: shared CPUs).
    assert.ok(elapsed < 1900, `answered after ${elapsed} ms`);
    assert.doesNotMatch(res.text, /127\.0\.0\.1|ECONN|5432/, 'internals in a public answer');

    assert.equal(
      (await get(t, '/health/live')).status,
      200,
      'live does not depend on the database',
    );
    proxy.restore();
    assert.equal((await get(t, '/health/ready')).status, 200);
  });

  for (const [mode, reason] of [
    ['error', 'error'],
    ['reset', 'error'],
    ['hang', 'timeout'],
  ] as const) {
    test(`ready: 503 naming IAM when it ${mode === 'error' ? 'answers 500' : mode + 's'}`, async () => {
      t.keystone.mode = mode;
      const res = await get(t, '/health/ready');
      assert.equal(res.status, 503, res.text);
      assert.deepEqual(res.body.checks, {
        database: { status: 'up' },
        iam: { status: 'down', reason, circuit: 'closed' },
        events: { status: 'off', leader: false },
      });
      t.keystone.mode = 'ok';
      assert.equal((await get(t, '/health/ready')).status, 200);
    });
  }

  test('unknown health paths and wrong methods are 404 APIGW.0101 like any unknown API', async () => {
    assertOmsError(await get(t, '/health'), 404, 'APIGW.0101');
    assertOmsError(await get(t, '/health/nope'), 404, 'APIGW.0101');
    assertOmsError(await request(t.server).post('/health/live'), 404, 'APIGW.0101');
    assertOmsError(await request(t.server).delete('/health/ready'), 404, 'APIGW.0101');
  });

  test('a caller token is neither needed nor checked', async () => {
    const res = await get(t, '/health/live').set('X-Auth-Token', 'not-a-token');
    assert.equal(res.status, 200);
    assert.equal(t.keystone.validationCount('not-a-token'), 0);
  });
});

test('ready: 503 when IAM is not there at all (connection refused)', async () => {
  const t = await startTestApp({ env: { HEALTH_TIMEOUT_MS: String(HEALTH_TIMEOUT_MS) } });
  try {
    await t.keystone.stop();
    const res = await get(t, '/health/ready');
    assert.equal(res.status, 503);
    assert.deepEqual(res.body.checks.iam, { status: 'down', reason: 'error', circuit: 'closed' });
  } finally {
    await t.close().catch(() => undefined);
  }
});

test('ready: 200 concurrent calls cost IAM one check, and a result is shared for HEALTH_READY_CACHE_MS', async () => {
  const t = await startTestApp({ env: { HEALTH_READY_CACHE_MS: '60000' } });
  try {
    const before = t.keystone.versionRequests;
    const answers = await Promise.all(
      Array.from({ length: 200 }, () => get(t, '/health/ready').then((res) => res.status)),
    );
    assert.deepEqual(new Set(answers), new Set([200]));
    assert.equal(t.keystone.versionRequests - before, 1, 'IAM checks for 200 calls');
    // Later calls within the period are answered from that check too.
    for (let i = 0; i < 20; i++) assert.equal((await get(t, '/health/ready')).status, 200);
    assert.equal(t.keystone.versionRequests - before, 1, 'IAM checks for 220 calls');
  } finally {
    await t.close();
  }
});

test('ready: with HEALTH_READY_CACHE_MS=0, concurrent calls still share the check in flight', async () => {
  const t = await startTestApp({ env: { HEALTH_READY_CACHE_MS: '0', HEALTH_TIMEOUT_MS: '5000' } });
  try {
    // IAM holds each check for a second, so that the calls arrive while one
    // is in flight even on a loaded machine (without it, 22 of 50 calls
    // started checks of their own under parallel load).
    t.keystone.delayMs = 1000;
    const before = t.keystone.versionRequests;
    await Promise.all(Array.from({ length: 50 }, () => get(t, '/health/ready')));
    const checks = t.keystone.versionRequests - before;
    // Calls land over several event-loop turns, so a few checks may start;
    // unshared there would be 50.
    assert.ok(checks >= 1 && checks <= 10, `${checks} IAM checks for 50 concurrent calls`);
  } finally {
    await t.close();
  }
});
