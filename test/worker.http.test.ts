// The data plane's protocol over HTTP (docs/worker-protocol.md), against the
// real application and PostgreSQL, with a clock the test moves: leases,
// heartbeats and progress, the stop through pausing (2 → 7 → 3), outcomes,
// expiry and the lease sweep, and who may call what. Workers as separate
// processes (killed, several replicas): worker-processes.test.ts.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import request from 'supertest';
import { TaskStatus } from '../src/tasks/task-state.js';
import { LeaseSweep } from '../src/worker/lease-sweep.js';
import { ManualClock } from './support/manual-clock.js';
import { assertOmsError } from './support/stop-checks.js';
import { createBody, startBody, TaskApi } from './support/task-api.js';
import { TaskGroupApi } from './support/task-group-api.js';
import {
  auditRows,
  emptyTables,
  startTestApp,
  taskStatus,
  type TestApp,
} from './support/test-app.js';

const PROJECT = 'project-w';
const LEASE_TTL_MS = 10_000;

let t: TestApp;
let clock: ManualClock;
let tenant: TaskApi;
let workerToken: string;
let tenantToken: string;

before(async () => {
  clock = new ManualClock();
  t = await startTestApp({
    clock,
    env: {
      WORKER_LEASE_TTL_MS: String(LEASE_TTL_MS),
      WORKER_HEARTBEAT_INTERVAL_MS: '1000',
      // Swept by hand (LeaseSweep.sweep()) so each test says when.
      WORKER_LEASE_SWEEP_INTERVAL_MS: '0',
    },
  });
  tenantToken = t.keystone.issue({ projectId: PROJECT, userId: 'tenant', roles: ['member'] });
  workerToken = t.keystone.issue({
    projectId: 'service-project',
    userId: 'worker-user',
    roles: ['oms_worker'],
  });
  tenant = new TaskApi(t, PROJECT, tenantToken);
});
after(async () => t.close());
beforeEach(async () => emptyTables(t.db));

const path = (worker: string, suffix = '') => `/v2/workers/${worker}/leases${suffix}`;

function lease(worker = 'w1', body: object = { max_tasks: 10 }, token = workerToken) {
  return request(t.server).post(path(worker)).set('X-Auth-Token', token).send(body);
}

function heartbeat(leaseId: string, body: object = {}, worker = 'w1', token = workerToken) {
  return request(t.server)
    .post(path(worker, `/${leaseId}/heartbeat`))
    .set('X-Auth-Token', token)
    .send(body);
}

function outcome(leaseId: string, body: object, worker = 'w1', token = workerToken) {
  return request(t.server)
    .post(path(worker, `/${leaseId}/outcome`))
    .set('X-Auth-Token', token)
    .send(body);
}

/** A task created through the API (with keys), admitted as the scheduler would. */
async function migratingTask(): Promise<string> {
  const res = await tenant.create(createBody());
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const id = String(res.body.id);
  await t.db.query('UPDATE tasks SET status = 2, start_time = now() WHERE id = $1', [id]);
  return id;
}

async function leaseOne(worker = 'w1'): Promise<{ leaseId: string; taskId: string }> {
  const res = await lease(worker, { max_tasks: 1 });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.leases.length, 1);
  return { leaseId: res.body.leases[0].lease_id, taskId: String(res.body.leases[0].task_id) };
}

async function leaseRows() {
  const { rows } = await t.db.query('SELECT task_id::text, worker_id FROM task_leases ORDER BY 1');
  return rows as { task_id: string; worker_id: string }[];
}

