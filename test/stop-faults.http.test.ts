// Stop when something breaks: IAM failing, slow or gone; the database cut
// off, locked or refusing the audit row; a bug. A dependency fault is 503
// OMS.2004 with Retry-After and changes nothing; the service recovers by
// itself once the dependency is back; internals never reach the client.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { TaskStatus } from '../src/tasks/task-state.js';
import { assertOmsError, assertStopped, assertUnchanged, stop } from './support/stop-checks.js';
import { TcpProxy } from './support/tcp-proxy.js';
import {
  emptyTables,
  insertTask,
  startTestApp,
  testDatabaseUrl,
  type TestApp,
} from './support/test-app.js';

const PROJECT = 'project-1';
const USER = 'u-faults';
const IAM_TIMEOUT_MS = 300;

describe('503 OMS.2004 when IAM is unavailable', () => {
  let t: TestApp;
  before(async () => (t = await startTestApp({ env: { IAM_TIMEOUT_MS: String(IAM_TIMEOUT_MS) } })));
  after(async () => t.close());
  beforeEach(async () => {
    t.keystone.mode = 'ok';
    t.keystone.delayMs = 0;
    await emptyTables(t.db);
  });

  /** Stops with a fresh token while IAM is broken, then again once IAM is back. */
  /**
   * `resetsConnections`: IAM resets each connection, and a validation that
   * went out on a connection kept from an earlier answer is sent once more
   * (it may only have met a connection IAM was closing), so IAM sees it once
   * or twice.
   */
  async function unavailableThenRecovered(resetsConnections = false): Promise<number> {
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const token = t.keystone.issue({ projectId: PROJECT, userId: USER });
    const started = Date.now();
    const res = await stop(t, PROJECT, id, token);
    const elapsed = Date.now() - started;
    assertOmsError(res, 503, 'OMS.2004', /IAM/);
    const asked = t.keystone.validationCount(token);
    assert.ok(asked === 1 || (resetsConnections && asked === 2), `IAM asked ${asked} times`);
    await assertUnchanged(t.db, id, TaskStatus.Migrating);

    t.keystone.mode = 'ok';
    t.keystone.delayMs = 0;
    await assertStopped(t.db, await stop(t, PROJECT, id, token), id, {
      projectId: PROJECT,
      userId: USER,
    });
    assert.equal(t.keystone.validationCount(token), asked + 1, 'the failure must not be cached');
    return elapsed;
  }

  test('IAM answers 500; once it is well, the next stop is 200', async () => {
    t.keystone.mode = 'error';
    await unavailableThenRecovered();
  });

  test('IAM resets the connection; once it is well, the next stop is 200', async () => {
    t.keystone.mode = 'reset';
    await unavailableThenRecovered(true);
  });

  test('IAM never answers: 503 after IAM_TIMEOUT_MS, not a hang', async () => {
    t.keystone.mode = 'hang';
    const elapsed = await unavailableThenRecovered();
    assert.ok(elapsed >= IAM_TIMEOUT_MS - 50, `answered after ${elapsed} ms, before the timeout`);
    assert.ok(elapsed < IAM_TIMEOUT_MS + 1500, `answered after ${elapsed} ms`);
  });

  test('IAM would answer, but later than IAM_TIMEOUT_MS: 503', async () => {
    t.keystone.delayMs = IAM_TIMEOUT_MS * 4;
    const elapsed = await unavailableThenRecovered();
    assert.ok(elapsed < IAM_TIMEOUT_MS * 4, `waited ${elapsed} ms for IAM`);
  });

  test('IAM slow but within IAM_TIMEOUT_MS: 200', async () => {
    t.keystone.delayMs = IAM_TIMEOUT_MS / 3;
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const token = t.keystone.issue({ projectId: PROJECT, userId: USER });
    const res = await stop(t, PROJECT, id, token);
    await assertStopped(t.db, res, id, { projectId: PROJECT, userId: USER });
  });

  test('IAM stopped (connection refused)', async () => {
    const own = await startTestApp({ env: { IAM_TIMEOUT_MS: String(IAM_TIMEOUT_MS) } });
    try {
      await emptyTables(own.db);
      const id = await insertTask(own.db, PROJECT, TaskStatus.Migrating);
      const token = own.keystone.issue({ projectId: PROJECT, userId: USER });
      await own.keystone.stop();
      assertOmsError(await stop(own, PROJECT, id, token), 503, 'OMS.2004', /IAM/);
      await assertUnchanged(own.db, id, TaskStatus.Migrating);
    } finally {
      await own.close();
    }
  });
});

