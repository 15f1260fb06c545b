// Who may stop a task: the X-Auth-Token guard (401 APIGW.0301), the access
// policy (403 OMS.0206), and the token cache in front of IAM, whose effect
// is counted on the Keystone double.

import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { TaskStatus } from '../src/tasks/task-state.js';
import { ManualClock } from './support/manual-clock.js';
import { rawHttp } from './support/raw-http.js';
import {
  assertOmsError,
  assertStopped,
  assertTokenRefusedOnTheWire,
  assertUnchanged,
  stop,
  stopPath,
} from './support/stop-checks.js';
import {
  auditRows,
  emptyTables,
  insertTask,
  startTestApp,
  taskStatus,
  type TestApp,
  type TestAppOptions,
} from './support/test-app.js';

const PROJECT = 'project-1';
const UNAUTHENTICATED = /^Incorrect IAM authentication information: /;
const NO_WRITER_ROLE = /no role that may make changes/;

describe('401 APIGW.0301 for credentials that are not good', () => {
  let t: TestApp;
  before(async () => (t = await startTestApp()));
  after(async () => t.close());
  beforeEach(async () => emptyTables(t.db));

  /** Sent byte for byte, so that "empty" and "absent" are what go on the wire. */
  async function refused(token: string | undefined, iamCalls: number) {
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const before = t.keystone.validationCount();
    const head = [`POST ${stopPath(PROJECT, id)} HTTP/1.1`];
    if (token !== undefined) head.push(`X-Auth-Token: ${token}`);
    const res = await rawHttp(t.port, head);
    assertOmsError(res, 401, 'APIGW.0301', UNAUTHENTICATED);
    assert.equal(t.keystone.validationCount() - before, iamCalls, 'IAM validations');
    await assertUnchanged(t.db, id, TaskStatus.Migrating);
  }

  test('no X-Auth-Token: IAM not asked', () => refused(undefined, 0));

  test('an empty X-Auth-Token: IAM not asked', () => refused('', 0));

  test('a token IAM does not know', () => refused('never-issued-token', 1));

  test('an expired token', () =>
    refused(t.keystone.issue({ projectId: PROJECT, expiresAt: Date.now() - 1000 }), 1));

  test('a token revoked before its first use', () => {
    const token = t.keystone.issue({ projectId: PROJECT });
    t.keystone.revoke(token);
    return refused(token, 1);
  });

  // Each is registered in the double, so only the shape check can refuse it.
  test('a token with a non-ASCII character: IAM not asked', () =>
    refused(t.keystone.issue({ projectId: PROJECT }, 'tok\u00e9n-1234567890'), 0));

  test('a token with a tab inside: IAM not asked', () =>
    refused(t.keystone.issue({ projectId: PROJECT }, 'tok\ten-1234567890'), 0));

  test('a token with a space inside: IAM not asked', () =>
    refused(t.keystone.issue({ projectId: PROJECT }, 'tok en-1234567890'), 0));

  // A control character other than tab is not HTTP: the parser refuses the
  // request before any route sees it. It still gets an OMS answer.
  for (const [label, char] of [
    ['U+0001', '\u0001'],
    ['DEL', '\u007f'],
  ]) {
    test(`a token with ${label}: refused by the HTTP parser in the OMS shape, IAM not asked`, () =>
      assertTokenRefusedOnTheWire(
        t,
        PROJECT,
        t.keystone.issue({ projectId: PROJECT }, `tok${char}en-1234567890`),
      ));
  }
});

describe('403 OMS.0206 for a caller who may not pause this task', () => {
  let t: TestApp;
  before(async () => (t = await startTestApp()));
  after(async () => t.close());
  beforeEach(async () => emptyTables(t.db));

  /** 403 with a message that gives `reason`, and the task untouched. */
  async function forbidden(roles: string[], reason: RegExp, projectId: string | null = PROJECT) {
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const token = t.keystone.issue({ projectId, roles });
    const res = await stop(t, PROJECT, id, token);
    const body = assertOmsError(res, 403, 'OMS.0206', /^Permission denied: /);
    assert.match(body.error_msg, reason);
    await assertUnchanged(t.db, id, TaskStatus.Migrating);
  }

  async function allowed(roles: string[]) {
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const token = t.keystone.issue({ projectId: PROJECT, userId: 'u-allowed', roles });
    const res = await stop(t, PROJECT, id, token);
    await assertStopped(t.db, res, id, { projectId: PROJECT, userId: 'u-allowed' });
  }

  test('a token scoped to another project', () =>
    forbidden(['member'], /another project/, 'project-2'));

  test('a token of another project learns nothing: the same 403 for a task that does not exist', async () => {
    const token = t.keystone.issue({ projectId: 'project-2' });
    const existing = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const missing = String(BigInt(existing) + 1n);
    const a = assertOmsError(await stop(t, PROJECT, existing, token), 403, 'OMS.0206');
    const b = assertOmsError(await stop(t, PROJECT, missing, token), 403, 'OMS.0206');
    assert.equal(a.error_msg, b.error_msg);
    await assertUnchanged(t.db, existing, TaskStatus.Migrating);
  });

  test('a domain-scoped token (no project)', () =>
    forbidden(['member'], /not scoped to a project/, null));

  for (const roles of [['reader'], ['readonly'], ['viewer'], ['reader', 'readonly', 'viewer']]) {
    test(`read-only roles only: ${roles.join(', ')}`, () => forbidden(roles, NO_WRITER_ROLE));
  }

  test('read-only role names match whatever their case: Reader, VIEWER', () =>
    forbidden(['Reader', 'VIEWER'], NO_WRITER_ROLE));

  for (const roles of [
    ['op_restricted'],
    ['op_suspended'],
    ['member', 'op_restricted'],
    ['member', 'op_suspended'],
    ['admin', 'member', 'op_suspended'],
  ]) {
    test(`a restricted or suspended account: ${roles.join(', ')}`, () =>
      forbidden(roles, /restricted or suspended/));
  }

  test('a token with no roles', () => forbidden([], NO_WRITER_ROLE));

  // The other side of each rule above, so that none of them refuses everyone.
  test('allowed: member', () => allowed(['member']));
  test('allowed: a read-only role together with member', () => allowed(['reader', 'member']));
  test('allowed: a role the policy does not know, te_admin', () => allowed(['te_admin']));
});