describe('lease', () => {
  test('hands out a migrating task with its keys, once, and audits it', async () => {
    const id = await migratingTask();
    const res = await lease('w1');
    assert.equal(res.status, 200);
    assert.equal(res.body.leases.length, 1);
    const [l] = res.body.leases;
    assert.equal(l.task_id, Number(id));
    assert.equal(l.project_id, PROJECT);
    assert.match(l.lease_id, /^[0-9a-f-]{36}$/);
    assert.equal(l.expires_at, clock.now() + LEASE_TTL_MS);
    assert.equal(l.heartbeat_interval_ms, 1000);
    assert.equal(l.task.status, TaskStatus.Migrating);
    assert.equal(l.task.src_node.bucket, 'source-bucket');
    assert.equal(l.keys.src_ak, 'SRC-AK-0000000000001');
    assert.equal(l.keys.dst_sk, 'dst-secret-key-never-shown-0002');

    const again = await lease('w2');
    assert.deepEqual(again.body, { leases: [] }, 'a live lease is not handed out twice');
    assert.deepEqual(await leaseRows(), [{ task_id: id, worker_id: 'w1' }]);
    const audit = (await auditRows(t.db, id)).map((r) => [
      r.action,
      r.from_status,
      r.to_status,
      r.user_id,
    ]);
    assert.deepEqual(audit.at(-1), ['lease', 2, 2, 'worker-user']);
  });

  test('tasks that are not migrating or retrying are not leased', async () => {
    const ids: string[] = [];
    for (const status of [1, 3, 4, 5, 7]) {
      const res = await tenant.create(createBody());
      await t.db.query('UPDATE tasks SET status = $2 WHERE id = $1', [res.body.id, status]);
      ids.push(String(res.body.id));
    }
    const res = await lease('w1');
    assert.deepEqual(res.body, { leases: [] });
    assert.deepEqual(await leaseRows(), []);
  });

  test('an expired lease is taken over by another worker; the old one is told to abort', async () => {
    await migratingTask();
    const first = await leaseOne('w1');
    await clock.advance(LEASE_TTL_MS);
    const second = await leaseOne('w2');
    assert.equal(second.taskId, first.taskId);
    assert.notEqual(second.leaseId, first.leaseId);
    const old = await heartbeat(first.leaseId, {}, 'w1');
    assert.equal(old.status, 200);
    assert.deepEqual(old.body, { command: 'abort', reason: 'lease_lost' });
    const refused = await outcome(first.leaseId, { outcome: 'succeeded' }, 'w1');
    assertOmsError(refused, 403, 'OMS.0206');
    assert.equal(await taskStatus(t.db, first.taskId), TaskStatus.Migrating);
  });

  test('max_tasks bounds the lease; out of bounds is 400 and leases nothing', async () => {
    for (let i = 0; i < 3; i++) await migratingTask();
    const two = await lease('w1', { max_tasks: 2 });
    assert.equal(two.body.leases.length, 2);
    for (const bad of [0, 101, 1.5, '2']) {
      const res = await lease('w2', { max_tasks: bad });
      assertOmsError(res, 400, 'OMS.0064');
    }
    assert.equal((await leaseRows()).length, 2);
  });
});

describe('heartbeat', () => {
  test('renews the lease and records progress, which only moves forward', async () => {
    const id = await migratingTask();
    const { leaseId } = await leaseOne();
    await clock.advance(5000);
    const res = await heartbeat(leaseId, {
      total_size: 1000,
      complete_size: 400,
      total_num: 10,
      successful_num: 4,
      failed_num: 1,
      migrate_speed: 100,
      left_time: 6,
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      command: 'continue',
      status: TaskStatus.Migrating,
      expires_at: clock.now() + LEASE_TTL_MS,
    });
    const shown = (await tenant.show(id)).body;
    assert.equal(shown.complete_size, 400);
    assert.equal(shown.progress, 0.4);
    assert.equal(shown.successful_num, 4);
    assert.equal(shown.left_time, 6);

    // A report of less does not move progress back.
    await heartbeat(leaseId, { total_size: 1000, complete_size: 100, successful_num: 2 });
    const after = (await tenant.show(id)).body;
    assert.equal(after.complete_size, 400);
    assert.equal(after.successful_num, 4);

    // Renewed: still the holder after the first expiry would have passed.
    await clock.advance(LEASE_TTL_MS - 1);
    assert.deepEqual((await lease('w2')).body, { leases: [] });
  });

  test('counters beyond their totals are 400 and change nothing', async () => {
    const id = await migratingTask();
    const { leaseId } = await leaseOne();
    for (const body of [
      { total_size: 10, complete_size: 11 },
      { total_num: 3, successful_num: 2, failed_num: 1, skipped_num: 1 },
      { complete_size: -1 },
      { complete_size: 2 ** 53 },
      { is_query_over: 'yes' },
    ]) {
      assertOmsError(await heartbeat(leaseId, body), 400, 'OMS.0064');
    }
    const { rows } = await t.db.query(
      'SELECT complete_size::int, total_size::int FROM tasks JOIN task_details ON task_id = id WHERE id = $1',
      [id],
    );
    assert.deepEqual(rows[0], { complete_size: 0, total_size: 0 });
  });

  test('a bad lease id or worker id is 400; an unknown lease is abort', async () => {
    assertOmsError(await heartbeat('not-a-uuid'), 400, 'OMS.0064');
    const bad = await request(t.server)
      .post(path('bad%20name', '/00000000-0000-4000-8000-000000000000/heartbeat'))
      .set('X-Auth-Token', workerToken)
      .send({});
    assertOmsError(bad, 400, 'OMS.0064');
    const unknown = await heartbeat('00000000-0000-4000-8000-000000000000');
    assert.deepEqual(unknown.body, { command: 'abort', reason: 'lease_lost' });
  });

  test('a deleted task tells its worker to abort', async () => {
    const id = await migratingTask();
    const { leaseId } = await leaseOne();
    // Delete is refused while migrating; a pause that the lease expires into
    // leaves a deletable task whose worker may still be alive.
    await clock.advance(LEASE_TTL_MS);
    await t.db.query('UPDATE tasks SET status = 3 WHERE id = $1', [id]);
    assert.equal((await tenant.delete(id)).status, 200);
    assert.deepEqual((await heartbeat(leaseId)).body, { command: 'abort', reason: 'lease_lost' });
  });
});

