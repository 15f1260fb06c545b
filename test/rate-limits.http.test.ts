// Per-credential and per-project rate limits over HTTP: past the burst a
// request is 429 APIGW.0308 with Retry-After and changes nothing; other
// credentials and projects are not affected; waiting Retry-After is enough.
// Time is the app's ManualClock: buckets refill only when a test advances it.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import request from 'supertest';
import { TaskStatus } from '../src/tasks/task-state.js';
import { FAKE_SERVICE_IDENTITY } from './support/fake-keystone.js';
import { ManualClock } from './support/manual-clock.js';
import { sdkDate, sendRaw, sendSigned, type AccessKeyPair } from './support/sdk-signing.js';
import {
  assertOmsError,
  assertStopped,
  assertUnchanged,
  stop,
  stopPath,
  type Answer,
} from './support/stop-checks.js';
import {
  auditRows,
  emptyTables,
  insertTask,
  startTestApp,
  taskStatus,
  type TestApp,
} from './support/test-app.js';

const PROJECT = 'rate-project-1';
const OTHER_PROJECT = 'rate-project-2';

/** Stops one fresh task per token, back to back (the clock stands still meanwhile). */
async function stopsInABurst(t: TestApp, projectId: string, tokens: string[]) {
  const ids: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    ids.push(await insertTask(t.db, projectId, TaskStatus.Migrating));
  }
  const answers = [];
  for (const [i, token] of tokens.entries()) answers.push(await stop(t, projectId, ids[i], token));
  return { ids, answers };
}

/** 429 APIGW.0308 with Retry-After, the task untouched and no audit row for it. */
async function assertThrottled(t: TestApp, res: Answer, id: string, limit: RegExp) {
  assertOmsError(res, 429, 'APIGW.0308', limit);
  assert.equal(res.headers['retry-after'], '1');
  assert.equal(await taskStatus(t.db, id), TaskStatus.Migrating);
  assert.deepEqual(await auditRows(t.db, id), [], 'a throttled stop wrote an audit row');
}

async function assertStops(t: TestApp, projectId: string, token: string, userId: string) {
  const id = await insertTask(t.db, projectId, TaskStatus.Migrating);
  await assertStopped(t.db, await stop(t, projectId, id, token), id, { projectId, userId });
}

describe('per credential', () => {
  let t: TestApp;
  const clock = new ManualClock();
  before(async () => {
    t = await startTestApp({
      clock,
      env: { RATE_LIMIT_CREDENTIAL_RPS: '1', RATE_LIMIT_CREDENTIAL_BURST: '2' },
    });
  });
  after(async () => t.close());
  beforeEach(async () => emptyTables(t.db));

  test('a burst of 2 passes, the third is 429 APIGW.0308 with Retry-After, nothing changed', async () => {
    const token = t.keystone.issue({ projectId: PROJECT, userId: 'u1' });
    const { ids, answers } = await stopsInABurst(t, PROJECT, [token, token, token]);
    const by = { projectId: PROJECT, userId: 'u1' };
    await assertStopped(t.db, answers[0], ids[0], by);
    await assertStopped(t.db, answers[1], ids[1], by);
    await assertThrottled(t, answers[2], ids[2], /credential/);

    // Another credential of the same project has its own bucket.
    const other = t.keystone.issue({ projectId: PROJECT, userId: 'u2' });
    await assertStops(t, PROJECT, other, 'u2');

    // Not a moment before Retry-After: 1 has passed...
    await clock.advance(999);
    await assertThrottled(t, await stop(t, PROJECT, ids[2], token), ids[2], /credential/);
    // ...and then it is enough.
    await clock.advance(1);
    await assertStops(t, PROJECT, token, 'u1');
  });

  test('tokens IAM rejects are throttled too, before IAM is asked', async () => {
    const bogus = 'made-up-token-for-the-rate-test';
    for (let i = 0; i < 2; i++) {
      assertOmsError(await stop(t, PROJECT, '1', bogus), 401, 'APIGW.0301');
    }
    assertOmsError(await stop(t, PROJECT, '1', bogus), 429, 'APIGW.0308');
    assert.equal(t.keystone.validationCount(bogus), 2);
  });
});

