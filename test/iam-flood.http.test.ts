// Outsiders must not be able to open the IAM circuit (issue 12, defect 3).
// A flood of made-up tokens against a healthy IAM that is merely slow fills
// the service's own connections to IAM; time spent waiting for one is not
// IAM's failure, so the circuit stays closed and a valid token is served the
// moment the flood is over. A token the IAM's front end refuses (400), or one
// longer than IAM_MAX_TOKEN_LENGTH, is a bad token (401), not an outage. A
// cached token is served throughout, without IAM.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import request from 'supertest';
import { TaskStatus } from '../src/tasks/task-state.js';
import { assertOmsError, assertStopped, stop } from './support/stop-checks.js';
import { emptyTables, insertTask, startTestApp, type TestApp } from './support/test-app.js';

const PROJECT = 'flood-project';
const by = (userId: string) => ({ projectId: PROJECT, userId });
const junk = () => `junk-${randomBytes(18).toString('base64url')}`;

/** /health/ready's view of the token circuit: present on today's code and after. */
async function tokenCircuit(t: TestApp): Promise<string> {
  return (await request(t.server).get('/health/ready')).body.checks.iam.circuit;
}

describe('a flood of random tokens against a slow but healthy IAM', () => {
  // IAM answers every validation, in 350-400 ms: slow, but always well within
  // the timeout once a call is on its way.
  const IAM_MS = 350;
  const IAM_TIMEOUT_MS = 1000;
  // Five times the service's 64 connections to IAM: the last of the flood
  // wait four rounds of IAM_MS for a connection, longer than the timeout.
  const FLOOD = 5 * 64;
  let t: TestApp;
  before(async () => {
    t = await startTestApp({
      // A low threshold makes the test decisive; with nothing but IAM's own
      // failures counted there is nothing to count, whatever the threshold.
      env: { IAM_TIMEOUT_MS: String(IAM_TIMEOUT_MS), IAM_CIRCUIT_FAILURE_THRESHOLD: '2' },
    });
  });
  after(async () => t.close());

  test('a cached token is served during it; a fresh valid token right after; the circuit stays closed', async () => {
    await emptyTables(t.db);
    const cached = t.keystone.issue({ projectId: PROJECT, userId: 'cached-user' });
    const warm = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    await assertStopped(t.db, await stop(t, PROJECT, warm, cached), warm, by('cached-user'));
    await emptyTables(t.db);

    t.keystone.latency = (method, path) =>
      method === 'GET' && path === '/v3/auth/tokens' ? IAM_MS + Math.random() * 50 : 0;
    const fresh = () => t.keystone.issue({ projectId: PROJECT, userId: 'fresh-user' });
    let flooding = true;
    const flood = Promise.all(
      Array.from({ length: FLOOD }, () => stop(t, PROJECT, '1', junk())),
    ).finally(() => (flooding = false));

    // During the flood: the cached token never waits for IAM. A fresh valid
    // token waits in the same queue as the junk: it is served, or refused
    // with a 503 that says to retry.
    const mid = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const midAnswer = stop(t, PROJECT, mid, fresh());
    let rounds = 0;
    while (flooding) {
      rounds++;
      const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
      await assertStopped(t.db, await stop(t, PROJECT, id, cached), id, by('cached-user'));
    }
    assert.ok(rounds > 1, 'the flood was over before the cached token was tried');
    assert.equal(t.keystone.validationCount(cached), 1, 'the cached token was sent to IAM');
    const midRes = await midAnswer;
    if (midRes.status === 200) await assertStopped(t.db, midRes, mid, by('fresh-user'));
    else assertOmsError(midRes, 503, 'OMS.2004', /IAM/);

    const answers = await flood;
    for (const res of answers) {
      if (res.status === 401) assertOmsError(res, 401, 'APIGW.0301');
      else assertOmsError(res, 503, 'OMS.2004', /IAM/);
    }
    assert.ok(
      answers.some((res) => res.status === 401),
      'IAM answered none of the flood: it was not a healthy IAM',
    );

    // Right after: IAM was never at fault, so the circuit is closed and a
    // token nobody has validated yet is served (IAM is still slow).
    assert.equal(await tokenCircuit(t), 'closed');
    const next = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const user = by('fresh-user');
    await assertStopped(t.db, await stop(t, PROJECT, next, fresh()), next, user);
  });
});

describe('tokens longer than the IAM front end accepts', () => {
  const THRESHOLD = 3;
  let t: TestApp;
  before(async () => {
    t = await startTestApp({
      env: { IAM_CIRCUIT_FAILURE_THRESHOLD: String(THRESHOLD), IAM_MAX_TOKEN_LENGTH: '4000' },
    });
  });
  after(async () => t.close());
  beforeEach(async () => {
    t.keystone.maxHeaderValueLength = undefined;
    await emptyTables(t.db);
  });

  test('refused by the front end with 400 (as Apache does): 401 each, the circuit stays closed', async () => {
    // Apache answers 400 to a header over 8,190 bytes; here over 3,000.
    t.keystone.maxHeaderValueLength = 3000;
    const before = t.keystone.validationCount();
    for (let i = 0; i < THRESHOLD * 3; i++) {
      const token = `${junk()}${'j'.repeat(3000)}`;
      assertOmsError(await stop(t, PROJECT, '1', token), 401, 'APIGW.0301');
    }
    assert.equal(t.keystone.validationCount() - before, THRESHOLD * 3, 'each one asked IAM');
    assert.equal(await tokenCircuit(t), 'closed');
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const token = t.keystone.issue({ projectId: PROJECT, userId: 'after-junk' });
    await assertStopped(t.db, await stop(t, PROJECT, id, token), id, by('after-junk'));
  });

  test('over IAM_MAX_TOKEN_LENGTH: 401 without asking IAM; at the bound IAM is asked', async () => {
    const before = t.keystone.validationCount();
    for (let i = 0; i < THRESHOLD * 3; i++) {
      const token = `${junk()}${'j'.repeat(4000)}`;
      const res = await stop(t, PROJECT, '1', token);
      assertOmsError(res, 401, 'APIGW.0301', /longer than/);
    }
    assert.equal(t.keystone.validationCount(), before, 'a token IAM cannot take was sent to it');
    assert.equal(await tokenCircuit(t), 'closed');

    const atBound = junk().padEnd(4000, 'j');
    assertOmsError(await stop(t, PROJECT, '1', atBound), 401, 'APIGW.0301');
    assert.equal(t.keystone.validationCount(atBound), 1);
  });
});