describe('stop reaches the worker', () => {
  test('a leased task goes 2 → 7; the heartbeat says pause; the worker confirms, 7 → 3', async () => {
    const id = await migratingTask();
    const { leaseId } = await leaseOne();
    assert.equal((await tenant.stop(id)).status, 200);
    assert.equal(await taskStatus(t.db, id), TaskStatus.Pausing);
    assertOmsError(await tenant.stop(id), 400, 'OMS.0066');
    assertOmsError(await tenant.delete(id), 400, 'OMS.0063');

    const beat = await heartbeat(leaseId, { total_size: 100, complete_size: 30 });
    assert.equal(beat.body.command, 'pause');
    const done = await outcome(leaseId, { outcome: 'paused', complete_size: 35 });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.deepEqual(done.body, { status: TaskStatus.Paused });
    assert.equal(await taskStatus(t.db, id), TaskStatus.Paused);
    assert.deepEqual(await leaseRows(), [], 'the lease ended');

    const moves = (await auditRows(t.db, id)).map((r) => [r.action, r.from_status, r.to_status]);
    assert.deepEqual(moves.slice(-3), [
      ['lease', 2, 2],
      ['stop', 2, 7],
      ['confirm_pause', 7, 3],
    ]);
    const shown = (await tenant.show(id)).body;
    assert.equal(shown.complete_size, 35, 'progress reported with the outcome is kept');
  });

  test('a task no worker holds (or whose lease expired) pauses at once, as without a data plane', async () => {
    const free = await migratingTask();
    assert.equal((await tenant.stop(free)).status, 200);
    assert.equal(await taskStatus(t.db, free), TaskStatus.Paused);

    const held = await migratingTask();
    await leaseOne();
    await clock.advance(LEASE_TTL_MS);
    assert.equal((await tenant.stop(held)).status, 200);
    assert.equal(await taskStatus(t.db, held), TaskStatus.Paused);
  });

  test('a pausing task whose lease expires is paused by the sweep, once', async () => {
    const id = await migratingTask();
    const { leaseId } = await leaseOne();
    await tenant.stop(id);
    const sweep = t.app.get(LeaseSweep);
    assert.equal(await sweep.sweep(), 0, 'the lease is still live');
    assert.equal(await taskStatus(t.db, id), TaskStatus.Pausing);
    await clock.advance(LEASE_TTL_MS);
    assert.equal(await sweep.sweep(), 1);
    assert.equal(await sweep.sweep(), 0);
    assert.equal(await taskStatus(t.db, id), TaskStatus.Paused);
    const last = (await auditRows(t.db, id)).at(-1)!;
    assert.deepEqual(
      [last.action, last.from_status, last.to_status, last.user_id],
      ['lease_expire', 7, 3, 'lease-sweep'],
    );
    // The late worker learns it has nothing left to do.
    assertOmsError(await outcome(leaseId, { outcome: 'paused' }), 403, 'OMS.0206');
    assert.equal((await heartbeat(leaseId)).body.command, 'abort');
  });

  test('start after a pause: 3 → 1, admitted to 2, leased again with its progress kept', async () => {
    const id = await migratingTask();
    const first = await leaseOne();
    await heartbeat(first.leaseId, { total_size: 100, complete_size: 60 });
    await tenant.stop(id);
    await outcome(first.leaseId, { outcome: 'paused' });
    assert.equal((await tenant.start(id, startBody())).status, 200);
    assert.equal(await taskStatus(t.db, id), TaskStatus.Waiting);
    await t.db.query('UPDATE tasks SET status = 2 WHERE id = $1', [id]);
    const res = await lease('w2', { max_tasks: 1 });
    const [again] = res.body.leases;
    assert.equal(again.task.complete_size, 60);
    assert.equal(again.keys.src_ak, 'SRC-AK-0000000000011', 'the keys start brought');
  });
});

