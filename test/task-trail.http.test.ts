// GET /v2/{project_id}/tasks/{task_id}/transitions, the task's audit trail
// over HTTP: what it answers against the rows in task_transitions, its
// paging, its bounds and refusals (each leaving the database as it was), a
// deleted task's trail, and the access line and metrics it shares with the
// other task reads.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import request from 'supertest';
import { JsonLogger } from '../src/logging/json-logger.js';
import { TaskScheduler } from '../src/tasks/task-scheduler.js';
import { TaskStatus } from '../src/tasks/task-state.js';
import { parseMetrics, valueOf } from './support/metrics-text.js';
import {
  assertOmsError,
  assertRefusedUnchanged,
  taskTablesSnapshot,
  type Answer,
} from './support/stop-checks.js';
import { TaskApi } from './support/task-api.js';
import {
  auditRows,
  emptyTables,
  insertTask,
  startTestApp,
  type TestApp,
} from './support/test-app.js';

const PROJECT = 'project-trail';
const USER = 'user-operator';
const TRAIL_ROUTE = '/v2/:project_id/tasks/:task_id/transitions';

let t: TestApp;
let api: TaskApi;
let readerApi: TaskApi;
let otherProjectApi: TaskApi;
let anonymous: TaskApi;
const logLines: string[] = [];

before(async () => {
  t = await startTestApp({
    logger: new JsonLogger('info', (line) => logLines.push(line)),
    // The scheduler admits what create wakes it for; the hourly sweep never
    // comes within a test.
    env: { SCHEDULER_SWEEP_INTERVAL_MS: '3600000' },
  });
  api = new TaskApi(t, PROJECT, t.keystone.issue({ projectId: PROJECT, userId: USER }));
  readerApi = new TaskApi(t, PROJECT, t.keystone.issue({ projectId: PROJECT, roles: ['reader'] }));
  otherProjectApi = new TaskApi(t, PROJECT, t.keystone.issue({ projectId: 'someone-else' }));
  anonymous = new TaskApi(t, PROJECT, 'not-a-token-keystone-knows');
});
after(async () => t.close());
beforeEach(async () => emptyTables(t.db));

const snapshot = () => taskTablesSnapshot(t.db);
const assertRefused = (
  send: () => Promise<Answer>,
  status: number,
  code: string,
  message?: RegExp,
) => assertRefusedUnchanged(t.db, send, status, code, message);

/** The trail as the audit table holds it, in the answer's shape. */
async function trailFromRows(taskId: string) {
  return (await auditRows(t.db, taskId)).map((row) => ({
    id: Number((row as unknown as { id: string }).id),
    time: row.created_at.getTime(),
    action: row.action,
    from_status: row.from_status,
    to_status: row.to_status,
    actor: row.user_id,
    request_id: row.request_id,
  }));
}

/** `n` audit rows for a task, written as the service writes them, by hand. */
async function writeAuditRows(taskId: string, projectId: string, n: number): Promise<void> {
  await t.db.query(
    `INSERT INTO task_transitions (task_id, project_id, action, from_status, to_status, user_id, request_id)
     SELECT $1, $2, 'update_bandwidth', 3, 3, 'user-' || i, 'request-' || i FROM generate_series(1, $3) i`,
    [taskId, projectId, n],
  );
}

