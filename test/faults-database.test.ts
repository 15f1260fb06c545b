// The database fails under the service: stopped (fast and immediate) while
// stops are pouring in, and a connection lost between the commit and its
// answer. Every answer during the outage is 503 OMS.2004 within a bound, the
// same process recovers once the database is back, and the ledger is exact:
// each 200 is a paused task with one audit row naming its request, and no
// task moved without one.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { TaskStatus } from '../src/tasks/task-state.js';
import { FakeKeystone } from './support/fake-keystone.js';
import {
  killServiceProcess,
  startServiceProcess,
  type ServiceProcess,
} from './support/service-process.js';
import { assertOmsError, assertStopped, assertUnchanged, stop } from './support/stop-checks.js';
import { checkLedger, seedMigratingTasks, StopLoad } from './support/stop-load.js';
import { createBody, TaskApi } from './support/task-api.js';
import { TcpProxy } from './support/tcp-proxy.js';
import {
  allAuditRows,
  auditRows,
  emptyTables,
  insertTask,
  startTestApp,
  taskStatus,
  testDatabaseUrl,
} from './support/test-app.js';
import { waitUntil } from './support/wait-until.js';
import { recreateTestDatabase } from './support/test-database.js';
import { ThrowawayPostgres } from './support/throwaway-postgres.js';

const USER = 'u-faults-db';
const CONNECT_TIMEOUT_MS = 1000;
const STATEMENT_TIMEOUT_MS = 1000;
/**
 * The longest an answer may take while the database is gone: a connection
 * attempt, a statement, the client-side read timeout, and the look for a
 * committed move, with room for a loaded machine. Beyond it, a hang.
 */
const ANSWER_BOUND_MS = 2 * (CONNECT_TIMEOUT_MS + STATEMENT_TIMEOUT_MS + 1000) + 4000;

/** A client of its own per use: the server it talks to is stopped on purpose. */
async function withDb<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

describe('the database stopped under load', () => {
  let server: ThrowawayPostgres;
  let url: string;
  let keystone: FakeKeystone;
  let service: ServiceProcess;
  let baseUrl: string;

  before(async () => {
    server = await ThrowawayPostgres.create();
    url = server.url('oms_faults_test');
    await recreateTestDatabase(url);
    keystone = await FakeKeystone.start();
    service = startServiceProcess({
      NODE_ENV: 'production',
      DATABASE_URL: url,
      IAM_ENDPOINT: keystone.endpoint,
      DATABASE_POOL_SIZE: '8',
      DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
      DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
      LOG_LEVEL: 'info',
    });
    baseUrl = `http://127.0.0.1:${await service.port}`;
  });
  after(async () => {
    await killServiceProcess(service);
    await keystone?.stop();
    await server?.destroy();
  });

  for (const mode of ['fast', 'immediate'] as const) {
    test(`pg_ctl stop -m ${mode} mid-load: 503s within a bound, recovery, exact ledger`, async () => {
      const project = `faults-db-${mode}`;
      const token = keystone.issue({ projectId: project, userId: USER });
      const taskIds = await withDb(url, (db) => seedMigratingTasks(db, project, 10_000));
      const load = new StopLoad({
        baseUrl,
        projectId: project,
        token,
        taskIds,
        concurrency: 12,
        timeoutMs: ANSWER_BOUND_MS,
        duplicateEvery: 5,
        requestIdPrefix: `db-${mode}`,
        backoffMs: 20,
      }).start();

      await load.waitFor((o) => o.status === 200, 40);
      await server.stop(mode);
      const downAt = Date.now();
      await sleep(1500);
      const restartAt = Date.now();
      await server.start();
      // Recovered: stops sent after the restart succeed, same process.
      await load.waitFor((o) => o.status === 200 && o.startedAt >= restartAt, 40);
      const outcomes = await load.halt();

      const outage = outcomes.filter((o) => o.startedAt >= downAt && o.endedAt <= restartAt);
      assert.ok(outage.length >= 10, `only ${outage.length} requests during the outage`);
      for (const o of outage) assertOmsError(o, 503, 'OMS.2004', /database/);
      const slowest = Math.max(...outcomes.map((o) => o.endedAt - o.startedAt));
      for (const o of outcomes) {
        assert.ok(o.status !== 0, `no answer to ${o.requestId}: ${o.error}`);
        assert.ok(o.status < 500 || o.status === 503, `${o.status} for ${o.requestId}: ${o.text}`);
      }
      assert.equal(service.child.exitCode, null, 'the service must survive the outage');

      const counts = await withDb(url, (db) => checkLedger(db, project, USER, outcomes));
      console.log(`stop -m ${mode}:`, { ...counts, outage: outage.length, slowestMs: slowest });
      assert.ok(counts.ok >= 80);
      assert.ok(counts.unavailable >= outage.length);
    });
  }
});