describe('outcomes', () => {
  test('succeeded: 2 → 5, the lease ends', async () => {
    const id = await migratingTask();
    const { leaseId } = await leaseOne();
    const res = await outcome(leaseId, {
      outcome: 'succeeded',
      total_size: 10,
      complete_size: 10,
      total_num: 1,
      successful_num: 1,
    });
    assert.deepEqual(res.body, { status: TaskStatus.Succeeded });
    const shown = (await tenant.show(id)).body;
    assert.equal(shown.status, 5);
    assert.equal(shown.progress, 1);
    assert.deepEqual(await leaseRows(), []);
  });

  test('retrying and resumed: 2 → 6 → 2 under the same lease; failed records the reason', async () => {
    const id = await migratingTask();
    const { leaseId } = await leaseOne();
    assert.deepEqual((await outcome(leaseId, { outcome: 'retrying' })).body, { status: 6 });
    assert.equal((await heartbeat(leaseId)).body.command, 'continue');
    assert.deepEqual((await outcome(leaseId, { outcome: 'resumed' })).body, { status: 2 });
    const reason = { error_code: 'OMS.1202', error_msg: 'source bucket not found' };
    assertOmsError(await outcome(leaseId, { outcome: 'failed' }), 400, 'OMS.0064');
    assertOmsError(
      await outcome(leaseId, { outcome: 'succeeded', error_reason: reason }),
      400,
      'OMS.0064',
    );
    assert.deepEqual((await outcome(leaseId, { outcome: 'failed', error_reason: reason })).body, {
      status: 4,
    });
    const shown = (await tenant.show(id)).body;
    assert.deepEqual(shown.error_reason, reason);
    const moves = (await auditRows(t.db, id)).map((r) => r.action);
    assert.deepEqual(moves.slice(-4), ['lease', 'retry_objects', 'resume', 'fail']);
  });

  test('an outcome the status does not allow is refused and changes nothing', async () => {
    const id = await migratingTask();
    const { leaseId } = await leaseOne();
    assertOmsError(await outcome(leaseId, { outcome: 'paused' }), 400, 'OMS.0066');
    assertOmsError(await outcome(leaseId, { outcome: 'resumed' }), 400, 'OMS.0065');
    assertOmsError(await outcome(leaseId, { outcome: 'finished' }), 400, 'OMS.0064');
    assert.equal(await taskStatus(t.db, id), TaskStatus.Migrating);
    assert.equal((await auditRows(t.db, id)).at(-1)!.action, 'lease');
  });

  test('a worker cannot move a task leased to another', async () => {
    const id = await migratingTask();
    const { leaseId } = await leaseOne('w1');
    assertOmsError(await outcome(leaseId, { outcome: 'succeeded' }, 'w2'), 403, 'OMS.0206');
    assert.deepEqual((await heartbeat(leaseId, { complete_size: 5 }, 'w2')).body, {
      command: 'abort',
      reason: 'lease_lost',
    });
    assert.equal(await taskStatus(t.db, id), TaskStatus.Migrating);
    const { rows } = await t.db.query(
      'SELECT complete_size::int FROM tasks JOIN task_details ON task_id = id WHERE id = $1',
      [id],
    );
    assert.equal(rows[0].complete_size, 0);
  });
});