describe('the token cache in front of IAM', () => {
  let current: TestApp | undefined;
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });

  async function app(options: TestAppOptions = {}): Promise<TestApp> {
    current = await startTestApp(options);
    await emptyTables(current.db);
    return current;
  }

  async function stopsOk(t: TestApp, token: string, count: number) {
    for (let i = 0; i < count; i++) {
      const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
      const res = await stop(t, PROJECT, id, token);
      await assertStopped(t.db, res, id, { projectId: PROJECT, userId: 'u-cache' });
    }
  }

  test('sequential stops with one token: IAM asked once', async () => {
    const t = await app();
    const token = t.keystone.issue({ projectId: PROJECT, userId: 'u-cache' });
    await stopsOk(t, token, 4);
    assert.equal(t.keystone.validationCount(token), 1);
  });

  test('10 concurrent requests with a fresh token: IAM asked once', async () => {
    const t = await app();
    const token = t.keystone.issue({ projectId: PROJECT, userId: 'u-cache' });
    // Slow enough that every request arrives while the first validation is
    // still out, so the cache cannot be what saves the other nine.
    t.keystone.delayMs = 300;
    const ids = await Promise.all(
      Array.from({ length: 10 }, () => insertTask(t.db, PROJECT, TaskStatus.Migrating)),
    );
    const responses = await Promise.all(ids.map((id) => stop(t, PROJECT, id, token)));
    for (const [i, res] of responses.entries()) {
      await assertStopped(t.db, res, ids[i], { projectId: PROJECT, userId: 'u-cache' });
    }
    assert.equal(t.keystone.validationCount(token), 1);
  });

  test('TOKEN_CACHE_TTL_SECONDS=0: every request asks IAM', async () => {
    const t = await app({ env: { TOKEN_CACHE_TTL_SECONDS: '0' } });
    const token = t.keystone.issue({ projectId: PROJECT, userId: 'u-cache' });
    await stopsOk(t, token, 3);
    assert.equal(t.keystone.validationCount(token), 3);
  });

  test('a revoked token works while cached, and is refused once the TTL has passed', async () => {
    const clock = new ManualClock();
    const t = await app({ clock, env: { TOKEN_CACHE_TTL_SECONDS: '1' } });
    const token = t.keystone.issue({ projectId: PROJECT, userId: 'u-cache' });
    await stopsOk(t, token, 1);
    t.keystone.revoke(token);
    // The documented trade-off: IAM is not asked again within the TTL.
    await stopsOk(t, token, 1);
    await clock.advance(999);
    await stopsOk(t, token, 1);
    assert.equal(t.keystone.validationCount(token), 1);

    await clock.advance(1);
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const res = await stop(t, PROJECT, id, token);
    assertOmsError(res, 401, 'APIGW.0301', UNAUTHENTICATED);
    assert.equal(t.keystone.validationCount(token), 2);
    assert.equal(await taskStatus(t.db, id), TaskStatus.Migrating);
    assert.deepEqual(await auditRows(t.db, id), []);
  });

  test('a cached token stops working when the token expires, whatever the TTL', async () => {
    const clock = new ManualClock();
    // The cache would keep it an hour; the token expires in ten minutes.
    const t = await app({ clock, env: { TOKEN_CACHE_TTL_SECONDS: '3600' } });
    // Far enough ahead that real time never reaches it: only the clock does.
    const expiresAt = clock.now() + 600_000;
    const token = t.keystone.issue({ projectId: PROJECT, userId: 'u-cache', expiresAt });
    await stopsOk(t, token, 1);
    await clock.advance(599_999);
    await stopsOk(t, token, 1);
    assert.equal(t.keystone.validationCount(token), 1, 'answered from the cache');
    await clock.advance(1);
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    assertOmsError(await stop(t, PROJECT, id, token), 401, 'APIGW.0301', UNAUTHENTICATED);
    assert.equal(await taskStatus(t.db, id), TaskStatus.Migrating);
    assert.deepEqual(await auditRows(t.db, id), []);
  });

  test('a cached token keeps working while IAM is failing', async () => {
    const t = await app();
    const token = t.keystone.issue({ projectId: PROJECT, userId: 'u-cache' });
    await stopsOk(t, token, 1);
    t.keystone.mode = 'error';
    await stopsOk(t, token, 1);
    assert.equal(t.keystone.validationCount(token), 1);
  });
});