describe('a connection lost after the commit, before the answer', () => {
  // The service reaches PostgreSQL through a proxy that can drop the answer
  // to a statement the server has already run.
  let proxy: TcpProxy;
  const PROJECT = 'project-lost-answer';

  before(async () => (proxy = await TcpProxy.inFrontOf(testDatabaseUrl())));
  after(async () => proxy.stop());

  async function appViaProxy() {
    // One connection, so the stop runs on the one whose answer is lost.
    const t = await startTestApp({
      databaseUrl: proxy.urlThrough(testDatabaseUrl()),
      env: { DATABASE_POOL_SIZE: '1', DATABASE_STATEMENT_TIMEOUT_MS: '1000' },
    });
    await emptyTables(t.db);
    const token = t.keystone.issue({ projectId: PROJECT, userId: USER });
    const warm = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    await assertStopped(t.db, await stop(t, PROJECT, warm, token), warm, {
      projectId: PROJECT,
      userId: USER,
    });
    await emptyTables(t.db);
    return { t, token };
  }

  test('the move committed: the service finds its audit row and answers 200', async () => {
    const { t, token } = await appViaProxy();
    try {
      const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
      proxy.loseNextAnswers();
      const res = await stop(t, PROJECT, id, token);
      await assertStopped(t.db, res, id, { projectId: PROJECT, userId: USER });
    } finally {
      await t.close();
    }
  });

  test('the move found nothing to do: still 503, nothing changed', async () => {
    const { t, token } = await appViaProxy();
    try {
      const id = await insertTask(t.db, PROJECT, TaskStatus.Paused);
      proxy.loseNextAnswers();
      assertOmsError(await stop(t, PROJECT, id, token), 503, 'OMS.2004', /database/);
      await assertUnchanged(t.db, id, TaskStatus.Paused);
    } finally {
      await t.close();
    }
  });

  test("a request id used before: an older move with it is not taken for this one's", async () => {
    const { t, token } = await appViaProxy();
    try {
      // Paused once by a request "reused-id", started again since: waiting.
      const id = await insertTask(t.db, PROJECT, TaskStatus.Waiting);
      await t.db.query(
        `INSERT INTO task_transitions
           (task_id, project_id, action, from_status, to_status, user_id, request_id)
         VALUES ($1, $2, 'stop', 2, 3, $3, 'reused-id'), ($1, $2, 'start', 3, 1, $3, 'a-later-start')`,
        [id, PROJECT, USER],
      );
      const history = await auditRows(t.db, id);
      proxy.loseNextAnswers();
      const res = await stop(t, PROJECT, id, token).set('X-Request-Id', 'reused-id');
      assertOmsError(res, 503, 'OMS.2004', /database/);
      assert.equal(await taskStatus(t.db, id), TaskStatus.Waiting);
      assert.deepEqual(await auditRows(t.db, id), history);
    } finally {
      await t.close();
    }
  });
});

