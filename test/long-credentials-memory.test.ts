// What unauthenticated requests may leave behind in memory: nothing that
// grows with what they name. 10,000 signed requests, each naming a random
// 60,000-character access key (a zero signature, SignedHeaders=host, no
// date), with the per-credential limit on: the heap after them, collected,
// must be about what it was before. Before the fix each key became a
// rate-limit bucket and the heap grew by ~570 MB.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { FAKE_SERVICE_IDENTITY } from './support/fake-keystone.js';
import { startTestApp, type TestApp } from './support/test-app.js';

// The test runner starts each file in a process of its own, without
// --expose-gc; this gives the file a gc() all the same.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const REQUESTS = 10_000;
const KEY_LENGTH = 60_000;
const PARALLEL = 8;
/** Generous: the leak was ~57 KB per request, 570 MB in all. */
const ALLOWED_GROWTH_MB = 40;

function heapUsedMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

describe('long access keys leave nothing behind', () => {
  let t: TestApp;
  const agent = new Agent({ keepAlive: true, maxSockets: PARALLEL });
  before(async () => {
    t = await startTestApp({
      env: {
        ...FAKE_SERVICE_IDENTITY,
        RATE_LIMIT_CREDENTIAL_RPS: '1000',
        RATE_LIMIT_UNPROVEN_RPS: '0',
      },
    });
  });
  after(async () => {
    agent.destroy();
    await t.close();
  });

  /** One request naming a random access key of KEY_LENGTH characters; its status. */
  function sendLongKey(): Promise<number> {
    const accessKey = randomBytes(KEY_LENGTH / 2).toString('hex');
    const headers = {
      Authorization: `SDK-HMAC-SHA256 Access=${accessKey}, SignedHeaders=host, Signature=${'0'.repeat(64)}`,
    };
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: t.port,
          method: 'POST',
          path: '/v2/p/tasks/1/stop',
          headers,
          agent,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error('no answer within 30 s')));
      req.on('error', reject);
      req.end();
    });
  }

  async function send(count: number): Promise<Map<number, number>> {
    const statuses = new Map<number, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (next++ < count) {
          const status = await sendLongKey();
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
      }),
    );
    return statuses;
  }

  test(`${REQUESTS} requests with random ${KEY_LENGTH}-character keys: the heap stays put`, async (ctx) => {
    await send(200); // warm up: code paths compiled, pools and caches at their size
    const before = heapUsedMb();
    const statuses = await send(REQUESTS);
    const after = heapUsedMb();
    ctx.diagnostic(
      `heap used ${before.toFixed(1)} MB before, ${after.toFixed(1)} MB after: ` +
        `${(after - before).toFixed(1)} MB growth; answers ${JSON.stringify([...statuses])}`,
    );
    assert.deepEqual([...statuses.keys()], [401], 'every request refused as unauthenticated');
    assert.ok(
      after - before < ALLOWED_GROWTH_MB,
      `the heap grew by ${(after - before).toFixed(1)} MB (allowed ${ALLOWED_GROWTH_MB} MB)`,
    );
  });
});