describe('health and metrics, with every limit used up', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({
      clock: new ManualClock(), // no bucket refills during the test
      env: {
        RATE_LIMIT_CREDENTIAL_RPS: '1',
        RATE_LIMIT_CREDENTIAL_BURST: '2',
        RATE_LIMIT_PROJECT_RPS: '1',
        RATE_LIMIT_PROJECT_BURST: '2',
        RATE_LIMIT_UNPROVEN_RPS: '1',
        RATE_LIMIT_UNPROVEN_BURST: '2',
      },
    });
  });
  after(async () => t.close());
  beforeEach(async () => emptyTables(t.db));

  test('are not rate limited', async () => {
    // Every client here is 127.0.0.1. Token a: two stops (new, then cached)
    // use up its bucket and the project's; b is new, so it takes the
    // address's second unproven slot and meets the project's limit; c is new
    // and meets the address's limit.
    const [a, b, c] = ['a', 'b', 'c'].map((user) =>
      t.keystone.issue({ projectId: PROJECT, userId: `user-${user}` }),
    );
    const { ids, answers } = await stopsInABurst(t, PROJECT, [a, a, a, b, c]);
    await assertStopped(t.db, answers[0], ids[0], { projectId: PROJECT, userId: 'user-a' });
    await assertStopped(t.db, answers[1], ids[1], { projectId: PROJECT, userId: 'user-a' });
    await assertThrottled(t, answers[2], ids[2], /credential/);
    await assertThrottled(t, answers[3], ids[3], /project/);
    await assertThrottled(t, answers[4], ids[4], /client address/);

    for (let i = 0; i < 5; i++) {
      for (const path of ['/health/live', '/health/ready', '/metrics']) {
        // With a credential of each kind, and none: none of them is counted.
        for (const token of [a, b, c, undefined]) {
          const req = request(t.server).get(path).timeout(10_000);
          const res = await (token === undefined ? req : req.set('X-Auth-Token', token));
          assert.equal(res.status, 200, `${path}: ${res.status} ${res.text}`);
        }
      }
    }

    // The limits are still used up: it was not time that let them through.
    await assertThrottled(t, await stop(t, PROJECT, ids[2], a), ids[2], /credential/);
    await assertThrottled(t, await stop(t, PROJECT, ids[3], b), ids[3], /project/);
    await assertThrottled(t, await stop(t, PROJECT, ids[4], c), ids[4], /client address/);
  });
});

/**
 * A stop that names `accessKey` but is signed with no secret at all: what
 * anyone can send, since access keys travel in clear on every request.
 */
function junkSignature(t: TestApp, accessKey: string, taskId: string, from?: string) {
  const headers: Record<string, string> = {
    Host: `127.0.0.1:${t.port}`,
    'X-Sdk-Date': sdkDate(new Date()),
    'X-Project-Id': PROJECT,
    Authorization:
      `SDK-HMAC-SHA256 Access=${accessKey}, SignedHeaders=host;x-sdk-date, ` +
      `Signature=${'0'.repeat(64)}`,
  };
  if (from) headers['X-Forwarded-For'] = from;
  return sendRaw(t.port, { method: 'POST', path: stopPath(PROJECT, taskId), headers });
}

function signedStop(t: TestApp, key: AccessKeyPair, taskId: string, from?: string) {
  return sendSigned(
    t.port,
    key,
    { method: 'POST', path: stopPath(PROJECT, taskId), headers: { 'X-Project-Id': PROJECT } },
    (sent) => {
      if (from) sent.headers['X-Forwarded-For'] = from;
    },
  );
}

describe('per credential, for access keys: counted once the signature is proven', () => {
  let t: TestApp;
  let victim: AccessKeyPair;
  const clock = new ManualClock();
  before(async () => {
    t = await startTestApp({
      clock,
      env: {
        ...FAKE_SERVICE_IDENTITY,
        RATE_LIMIT_CREDENTIAL_RPS: '1',
        RATE_LIMIT_CREDENTIAL_BURST: '2',
      },
    });
    victim = t.keystone.addAccessKey({ projectId: PROJECT, userId: 'victim' });
  });
  after(async () => t.close());
  beforeEach(async () => emptyTables(t.db));

  test("junk signatures naming a victim's access key do not use up the victim's allowance", async () => {
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    for (let i = 0; i < 6; i++) {
      assertOmsError(
        await junkSignature(t, victim.accessKey, id),
        401,
        'APIGW.0301',
        /signature does not match/,
      );
    }
    await assertUnchanged(t.db, id, TaskStatus.Migrating);
    await assertStopped(t.db, await signedStop(t, victim, id), id, {
      projectId: PROJECT,
      userId: 'victim',
    });
  });

  test("the key's own proven requests are counted: the third in a burst is 429", async () => {
    await clock.advance(2000); // the bucket full again after the test before
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await insertTask(t.db, PROJECT, TaskStatus.Migrating));
    const answers = [];
    for (const id of ids) answers.push(await signedStop(t, victim, id));
    const by = { projectId: PROJECT, userId: 'victim' };
    await assertStopped(t.db, answers[0], ids[0], by);
    await assertStopped(t.db, answers[1], ids[1], by);
    await assertThrottled(t, answers[2], ids[2], /credential/);
  });
});