describe('the trail', () => {
  test('a life cycle, as the audit rows hold it: ids, times, moves, actors, request ids', async () => {
    const scheduler = t.app.get(TaskScheduler);
    const created = await api.create();
    assert.equal(created.status, 200, created.text);
    const id = String(created.body.id);
    await scheduler.whenIdle();
    const stopped = await api.stop(id);
    assert.equal(stopped.status, 200, stopped.text);
    const policy = await api
      .setBandwidth(id, { bandwidth_policy: [] })
      .set('X-Request-Id', 'my-own-request-id');
    assert.equal(policy.status, 200, policy.text);

    const res = await api.transitions(id);
    assert.equal(res.status, 200, res.text);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.deepEqual(Object.keys(res.body).sort(), ['count', 'transitions']);
    assert.deepEqual(res.body.transitions, await trailFromRows(id));
    assert.equal(res.body.count, 4);
    assert.deepEqual(
      res.body.transitions.map((move: Record<string, unknown>) => [
        move.action,
        move.from_status,
        move.to_status,
        move.actor,
        move.request_id,
      ]),
      [
        ['create', null, 1, USER, created.headers['x-request-id']],
        ['admit', 1, 2, 'scheduler', res.body.transitions[1].request_id],
        ['stop', 2, 3, USER, stopped.headers['x-request-id']],
        ['update_bandwidth', 3, 3, USER, 'my-own-request-id'],
      ],
    );
    for (const move of res.body.transitions) {
      assert.ok(Number.isSafeInteger(move.id) && move.id > 0);
      assert.ok(move.time > Date.now() - 60_000 && move.time <= Date.now(), 'Unix ms');
    }
  });

  test('a reader may read it; reading changes nothing', async () => {
    const id = await insertTask(t.db, PROJECT, TaskStatus.Paused);
    await writeAuditRows(id, PROJECT, 2);
    const before = await snapshot();
    const res = await readerApi.transitions(id);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.count, 2);
    assert.equal(await snapshot(), before);
  });

  test("a deleted task's trail stays readable, ending in its delete", async () => {
    const created = await api.create();
    const id = String(created.body.id);
    await t.app.get(TaskScheduler).whenIdle();
    assert.equal((await api.stop(id)).status, 200);
    const deleted = await api.delete(id);
    assert.equal(deleted.status, 200, deleted.text);
    assertOmsError(await api.show(id), 400, 'OMS.1009');

    const res = await api.transitions(id);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.transitions, await trailFromRows(id));
    const last = res.body.transitions.at(-1);
    assert.deepEqual(
      [last.action, last.from_status, last.to_status, last.request_id],
      ['delete', 3, null, deleted.headers['x-request-id']],
    );
    assert.equal(res.body.count, 4);
  });

  test('a task with no audit row (inserted by an operator) has an empty trail', async () => {
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const res = await api.transitions(id);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { transitions: [], count: 0 });
  });
});

describe('paging', () => {
  test('oldest first by id, limit and offset; count is the whole trail', async () => {
    const id = await insertTask(t.db, PROJECT, TaskStatus.Paused);
    const other = await insertTask(t.db, PROJECT, TaskStatus.Paused);
    // Interleaved with another task's rows, and with rows of the same task
    // id in another project (an operator can give an id anywhere): neither
    // is part of this trail.
    for (let i = 0; i < 5; i++) {
      await writeAuditRows(id, PROJECT, 5);
      await writeAuditRows(other, PROJECT, 1);
      await writeAuditRows(id, 'another-project', 1);
    }
    const all = await trailFromRows(id);
    const ours = (
      await t.db.query('SELECT id FROM task_transitions WHERE task_id = $1 AND project_id = $2', [
        id,
        PROJECT,
      ])
    ).rows.map((row) => Number(row.id));
    assert.equal(ours.length, 25);

    const pages = [];
    for (const offset of [0, 10, 20]) {
      const res = await api.transitions(id, { limit: 10, offset });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.count, 25);
      pages.push(...res.body.transitions);
    }
    assert.deepEqual(
      pages.map((move) => move.id),
      ours.sort((a, b) => a - b),
      'every row once, in id order',
    );
    assert.deepEqual(
      pages,
      all.filter((move) => ours.includes(move.id)),
    );

    const first = await api.transitions(id);
    assert.deepEqual(first.body.transitions, pages.slice(0, 10), 'limit 10 by default, offset 0');
    const one = await api.transitions(id, { limit: 1, offset: 24 });
    assert.deepEqual(one.body, { transitions: [pages[24]], count: 25 });
    const hundred = await api.transitions(id, { limit: 100 });
    assert.equal(hundred.body.transitions.length, 25);
    const past = await api.transitions(id, { offset: 25 });
    assert.deepEqual(past.body, { transitions: [], count: 25 }, 'past the end: empty, counted');
  });

  test('a move made while a client pages lands on the last page', async () => {
    const id = await insertTask(t.db, PROJECT, TaskStatus.Paused);
    await writeAuditRows(id, PROJECT, 3);
    const first = await api.transitions(id, { limit: 2 });
    await writeAuditRows(id, PROJECT, 1);
    const second = await api.transitions(id, { limit: 2, offset: 2 });
    assert.equal(second.body.count, 4);
    const ids = [...first.body.transitions, ...second.body.transitions].map((move) => move.id);
    assert.equal(new Set(ids).size, 4);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
    );
  });
});