describe('create and bandwidth: a connection lost after the commit, before the answer', () => {
  // The same rule as for moves: the audit row naming the request says
  // whether the write committed. Found, the answer is the write's own; not
  // found, 503 and nothing changed.
  let proxy: TcpProxy;
  const PROJECT = 'project-lost-write';

  before(async () => (proxy = await TcpProxy.inFrontOf(testDatabaseUrl())));
  after(async () => proxy.stop());

  async function appViaProxy() {
    const t = await startTestApp({
      databaseUrl: proxy.urlThrough(testDatabaseUrl()),
      env: { DATABASE_POOL_SIZE: '1', DATABASE_STATEMENT_TIMEOUT_MS: '1000' },
    });
    await emptyTables(t.db);
    const api = new TaskApi(t, PROJECT, t.keystone.issue({ projectId: PROJECT, userId: USER }));
    return { t, api };
  }

  async function projectTasks(db: pg.Pool) {
    const { rows } = await db.query(
      'SELECT id, name, status, bandwidth_policy FROM tasks JOIN task_details ON task_id = id WHERE project_id = $1 ORDER BY id',
      [PROJECT],
    );
    return rows as { id: string; name: string; status: number; bandwidth_policy: unknown }[];
  }

  test('create committed: 200 with the created task, one row, one audit row, no duplicate', async () => {
    const { t, api } = await appViaProxy();
    try {
      proxy.loseAnswerTo('COMMIT');
      const res = await api.create(createBody()).set('X-Request-Id', 'create-lost-commit');
      assert.equal(res.status, 200, res.text);
      const tasks = await projectTasks(t.db);
      assert.equal(tasks.length, 1, 'exactly one task: nothing for the client to retry');
      assert.deepEqual(res.body, { id: Number(tasks[0].id), task_name: tasks[0].name });
      const audit = await auditRows(t.db, tasks[0].id);
      assert.deepEqual(
        audit.map((row) => [
          row.action,
          row.from_status,
          row.to_status,
          row.user_id,
          row.request_id,
        ]),
        [['create', null, TaskStatus.Waiting, USER, 'create-lost-commit']],
      );
      const shown = await api.show(res.body.id);
      assert.equal(shown.status, 200, shown.text);
      assert.equal(shown.body.name, res.body.task_name);
    } finally {
      await t.close();
    }
  });

  test('create lost before its commit: 503, no task, no audit row', async () => {
    const { t, api } = await appViaProxy();
    try {
      proxy.loseAnswerTo('INSERT INTO tasks');
      assertOmsError(await api.create(createBody()), 503, 'OMS.2004', /database/);
      assert.deepEqual(await projectTasks(t.db), []);
      assert.deepEqual(await allAuditRows(t.db), []);
    } finally {
      await t.close();
    }
  });

  test('bandwidth committed: 200, the policy set, one audit row naming the request', async () => {
    const { t, api } = await appViaProxy();
    try {
      const id = (await api.create(createBody())).body.id;
      const policy = [{ start: '01:00', end: '05:00', max_bandwidth: 2_097_152 }];
      proxy.loseAnswerTo('bandwidth_policy =');
      const res = await api
        .setBandwidth(id, { bandwidth_policy: policy })
        .set('X-Request-Id', 'bandwidth-lost-commit');
      assert.equal(res.status, 200, res.text);
      const [task] = await projectTasks(t.db);
      assert.deepEqual(task.bandwidth_policy, policy);
      const audit = await auditRows(t.db, String(id));
      assert.deepEqual(
        audit.map((row) => [row.action, row.from_status, row.to_status, row.request_id]),
        [
          ['create', null, TaskStatus.Waiting, audit[0].request_id],
          ['update_bandwidth', task.status, task.status, 'bandwidth-lost-commit'],
        ],
      );
    } finally {
      await t.close();
    }
  });

  test('bandwidth of a finished task, answer lost: 503, nothing changed', async () => {
    const { t, api } = await appViaProxy();
    try {
      const id = await insertTask(t.db, PROJECT, TaskStatus.Succeeded);
      proxy.loseAnswerTo('bandwidth_policy =');
      const res = await api.setBandwidth(id, {
        bandwidth_policy: [{ start: '01:00', end: '05:00', max_bandwidth: 2_097_152 }],
      });
      // The write found nothing to change; its lost answer is 503, never a 200.
      assertOmsError(res, 503, 'OMS.2004', /database/);
      const [task] = await projectTasks(t.db);
      assert.deepEqual(task.bandwidth_policy, []);
      assert.deepEqual(await allAuditRows(t.db), []);
    } finally {
      await t.close();
    }
  });
});

