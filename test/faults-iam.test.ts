// IAM down or slow, under concurrency, with and without cached tokens. An
// uncached token costs at most IAM_TIMEOUT_MS and ends in 503 OMS.2004; a
// cached one keeps working, without waiting for IAM, until its
// TOKEN_CACHE_TTL_SECONDS is up, and then it too needs IAM. (One request at
// a time, and IAM recovering: stop-faults.http.test.ts.)

import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { TaskStatus } from '../src/tasks/task-state.js';
import { ManualClock } from './support/manual-clock.js';
import { assertOmsError, assertStopped, stop } from './support/stop-checks.js';
import {
  auditRows,
  emptyTables,
  insertTask,
  startTestApp,
  taskStatus,
  type TestApp,
} from './support/test-app.js';

const PROJECT = 'project-iam-faults';
const USER = 'u-iam-faults';
const IAM_TIMEOUT_MS = 400;
const TTL_SECONDS = 2;
/** Room for a loaded machine on top of the IAM timeout. */
const SLACK_MS = 2000;

let t: TestApp;
/** The token cache's time: the TTL passes when a test advances it. */
const clock = new ManualClock();
before(async () => {
  t = await startTestApp({
    clock,
    env: {
      IAM_TIMEOUT_MS: String(IAM_TIMEOUT_MS),
      TOKEN_CACHE_TTL_SECONDS: String(TTL_SECONDS),
      // Without the circuit breaker (its own tests are elsewhere): here every
      // uncached token is to meet IAM and its timeout.
      IAM_CIRCUIT_FAILURE_THRESHOLD: '0',
    },
  });
});
after(async () => t.close());
beforeEach(async () => {
  t.keystone.mode = 'ok';
  t.keystone.delayMs = 0;
  await emptyTables(t.db);
});

const migrating = () => insertTask(t.db, PROJECT, TaskStatus.Migrating);
const by = { projectId: PROJECT, userId: USER };

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = Date.now();
  const result = await work();
  return [result, Date.now() - started];
}

for (const mode of ['hang', 'error', 'reset'] as const) {
  test(`IAM ${mode}: 20 uncached tokens at once all get 503 in time; a cached one is not held up`, async () => {
    const cached = t.keystone.issue({ projectId: PROJECT, userId: USER });
    const warm = await migrating();
    await assertStopped(t.db, await stop(t, PROJECT, warm, cached), warm, by);

    t.keystone.mode = mode;
    const ids = await Promise.all(Array.from({ length: 20 }, migrating));
    const fresh = ids.map(() => t.keystone.issue({ projectId: PROJECT, userId: USER }));
    const cachedId = await migrating();
    const [[responses, cachedRes], elapsed] = await timed(() =>
      Promise.all([
        Promise.all(ids.map((id, i) => stop(t, PROJECT, id, fresh[i]))),
        timed(() => stop(t, PROJECT, cachedId, cached)),
      ]),
    );
    for (const res of responses) assertOmsError(res, 503, 'OMS.2004', /IAM/);
    assert.ok(elapsed < IAM_TIMEOUT_MS + SLACK_MS, `the burst took ${elapsed} ms`);
    for (const id of ids) assert.equal(await taskStatus(t.db, id), TaskStatus.Migrating);

    const [res, cachedMs] = cachedRes;
    await assertStopped(t.db, res, cachedId, by);
    if (mode === 'hang') {
      assert.ok(cachedMs < IAM_TIMEOUT_MS, `the cached token waited ${cachedMs} ms for IAM`);
    }
    assert.equal(t.keystone.validationCount(cached), 1, 'a cached token must not ask IAM');
    // A reset on a connection kept from an earlier answer may only be IAM
    // closing it, so that validation is sent once more, on a new one.
    const most = mode === 'reset' ? 2 : 1;
    for (const token of fresh) {
      const asked = t.keystone.validationCount(token);
      assert.ok(asked >= 1 && asked <= most, `IAM asked ${asked} times for one token`);
    }
  });
}

test('a cached token works through an IAM outage until its TTL, then gets 503 like any other', async () => {
  const token = t.keystone.issue({ projectId: PROJECT, userId: USER });
  const first = await migrating();
  await assertStopped(t.db, await stop(t, PROJECT, first, token), first, by);

  t.keystone.mode = 'hang';
  await clock.advance(TTL_SECONDS * 1000 - 1);
  const during = await migrating();
  await assertStopped(t.db, await stop(t, PROJECT, during, token), during, by);

  await clock.advance(1);
  const later = await migrating();
  const [res, ms] = await timed(() => stop(t, PROJECT, later, token));
  assertOmsError(res, 503, 'OMS.2004', /IAM/);
  assert.ok(ms >= IAM_TIMEOUT_MS - 50 && ms < IAM_TIMEOUT_MS + SLACK_MS, `answered in ${ms} ms`);
  assert.equal(await taskStatus(t.db, later), TaskStatus.Migrating);
  assert.deepEqual(await auditRows(t.db, later), []);
  assert.equal(t.keystone.validationCount(token), 2, 'IAM was asked again once the TTL was up');
});