describe('per client address, for credentials not yet proven', () => {
  const FLOODER = '203.0.113.7';
  const ELSEWHERE = '198.51.100.9';
  let t: TestApp;
  let victim: AccessKeyPair;
  before(async () => {
    t = await startTestApp({
      clock: new ManualClock(), // the six requests of the flood fall within one refill
      env: {
        ...FAKE_SERVICE_IDENTITY,
        RATE_LIMIT_UNPROVEN_RPS: '1',
        RATE_LIMIT_UNPROVEN_BURST: '3',
        // The test's clients all come from 127.0.0.1; X-Forwarded-For says
        // which client each is, as a load balancer would.
        TRUST_PROXY: 'true',
      },
    });
    victim = t.keystone.addAccessKey({ projectId: PROJECT, userId: 'victim' });
  });
  after(async () => t.close());
  beforeEach(async () => emptyTables(t.db));

  test("a flood from one address is 429 there; another address's signed call passes", async () => {
    // A token validated before the flood is proven, wherever it comes from.
    const cached = t.keystone.issue({ projectId: PROJECT, userId: 'cached' });
    const warm = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    assert.equal(
      (await stop(t, PROJECT, warm, cached).set('X-Forwarded-For', ELSEWHERE)).status,
      200,
    );

    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const statuses = [];
    for (let i = 0; i < 6; i++) {
      const res = await junkSignature(t, victim.accessKey, id, FLOODER);
      statuses.push(res.status);
      if (res.status === 429) assertOmsError(res, 429, 'APIGW.0308', /client address/);
    }
    assert.deepEqual(statuses, [401, 401, 401, 429, 429, 429]);
    const untouched = async () => {
      assert.equal(await taskStatus(t.db, id), TaskStatus.Migrating);
      assert.deepEqual(await auditRows(t.db, id), []);
    };
    await untouched();

    // From the flooding address: a new token is refused before IAM hears of
    // it, a cached one still works.
    const fresh = t.keystone.issue({ projectId: PROJECT, userId: 'fresh' });
    const refused = await stop(t, PROJECT, id, fresh).set('X-Forwarded-For', FLOODER);
    assertOmsError(refused, 429, 'APIGW.0308', /client address/);
    assert.equal(t.keystone.validationCount(fresh), 0);
    await untouched();
    const other = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    await assertStopped(
      t.db,
      await stop(t, PROJECT, other, cached).set('X-Forwarded-For', FLOODER),
      other,
      { projectId: PROJECT, userId: 'cached' },
    );

    // The victim, from its own address, is not affected.
    await assertStopped(t.db, await signedStop(t, victim, id, ELSEWHERE), id, {
      projectId: PROJECT,
      userId: 'victim',
    });
  });
});

describe('per project', () => {
  let t: TestApp;
  const clock = new ManualClock();
  before(async () => {
    t = await startTestApp({
      clock,
      env: { RATE_LIMIT_PROJECT_RPS: '1', RATE_LIMIT_PROJECT_BURST: '2' },
    });
  });
  after(async () => t.close());
  beforeEach(async () => emptyTables(t.db));

  test("the project's third request in a burst is 429, whichever credential sends it", async () => {
    const tokens = ['a', 'b', 'c'].map((user) =>
      t.keystone.issue({ projectId: PROJECT, userId: `user-${user}` }),
    );
    const { ids, answers } = await stopsInABurst(t, PROJECT, tokens);
    await assertStopped(t.db, answers[0], ids[0], { projectId: PROJECT, userId: 'user-a' });
    await assertStopped(t.db, answers[1], ids[1], { projectId: PROJECT, userId: 'user-b' });
    await assertThrottled(t, answers[2], ids[2], /project/);

    // Another project is not affected.
    const elsewhere = t.keystone.issue({ projectId: OTHER_PROJECT, userId: 'user-d' });
    await assertStops(t, OTHER_PROJECT, elsewhere, 'user-d');

    await clock.advance(999);
    await assertThrottled(t, await stop(t, PROJECT, ids[2], tokens[2]), ids[2], /project/);
    await clock.advance(1);
    await assertStops(t, PROJECT, tokens[2], 'user-c');
  });

  test("tokens of another project cannot use up this project's allowance", async () => {
    // The path names PROJECT, but the tokens are OTHER_PROJECT's: they are
    // counted against OTHER_PROJECT and refused with 403.
    await clock.advance(2000); // let both buckets fill up again
    const intruder = t.keystone.issue({ projectId: OTHER_PROJECT, userId: 'intruder' });
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    assertOmsError(await stop(t, PROJECT, id, intruder), 403, 'OMS.0206');
    assertOmsError(await stop(t, PROJECT, id, intruder), 403, 'OMS.0206');
    assertOmsError(await stop(t, PROJECT, id, intruder), 429, 'APIGW.0308');
    const owner = t.keystone.issue({ projectId: PROJECT, userId: 'owner' });
    await assertStopped(t.db, await stop(t, PROJECT, id, owner), id, {
      projectId: PROJECT,
      userId: 'owner',
    });
  });
});

test('without RATE_LIMIT_* settings nothing is throttled', async () => {
  const t = await startTestApp();
  try {
    await emptyTables(t.db);
    const token = t.keystone.issue({ projectId: PROJECT, userId: 'u' });
    const ids = await Promise.all(
      Array.from({ length: 30 }, () => insertTask(t.db, PROJECT, TaskStatus.Migrating)),
    );
    const answers = await Promise.all(ids.map((id) => stop(t, PROJECT, id, token)));
    assert.deepEqual(
      answers.map((res) => res.status),
      ids.map(() => 200),
    );
  } finally {
    await t.close();
  }
});