describe('the network to the database stalls', () => {
  // Nothing refuses or resets: only the service's own connect and statement
  // timeouts can turn the silence into an answer.
  const PROJECT = 'project-stalled-db';
  const paused = { projectId: PROJECT, userId: USER };

  test('503 within the bound for pooled and new connections alike; recovery once it heals', async () => {
    const proxy = await TcpProxy.inFrontOf(testDatabaseUrl());
    const t = await startTestApp({
      databaseUrl: proxy.urlThrough(testDatabaseUrl()),
      env: {
        DATABASE_POOL_SIZE: '4',
        DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
        DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
      },
    });
    try {
      await emptyTables(t.db);
      const token = t.keystone.issue({ projectId: PROJECT, userId: USER });
      // Four pooled connections open when the network stalls.
      const warm = await Promise.all(
        Array.from({ length: 4 }, () => insertTask(t.db, PROJECT, TaskStatus.Migrating)),
      );
      const warmed = await Promise.all(warm.map((id) => stop(t, PROJECT, id, token)));
      for (const [i, res] of warmed.entries()) await assertStopped(t.db, res, warm[i], paused);

      proxy.freeze();
      const ids = await Promise.all(
        Array.from({ length: 12 }, () => insertTask(t.db, PROJECT, TaskStatus.Migrating)),
      );
      const started = Date.now();
      const answers = await Promise.all(
        ids.map(async (id) => {
          const res = await stop(t, PROJECT, id, token).timeout(ANSWER_BOUND_MS);
          return { res, ms: Date.now() - started };
        }),
      );
      for (const { res, ms } of answers) {
        assertOmsError(res, 503, 'OMS.2004', /database/);
        assert.ok(ms < ANSWER_BOUND_MS, `answered after ${ms} ms`);
      }

      proxy.thaw();
      const recovered = await waitUntil(
        'a stop to succeed once the network is back',
        async () => {
          const res = await stop(t, PROJECT, ids[0], token);
          return res.status === 200 && res;
        },
        { everyMs: 200 },
      );
      await assertStopped(t.db, recovered, ids[0], paused);
      for (const id of ids.slice(1)) {
        assert.equal(await taskStatus(t.db, id), TaskStatus.Migrating);
        assert.deepEqual(await auditRows(t.db, id), []);
      }
      console.log(`stalled: slowest 503 after ${Math.max(...answers.map((a) => a.ms))} ms`);
    } finally {
      await t.close();
      await proxy.stop();
    }
  });
});

describe('batch update: a connection lost after the commit, before the answer', () => {
  // All or nothing, settled by the batch's audit rows: every task's latest
  // row is this request's → 200; none → 503 and nothing changed.
  let proxy: TcpProxy;
  const PROJECT = 'project-lost-batch';
  const POLICY = [{ start: '01:00', end: '05:00', max_bandwidth: 2_097_152 }];

  before(async () => (proxy = await TcpProxy.inFrontOf(testDatabaseUrl())));
  after(async () => proxy.stop());

  async function appViaProxy() {
    const t = await startTestApp({
      databaseUrl: proxy.urlThrough(testDatabaseUrl()),
      env: { DATABASE_POOL_SIZE: '1', DATABASE_STATEMENT_TIMEOUT_MS: '1000' },
    });
    await emptyTables(t.db);
    const api = new TaskApi(t, PROJECT, t.keystone.issue({ projectId: PROJECT, userId: USER }));
    const ids = [
      await insertTask(t.db, PROJECT, TaskStatus.Paused),
      await insertTask(t.db, PROJECT, TaskStatus.Waiting),
    ];
    return { t, api, ids };
  }

  async function policies(db: pg.Pool) {
    const { rows } = await db.query(
      'SELECT bandwidth_policy FROM tasks JOIN task_details ON task_id = id ORDER BY id',
    );
    return rows.map((row) => row.bandwidth_policy);
  }

  test('committed: 200, every task changed, one audit row each naming the request', async () => {
    const { t, api, ids } = await appViaProxy();
    try {
      proxy.loseAnswerTo('COMMIT');
      const res = await api
        .batchUpdate({ ids: ids.map(Number), bandwidth_policy: POLICY })
        .set('X-Request-Id', 'batch-lost-commit');
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(await policies(t.db), [POLICY, POLICY]);
      assert.deepEqual(
        (await allAuditRows(t.db)).map((row) => [row.task_id, row.action, row.request_id]).sort(),
        [
          [ids[0], 'batch_update', 'batch-lost-commit'],
          [ids[1], 'batch_update', 'batch-lost-commit'],
        ],
      );
    } finally {
      await t.close();
    }
  });

  test('lost before its commit: 503, no task changed, no audit row', async () => {
    const { t, api, ids } = await appViaProxy();
    try {
      proxy.loseAnswerTo('COALESCE');
      const res = await api.batchUpdate({ ids: ids.map(Number), bandwidth_policy: POLICY });
      assertOmsError(res, 503, 'OMS.2004', /database/);
      assert.deepEqual(await policies(t.db), [[], []]);
      assert.deepEqual(await allAuditRows(t.db), []);
    } finally {
      await t.close();
    }
  });
});