describe('groups follow their tasks', () => {
  /** A group of three tasks, all admitted; returns the group id and the task ids. */
  async function migratingGroup(): Promise<{ groupId: string; taskIds: string[] }> {
    const groups = new TaskGroupApi(t, PROJECT, tenantToken);
    const created = await groups.create();
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const groupId = created.body.group_id as string;
    const { rows } = await t.db.query(
      'UPDATE tasks SET status = 2, start_time = now() WHERE group_id = $1 RETURNING id::text',
      [groupId],
    );
    return { groupId, taskIds: rows.map((row) => row.id).sort() };
  }
  const groupStatus = async (id: string) =>
    (await t.db.query('SELECT status FROM task_groups WHERE id = $1', [id])).rows[0].status;

  test('a group stop drains the leased task (7) and pauses the rest (3); the group is 7, then 3', async () => {
    const { groupId, taskIds } = await migratingGroup();
    const held = await leaseOne();
    const groups = new TaskGroupApi(t, PROJECT, tenantToken);
    assert.equal((await groups.stop(groupId)).status, 200);
    for (const id of taskIds) {
      assert.equal(
        await taskStatus(t.db, id),
        id === held.taskId ? TaskStatus.Pausing : TaskStatus.Paused,
        `task ${id}`,
      );
    }
    assert.equal(await groupStatus(groupId), 7);
    assertOmsError(await groups.stop(groupId), 400, 'OMS.0066');
    assertOmsError(await groups.delete(groupId), 400, 'OMS.0063');

    assert.equal((await heartbeat(held.leaseId)).body.command, 'pause');
    await outcome(held.leaseId, { outcome: 'paused' });
    assert.equal(await groupStatus(groupId), 3);
    const { rows } = await t.db.query(
      `SELECT action, from_status, to_status, user_id FROM task_group_transitions
       WHERE group_id = $1 ORDER BY id`,
      [groupId],
    );
    assert.deepEqual(
      rows.slice(-2).map((r) => [r.action, r.from_status, r.to_status, r.user_id]),
      [
        ['stop', 2, 7, 'tenant'],
        ['settle_paused', 7, 3, 'settlement'],
      ],
    );
  });

  test('a pausing group whose worker dies is paused by the lease sweep', async () => {
    const { groupId } = await migratingGroup();
    await leaseOne();
    await new TaskGroupApi(t, PROJECT, tenantToken).stop(groupId);
    assert.equal(await groupStatus(groupId), 7);
    await clock.advance(LEASE_TTL_MS);
    assert.equal(await t.app.get(LeaseSweep).sweep(), 1);
    assert.equal(await groupStatus(groupId), 3);
  });

  test('the group completes (6) once every task has succeeded, fails (5) if one failed', async () => {
    const done = await migratingGroup();
    const leases = (await lease('w1', { max_tasks: 10 })).body.leases;
    assert.equal(leases.length, 3);
    for (const [i, l] of leases.entries()) {
      await outcome(l.lease_id, { outcome: 'succeeded' });
      assert.equal(await groupStatus(done.groupId), i < 2 ? 2 : 6, `after ${i + 1} of 3`);
    }

    await emptyTables(t.db);
    const failed = await migratingGroup();
    const reason = { error_code: 'OMS.1202', error_msg: 'gone' };
    const [first, ...rest] = (await lease('w1', { max_tasks: 10 })).body.leases;
    await outcome(first.lease_id, { outcome: 'failed', error_reason: reason });
    assert.equal(await groupStatus(failed.groupId), 2);
    for (const l of rest) await outcome(l.lease_id, { outcome: 'succeeded' });
    assert.equal(await groupStatus(failed.groupId), 5);
  });
});

describe('who may call', () => {
  test("a tenant's token gets 403 on every worker call, and nothing is leased", async () => {
    const id = await migratingTask();
    assertOmsError(await lease('w1', {}, tenantToken), 403, 'OMS.0206');
    const { leaseId } = await leaseOne();
    assertOmsError(
      await heartbeat(leaseId, { complete_size: 1 }, 'w1', tenantToken),
      403,
      'OMS.0206',
    );
    assertOmsError(
      await outcome(leaseId, { outcome: 'succeeded' }, 'w1', tenantToken),
      403,
      'OMS.0206',
    );
    assert.equal(await taskStatus(t.db, id), TaskStatus.Migrating);
    assert.equal((await leaseRows()).length, 1);
  });

  test('no token: 401', async () => {
    const res = await request(t.server).post(path('w1')).send({});
    assert.equal(res.status, 401);
  });
});