describe('503 OMS.2004 when the database is unavailable', () => {
  let proxy: TcpProxy;
  let t: TestApp;
  let token: string;

  before(async () => {
    const direct = new URL(testDatabaseUrl());
    proxy = await TcpProxy.start(direct.hostname, Number(direct.port || 5432));
    const viaProxy = new URL(direct);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    t = await startTestApp({
      databaseUrl: viaProxy.toString(),
      env: { DATABASE_CONNECT_TIMEOUT_MS: '500', DATABASE_STATEMENT_TIMEOUT_MS: '500' },
    });
    token = t.keystone.issue({ projectId: PROJECT, userId: USER });
  });
  after(async () => {
    proxy.restore();
    await t.close();
    await proxy.stop();
  });
  beforeEach(async () => {
    proxy.restore();
    await emptyTables(t.db); // t.db goes straight to PostgreSQL, not through the proxy
  });

  const paused = { projectId: PROJECT, userId: USER };

  test('connection cut: 503, nothing changed; after restore the same app answers 200', async () => {
    // Warm up: the pool holds open connections when the cut comes.
    const warm = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    await assertStopped(t.db, await stop(t, PROJECT, warm, token), warm, paused);
    await emptyTables(t.db);

    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    proxy.cut();
    const first = await stop(t, PROJECT, id, token);
    assertOmsError(first, 503, 'OMS.2004', /database/);
    // Still cut: new connections are refused too.
    assertOmsError(await stop(t, PROJECT, id, token), 503, 'OMS.2004', /database/);
    await assertUnchanged(t.db, id, TaskStatus.Migrating);

    proxy.restore();
    await assertStopped(t.db, await stop(t, PROJECT, id, token), id, paused);
  });

  test('a row locked past DATABASE_STATEMENT_TIMEOUT_MS: 503, nothing changed', async () => {
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const locker = await t.db.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM tasks WHERE id = $1 FOR UPDATE', [id]);
      const started = Date.now();
      const res = await stop(t, PROJECT, id, token);
      assertOmsError(res, 503, 'OMS.2004', /database/);
      assert.ok(Date.now() - started < 3000, `answered after ${Date.now() - started} ms`);
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
    await assertUnchanged(t.db, id, TaskStatus.Migrating);
    await assertStopped(t.db, await stop(t, PROJECT, id, token), id, paused);
  });
});

describe('500 OMS.2000 for a fault nobody expected', () => {
  test('a TypeError inside authentication: no message, no stack in the answer', async () => {
    const t = await startTestApp({
      tokenValidator: {
        validate: async () => {
          throw new TypeError('secret internals');
        },
      },
    });
    try {
      await emptyTables(t.db);
      const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
      const res = await stop(t, PROJECT, id, 'any-token');
      assertOmsError(res, 500, 'OMS.2000');
      for (const leak of ['secret internals', 'TypeError', 'stack', '.js:', 'node_modules']) {
        assert.ok(!res.text.includes(leak), `the answer gives away "${leak}": ${res.text}`);
      }
      await assertUnchanged(t.db, id, TaskStatus.Migrating);
    } finally {
      await t.close();
    }
  });

  test('the audit row cannot be written: the task is not paused either', async () => {
    const t = await startTestApp();
    const token = t.keystone.issue({ projectId: PROJECT, userId: USER });
    // NOT VALID: existing rows are not checked, every new one is refused.
    await t.db.query(
      'ALTER TABLE task_transitions ADD CONSTRAINT test_refuse_audit CHECK (false) NOT VALID',
    );
    try {
      await emptyTables(t.db);
      const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
      const res = await stop(t, PROJECT, id, token);
      assertOmsError(res, 500, 'OMS.2000');
      assert.ok(!res.text.includes('test_refuse_audit'), res.text);
      await assertUnchanged(t.db, id, TaskStatus.Migrating);
    } finally {
      await t.db.query('ALTER TABLE task_transitions DROP CONSTRAINT test_refuse_audit');
      await t.close();
    }
  });
});
