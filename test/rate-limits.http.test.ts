// Per-credential and per-project rate limits over HTTP: past the burst a
// request is 429 APIGW.0308 with Retry-After and changes nothing; other
// credentials and projects are not affected; waiting Retry-After is enough.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { TaskStatus } from '../src/tasks/task-state.js';
import { assertOmsError, assertStopped, stop, type Answer } from './support/stop-checks.js';
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

/**
 * Stops one fresh task per token, back to back: the tasks are made first, so
 * that the requests fall within one refill interval even on a busy machine.
 */
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
  before(async () => {
    t = await startTestApp({
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

    await sleep(1100); // Retry-After: 1
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

  test('health and metrics are not rate limited', async () => {
    for (let i = 0; i < 5; i++) {
      assert.equal((await request(t.server).get('/health/live')).status, 200);
      assert.equal((await request(t.server).get('/metrics')).status, 200);
    }
  });
});

describe('per project', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({
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

    await sleep(1100);
    await assertStops(t, PROJECT, tokens[2], 'user-c');
  });

  test("tokens of another project cannot use up this project's allowance", async () => {
    // The path names PROJECT, but the tokens are OTHER_PROJECT's: they are
    // counted against OTHER_PROJECT and refused with 403.
    await sleep(2100); // let both buckets fill up again
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
