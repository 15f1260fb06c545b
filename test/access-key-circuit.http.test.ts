// The access-key path against an IAM in trouble (issue 12, defect 7): once
// IAM has failed the threshold's worth of lookups in a row, signed requests
// fail fast (503) instead of each waiting IAM_TIMEOUT_MS, while keys already
// cached keep working; an unknown access key asked about again within the
// negative cache's TTL costs IAM nothing; and token checks that fill their
// connections to IAM do not hold up the credential reads, which have their own.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import request from 'supertest';
import { TaskStatus } from '../src/tasks/task-state.js';
import { FAKE_SERVICE_IDENTITY } from './support/fake-keystone.js';
import { parseMetrics, valueOf } from './support/metrics-text.js';
import { waitUntil } from './support/wait-until.js';
import { sendSigned, type AccessKeyPair } from './support/sdk-signing.js';
import {
  assertOmsError,
  assertStopped,
  assertUnchanged,
  stop,
  stopPath,
} from './support/stop-checks.js';
import { emptyTables, insertTask, startTestApp, type TestApp } from './support/test-app.js';

const PROJECT = 'project-1';
const USER = 'ak-user';
const by = { projectId: PROJECT, userId: USER };

function signedStop(t: TestApp, key: AccessKeyPair, taskId: string) {
  return sendSigned(t.port, key, {
    method: 'POST',
    path: stopPath(PROJECT, taskId),
    headers: { 'X-Project-Id': PROJECT },
  });
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
}

describe('IAM hanging on access-key lookups', () => {
  const IAM_TIMEOUT_MS = 1500;
  const THRESHOLD = 3;
  let t: TestApp;
  before(async () => {
    t = await startTestApp({
      env: {
        ...FAKE_SERVICE_IDENTITY,
        IAM_TIMEOUT_MS: String(IAM_TIMEOUT_MS),
        IAM_CIRCUIT_FAILURE_THRESHOLD: String(THRESHOLD),
        // No probe within the test: every request after the threshold fails fast.
        IAM_CIRCUIT_PROBE_INTERVAL_MS: '600000',
      },
    });
  });
  after(async () => t.close());

  test('after the threshold, signed requests fail fast without asking IAM; a cached key still works', async () => {
    await emptyTables(t.db);
    const cached = t.keystone.addAccessKey({ userId: USER, projectId: PROJECT });
    const warm = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    await assertStopped(t.db, await signedStop(t, cached, warm), warm, by);
    await emptyTables(t.db);

    t.keystone.mode = 'hang';
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const fresh = () => t.keystone.addAccessKey({ userId: USER, projectId: PROJECT });
    for (let i = 0; i < THRESHOLD; i++) {
      assertOmsError(await signedStop(t, fresh(), id), 503, 'OMS.2004', /IAM/);
    }
    const reads = t.keystone.credentialReads;
    for (let i = 0; i < 5; i++) {
      const [res, ms] = await timed(() => signedStop(t, fresh(), id));
      assertOmsError(res, 503, 'OMS.2004', /IAM/);
      assert.ok(ms < IAM_TIMEOUT_MS / 2, `a signed request waited ${Math.round(ms)} ms`);
    }
    assert.equal(t.keystone.credentialReads, reads, 'IAM was asked while the circuit was open');
    await assertUnchanged(t.db, id, TaskStatus.Migrating);

    const ready = await request(t.server).get('/health/ready');
    assert.equal(ready.body.checks.iam.accessKeyCircuit, 'open');
    assert.equal(ready.body.checks.iam.circuit, 'closed', 'the token circuit is its own');
    const samples = parseMetrics((await request(t.server).get('/metrics')).text);
    const state = (circuit: string, s: string) =>
      valueOf(samples, 'oms_iam_circuit_state', { circuit, state: s });
    assert.equal(state('access_key', 'open'), 1);
    assert.equal(state('token', 'closed'), 1);

    // A key cached before the outage does not need IAM.
    await assertStopped(t.db, await signedStop(t, cached, id), id, by);
    t.keystone.mode = 'ok';
  });
});

describe('unknown access keys', () => {
  let t: TestApp;
  before(async () => (t = await startTestApp({ env: FAKE_SERVICE_IDENTITY })));
  after(async () => t.close());
  beforeEach(async () => emptyTables(t.db));

  test('the same unknown key, again and again: one credential read from IAM', async () => {
    const unknown = {
      accessKey: `AK${randomBytes(9).toString('hex').toUpperCase()}`,
      secretKey: randomBytes(20).toString('base64url'),
    };
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const reads = t.keystone.credentialReads;
    for (let i = 0; i < 5; i++) {
      assertOmsError(await signedStop(t, unknown, id), 401, 'APIGW.0301', /access key is unknown/);
    }
    assert.equal(t.keystone.credentialReads - reads, 1);
    await assertUnchanged(t.db, id, TaskStatus.Migrating);

    // Another unknown key is asked about in its own right.
    const other = { ...unknown, accessKey: `${unknown.accessKey}X` };
    assertOmsError(await signedStop(t, other, id), 401, 'APIGW.0301', /access key is unknown/);
    assert.equal(t.keystone.credentialReads - reads, 2);
  });
});

describe('token checks and credential reads do not share connections', () => {
  const IAM_TIMEOUT_MS = 1500;
  // More than the 64 connections token checks may hold.
  const STUCK = 80;
  let t: TestApp;
  before(async () => {
    t = await startTestApp({
      env: {
        ...FAKE_SERVICE_IDENTITY,
        IAM_TIMEOUT_MS: String(IAM_TIMEOUT_MS),
        IAM_CIRCUIT_FAILURE_THRESHOLD: '0',
      },
    });
  });
  after(async () => t.close());

  test('token validations stuck in IAM: a signed request is still served', async () => {
    await emptyTables(t.db);
    const warm = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const key = t.keystone.addAccessKey({ userId: USER, projectId: PROJECT });
    await assertStopped(t.db, await signedStop(t, key, warm), warm, by); // the service token
    await emptyTables(t.db);

    // Token validations never answer in time; everything else is merely slow
    // (a lookup costs two of these in a row, well within the timeout).
    t.keystone.latency = (method, path) =>
      method === 'GET' && path === '/v3/auth/tokens' ? IAM_TIMEOUT_MS * 10 : IAM_TIMEOUT_MS / 4;
    const stuck = Promise.all(
      Array.from({ length: STUCK }, () => stop(t, PROJECT, '1', t.keystone.issue())),
    );
    // Until the stuck validations hold every connection they may have.
    await waitUntil(
      () => `only ${t.keystone.validationCount()} validations reached IAM`,
      () => t.keystone.validationCount() >= 64,
    );

    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const other = t.keystone.addAccessKey({ userId: USER, projectId: PROJECT });
    await assertStopped(t.db, await signedStop(t, other, id), id, by);
    for (const res of await stuck) assertOmsError(res, 503, 'OMS.2004', /IAM/);
    t.keystone.latency = undefined;
  });
});