describe('refusals', () => {
  const bad: [string, string][] = [
    ['limit', '0'],
    ['limit', '101'],
    ['limit', 'ten'],
    ['limit', '1.5'],
    ['limit', '0x10'],
    ['limit', '-1'],
    ['limit', ''],
    ['offset', '-1'],
    ['offset', '1000000001'],
    ['offset', '3.0'],
    ['offset', '1e3'],
  ];
  for (const [name, value] of bad) {
    test(`${name}=${JSON.stringify(value)}: 400 OMS.0064`, async () => {
      const id = await insertTask(t.db, PROJECT, TaskStatus.Paused);
      await writeAuditRows(id, PROJECT, 1);
      await assertRefused(
        () => api.transitions(id, { [name]: value }),
        400,
        'OMS.0064',
        new RegExp(name),
      );
    });
  }

  test('a parameter given twice: 400 OMS.0064', async () => {
    const id = await insertTask(t.db, PROJECT, TaskStatus.Paused);
    await assertRefused(
      () =>
        request(t.server)
          .get(`/v2/${PROJECT}/tasks/${id}/transitions?limit=1&limit=2`)
          .set('X-Auth-Token', t.keystone.issue({ projectId: PROJECT })),
      400,
      'OMS.0064',
    );
  });

  test("no such task, ids that cannot be ours, another project's task: 400 OMS.1009", async () => {
    const elsewhere = await insertTask(t.db, 'another-project', TaskStatus.Paused);
    await writeAuditRows(elsewhere, 'another-project', 3);
    for (const id of ['999999999999999', elsewhere, 'abc', '0', '01', '1000000000000000', '-1']) {
      await assertRefused(() => api.transitions(id), 400, 'OMS.1009', /^No resources found\.$/);
    }
  });

  test("a deleted task of another project: 400 OMS.1009, its trail stays its project's", async () => {
    const elsewhere = await insertTask(t.db, 'another-project', TaskStatus.Paused);
    await writeAuditRows(elsewhere, 'another-project', 2);
    await t.db.query('DELETE FROM tasks WHERE id = $1', [elsewhere]);
    await assertRefused(() => api.transitions(elsewhere), 400, 'OMS.1009');
  });

  test('a task_id or project_id over 1,024 characters: 400 OMS.0064', async () => {
    await assertRefused(() => api.transitions('9'.repeat(1025)), 400, 'OMS.0064');
    const long = new TaskApi(
      t,
      'p'.repeat(1025),
      t.keystone.issue({ projectId: 'p'.repeat(1025) }),
    );
    await assertRefused(() => long.transitions(1), 400, 'OMS.0064');
  });

  test("another project's token: 403 OMS.0206; no credential: 401", async () => {
    const id = await insertTask(t.db, PROJECT, TaskStatus.Paused);
    await writeAuditRows(id, PROJECT, 1);
    await assertRefused(() => otherProjectApi.transitions(id), 403, 'OMS.0206');
    await assertRefused(() => anonymous.transitions(id), 401, 'APIGW.0301');
  });
});

describe('as the other reads', () => {
  test('one access line with the route pattern, task and user; metrics by route', async () => {
    const id = await insertTask(t.db, PROJECT, TaskStatus.Paused);
    await writeAuditRows(id, PROJECT, 1);
    const res = await api.transitions(id).set('X-Request-Id', 'trail-access-line');
    assert.equal(res.status, 200, res.text);
    const lines = logLines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.request_id === 'trail-access-line' && line.context === 'Access');
    assert.equal(lines.length, 1);
    assert.deepEqual(
      [lines[0].route, lines[0].status, lines[0].task_id, lines[0].project_id, lines[0].user_id],
      [TRAIL_ROUTE, 200, id, PROJECT, USER],
    );

    const scrape = await request(t.server).get('/metrics');
    const answered = valueOf(parseMetrics(scrape.text), 'oms_http_requests_total', {
      method: 'GET',
      route: TRAIL_ROUTE,
      status: '200',
    });
    assert.ok(answered !== undefined && answered >= 1, 'counted under the route pattern');
  });
});
