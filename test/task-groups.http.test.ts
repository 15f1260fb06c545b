// Task groups over HTTP against the real application and PostgreSQL:
// Terraform's group sequence, create (its tasks in the same transaction),
// show and list with counters, the moves (stop under concurrency, start,
// retry, update, delete) with their audit rows, the scheduler skipping a
// paused group, and every refusal with the rows checked unchanged.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import request from 'supertest';
import { TaskScheduler } from '../src/tasks/task-scheduler.js';
import { TaskStatus } from '../src/tasks/task-state.js';
import { TaskSecretsCipher } from '../src/tasks/task-secrets.js';
import { assertOmsError } from './support/stop-checks.js';
import { GROUP_SECRETS, groupBody, groupKeys, TaskGroupApi } from './support/task-group-api.js';
import {
  allAuditRows,
  emptyTables,
  startTestApp,
  TEST_SECRETS_KEY,
  type TestApp,
} from './support/test-app.js';

const PROJECT = 'project-groups';
const OTHER = 'project-groups-other';
const USER = 'user-groups';

let t: TestApp;
let api: TaskGroupApi;
let other: TaskGroupApi;

before(async () => {
  t = await startTestApp();
  api = new TaskGroupApi(t, PROJECT, t.keystone.issue({ projectId: PROJECT, userId: USER }));
  other = new TaskGroupApi(t, OTHER, t.keystone.issue({ projectId: OTHER, userId: 'other' }));
});
after(async () => t.close());
beforeEach(async () => emptyTables(t.db));

async function createGroup(body = groupBody()): Promise<string> {
  const res = await api.create(body);
  assert.equal(res.status, 200, res.text);
  return res.body.group_id;
}

interface Snapshot {
  groups: unknown[];
  tasks: unknown[];
  audit: unknown[];
}

async function snapshot(): Promise<Snapshot> {
  const groups = await t.db.query('SELECT * FROM task_groups ORDER BY id');
  const tasks = await t.db.query('SELECT * FROM tasks ORDER BY id');
  return { groups: groups.rows, tasks: tasks.rows, audit: await allAuditRows(t.db) };
}

async function setGroupStatus(id: string, status: number) {
  await t.db.query('UPDATE task_groups SET status = $2 WHERE id = $1', [id, status]);
}

async function groupTaskStatuses(id: string): Promise<number[]> {
  const { rows } = await t.db.query('SELECT status FROM tasks WHERE group_id = $1 ORDER BY id', [
    id,
  ]);
  return rows.map((row) => row.status);
}

describe('Terraform huaweicloud_oms_migration_task_group', () => {
  test('create, wait 2/6, stop, wait 3, update, start, wait 2, destroy (stop, retried DELETE, wait for 404)', async () => {
    const scheduled = await startTestApp({ env: { SCHEDULER_SWEEP_INTERVAL_MS: '1000' } });
    try {
      const tf = new TaskGroupApi(
        scheduled,
        PROJECT,
        scheduled.keystone.issue({ projectId: PROJECT, userId: USER }),
      );
      const created = await tf.create(groupBody());
      assert.equal(created.status, 200, created.text);
      const id = created.body.group_id;
      assert.match(id, /^[0-9a-f-]{36}$/);
      assert.deepEqual(Object.keys(created.body), ['group_id']);

      assert.equal(await tf.waitForStatus(id, [2, 6]), 2);
      const stopped = await tf.stop(id);
      assert.equal(stopped.status, 200, stopped.text);
      assert.equal(await tf.waitForStatus(id, [3, 6]), 3);

      const policy = [{ start: '00:00', end: '06:00', max_bandwidth: 2_097_152 }];
      const updated = await tf.update(id, { bandwidth_policy: policy });
      assert.equal(updated.status, 200, updated.text);
      assert.deepEqual((await tf.show(id)).body.bandwidth_policy, policy);

      const started = await tf.start(id);
      assert.equal(started.status, 200, started.text);
      assert.equal(await tf.waitForStatus(id, [2, 6]), 2);

      // destroy: GET; 2 → PUT stop (a 400 OMS.0066 would be ignored), poll until 3.
      assert.equal((await tf.show(id)).body.status, 2);
      const destroyStop = await tf.stop(id);
      assert.ok(destroyStop.status === 200 || destroyStop.status === 400, destroyStop.text);
      assert.equal(await tf.waitForStatus(id, [3]), 3);
      // DELETE, retried while it answers 400 OMS.0063.
      let deleted;
      for (let attempt = 0; attempt < 5; attempt++) {
        deleted = await tf.delete(id);
        if (!(deleted.status === 400 && deleted.body.error_code === 'OMS.0063')) break;
      }
      assert.equal(deleted!.status, 200, deleted!.text);
      // Poll GET while 8 or 9 until a 404.
      const gone = await tf.show(id);
      assert.equal(gone.status, 404);
      assertOmsError(gone, 404, 'OMS.1009');
      const { rows } = await scheduled.db.query('SELECT count(*)::int AS n FROM tasks');
      assert.equal(rows[0].n, 0);
    } finally {
      await scheduled.close();
    }
  });
});

describe('create', () => {
  test('a PREFIX group creates one prefix task per object_key entry, each a GROUP_TASK', async () => {
    const id = await createGroup();
    const listed = await api.tasks(id);
    assert.equal(listed.status, 200);
    assert.equal(listed.body.count, 3);
    const prefixes = listed.body.tasks.map((task: { src_node: { object_key: string[] } }) =>
      task.src_node.object_key.join(),
    );
    assert.deepEqual(prefixes.sort(), ['docs/', 'photos/', 'videos/']);
    for (const task of listed.body.tasks) {
      assert.equal(task.group_id, id);
      assert.equal(task.group_type, 'GROUP_TASK');
      assert.equal(task.task_type, 'prefix');
      assert.equal(task.status, TaskStatus.Waiting);
      assert.equal(task.dst_node.bucket, 'group-dst');
    }
    // Each task audited as created, in the group's transaction.
    const audit = await allAuditRows(t.db);
    assert.deepEqual(
      audit.map((row) => [row.action, row.from_status, row.to_status, row.user_id]),
      Array(3).fill(['create', null, TaskStatus.Waiting, USER]),
    );
  });

  test('ids an operator used by hand are skipped: the group still gets all its tasks', async () => {
    // The next two ids the sequence will hand out, taken by hand-inserted tasks.
    const { rows } = await t.db.query(
      `SELECT nextval(pg_get_serial_sequence('tasks', 'id'))::text AS id`,
    );
    const next = BigInt(rows[0].id);
    for (const id of [next + 1n, next + 2n]) {
      await t.db.query(
        "INSERT INTO tasks (id, project_id, name, status) VALUES ($1, 'operator', 'by hand', 1)",
        [String(id)],
      );
    }
    const id = await createGroup();
    const listed = await api.tasks(id);
    assert.equal(listed.body.count, 3);
    const ids = listed.body.tasks.map((task: { id: number }) => BigInt(task.id));
    assert.ok(
      !ids.includes(next + 1n) && !ids.includes(next + 2n),
      'an id taken by hand was reused',
    );
    const byHand = await t.db.query(
      "SELECT count(*)::int AS n FROM tasks WHERE project_id = 'operator'",
    );
    assert.equal(byHand.rows[0].n, 2, 'the hand-inserted tasks are untouched');
  });

  test('the group object, with counters from its tasks; status 2 from the first read', async () => {
    const id = await createGroup();
    await t.db.query(
      `UPDATE tasks SET status = $2 WHERE id = (SELECT min(id) FROM tasks WHERE group_id = $1)`,
      [id, TaskStatus.Migrating],
    );
    await t.db.query(
      `UPDATE task_details SET total_num = 10, successful_num = 4, total_size = 1000,
       complete_size = 400 WHERE task_id = (SELECT min(id) FROM tasks WHERE group_id = $1)`,
      [id],
    );
    const res = await api.show(id);
    assert.equal(res.status, 200);
    const group = res.body;
    assert.equal(group.group_id, id);
    assert.equal(group.status, 2);
    assert.equal(group.task_type, 'PREFIX');
    assert.equal(group.description, 'a group');
    assert.equal(group.enable_kms, true);
    assert.equal(group.migrate_since, 1_700_000_000);
    assert.deepEqual(group.src_node, {
      cloud_type: 'Aliyun',
      bucket: 'group-src',
      region: 'cn-hangzhou',
      object_key: ['photos/', 'videos/', 'docs/'],
    });
    assert.deepEqual(group.dst_node, {
      bucket: 'group-dst',
      region: 'cn-north-4',
      save_prefix: 'copy/',
    });
    assert.equal(group.total_task_num, 3);
    assert.equal(group.create_task_num, 3);
    assert.equal(group.waiting_task_num, 2);
    assert.equal(group.executing_task_num, 1);
    assert.equal(group.paused_task_num, 0);
    assert.equal(group.total_num, 10);
    assert.equal(group.success_num, 4);
    assert.equal(group.total_size, 1000);
    assert.equal(group.complete_size, 400);
  });

  test('a LIST group creates one list task for its list file', async () => {
    const src = groupBody().src_node as Record<string, unknown>;
    delete src.object_key;
    const id = await createGroup(
      groupBody({
        task_type: 'LIST',
        src_node: { ...src, list_file: { list_file_key: 'lists/a.txt', obs_bucket: 'lists' } },
      }),
    );
    const listed = await api.tasks(id);
    assert.equal(listed.body.count, 1);
    assert.equal(listed.body.tasks[0].task_type, 'list');
  });

  test('secrets are sealed (the group and each task its own copy), never returned', async () => {
    const id = await createGroup();
    const shown = await api.show(id);
    const listed = await api.list();
    const tasks = await api.tasks(id);
    for (const text of [shown.text, listed.text, tasks.text]) {
      for (const secret of GROUP_SECRETS) assert.ok(!text.includes(secret), `${secret} not shown`);
    }
    const cipher = new TaskSecretsCipher(TEST_SECRETS_KEY);
    const { rows: groups } = await t.db.query('SELECT secrets FROM task_groups WHERE id = $1', [
      id,
    ]);
    const { rows: taskRows } = await t.db.query(
      'SELECT id::text, secrets FROM tasks JOIN task_details ON task_id = id WHERE group_id = $1',
      [id],
    );
    for (const blob of [groups[0].secrets, ...taskRows.map((row) => row.secrets)]) {
      for (const secret of GROUP_SECRETS) assert.ok(!blob.toString('latin1').includes(secret));
    }
    assert.equal(cipher.open(groups[0].secrets, PROJECT, `group/${id}`).src_ak, GROUP_SECRETS[0]);
    for (const row of taskRows) {
      assert.equal(cipher.open(row.secrets, PROJECT, row.id).dst_sk, GROUP_SECRETS[3]);
    }
  });

  test('bad bodies are 400 OMS.0064 and create nothing', async () => {
    const before = await snapshot();
    const src = groupBody().src_node as Record<string, unknown>;
    for (const body of [
      groupBody({ task_type: 'prefix' }),
      groupBody({ src_node: { ...src, object_key: undefined } }),
      groupBody({ task_type: 'LIST' }),
      groupBody({ src_node: { ...src, ak: undefined } }),
      groupBody({ dst_node: { region: 'r', bucket: 'b' } }),
      groupBody({ description: 'x'.repeat(256) }),
      groupBody({ src_node: { ...src, object_key: Array(1001).fill('p/') } }),
      groupBody({ bandwidth_policy: [{ start: '00:00', end: '00:00', max_bandwidth: 2_097_152 }] }),
    ]) {
      assertOmsError(await api.create(body), 400, 'OMS.0064');
    }
    assertOmsError(await api.create('not json' as unknown as object), 400, 'OMS.0067');
    assert.deepEqual(await snapshot(), before);
  });

  test('a group that would exceed the task quota creates nothing: 400 OMS.0077', async () => {
    const small = await startTestApp({ env: { MAX_TASKS_PER_PROJECT: '2' } });
    try {
      const smallApi = new TaskGroupApi(
        small,
        PROJECT,
        small.keystone.issue({ projectId: PROJECT, userId: USER }),
      );
      const before = await snapshot();
      assertOmsError(await smallApi.create(groupBody()), 400, 'OMS.0077');
      assert.deepEqual(await snapshot(), before);
    } finally {
      await small.close();
    }
  });
});

describe('list', () => {
  test('limit, offset and status; {"taskgroups": [...], "count"}', async () => {
    const ids = [await createGroup(), await createGroup(), await createGroup()];
    await setGroupStatus(ids[1], 3);
    const all = await api.list();
    assert.equal(all.status, 200);
    assert.deepEqual(Object.keys(all.body).sort(), ['count', 'taskgroups']);
    assert.equal(all.body.count, 3);
    assert.deepEqual(
      all.body.taskgroups.map((group: { group_id: string }) => group.group_id),
      ids,
    );
    assert.equal(all.body.taskgroups[0].total_task_num, 3);
    const page = await api.list({ limit: 1, offset: 1 });
    assert.equal(page.body.count, 3);
    assert.deepEqual(
      page.body.taskgroups.map((group: { group_id: string }) => group.group_id),
      [ids[1]],
    );
    const paused = await api.list({ status: 3 });
    assert.equal(paused.body.count, 1);
    assert.equal(paused.body.taskgroups[0].group_id, ids[1]);
    const badQueries: Record<string, number>[] = [
      { limit: 0 },
      { limit: 101 },
      { offset: -1 },
      { status: 10 },
    ];
    for (const query of badQueries) {
      assertOmsError(await api.list(query), 400, 'OMS.0064');
    }
  });
});

describe('stop', () => {
  test('a group of 1,000 tasks stopped by 16 concurrent PUT stops: one 200, every task paused once', async () => {
    const prefixes = Array.from({ length: 1000 }, (_, i) => `p${i}/`);
    const src = groupBody().src_node as Record<string, unknown>;
    const id = await createGroup(groupBody({ src_node: { ...src, object_key: prefixes } }));
    // Some already admitted: stop pauses waiting and migrating tasks alike.
    await t.db.query(
      `UPDATE tasks SET status = $2 WHERE id IN
         (SELECT id FROM tasks WHERE group_id = $1 ORDER BY id LIMIT 100)`,
      [id, TaskStatus.Migrating],
    );
    await t.db.query('DELETE FROM task_transitions');

    const answers = await Promise.all(Array.from({ length: 16 }, () => api.stop(id)));
    const ok = answers.filter((res) => res.status === 200);
    assert.equal(ok.length, 1, answers.map((res) => res.status).join());
    for (const res of answers.filter((answer) => answer.status !== 200)) {
      assertOmsError(res, 400, 'OMS.0066');
    }
    const statuses = await groupTaskStatuses(id);
    assert.equal(statuses.length, 1000);
    assert.ok(statuses.every((status) => status === TaskStatus.Paused));
    const audit = await allAuditRows(t.db);
    assert.equal(audit.length, 1000);
    assert.equal(new Set(audit.map((row) => row.task_id)).size, 1000);
    assert.ok(audit.every((row) => row.action === 'group_stop' && row.to_status === 3));
    assert.equal(audit.filter((row) => row.from_status === TaskStatus.Migrating).length, 100);
    assert.ok(audit.every((row) => row.request_id === ok[0].headers['x-request-id']));
    assert.equal((await api.show(id)).body.status, 3);
  });

  test('refused outside 1 and 2: 400 OMS.0066, nothing changed', async () => {
    const id = await createGroup();
    for (const status of [0, 3, 4, 5, 6, 7, 8, 9]) {
      await setGroupStatus(id, status);
      const before = await snapshot();
      assertOmsError(await api.stop(id), 400, 'OMS.0066');
      assert.deepEqual(await snapshot(), before);
    }
  });

  test('the scheduler admits nothing of a paused group, and keeps the project limit', async () => {
    const paused = await createGroup();
    const running = await createGroup();
    assert.equal((await api.stop(paused)).status, 200);
    // A task of the paused group left waiting by hand: still not admitted.
    await t.db.query(
      'UPDATE tasks SET status = $2 WHERE id = (SELECT min(id) FROM tasks WHERE group_id = $1)',
      [paused, TaskStatus.Waiting],
    );
    const scheduler = t.app.get(TaskScheduler);
    const admitted = await scheduler.admit(PROJECT);
    assert.equal(admitted.length, 3);
    assert.deepEqual(await groupTaskStatuses(running), [2, 2, 2]);
    assert.deepEqual(await groupTaskStatuses(paused), [1, 3, 3]);
    // Once started again, its tasks are admitted under the same limit (5).
    assert.equal((await api.start(paused)).status, 200);
    assert.equal((await scheduler.admit(PROJECT)).length, 2);
    assert.equal((await scheduler.admit(PROJECT)).length, 0);
  });
});

describe('start, retry, update', () => {
  test('start: 3 → 2, paused tasks back to waiting with fresh sealed keys, audited', async () => {
    const id = await createGroup();
    assert.equal((await api.stop(id)).status, 200);
    const res = await api.start(id);
    assert.equal(res.status, 200, res.text);
    assert.equal((await api.show(id)).body.status, 2);
    assert.deepEqual(await groupTaskStatuses(id), [1, 1, 1]);
    const cipher = new TaskSecretsCipher(TEST_SECRETS_KEY);
    const { rows } = await t.db.query(
      'SELECT id::text, secrets FROM tasks JOIN task_details ON task_id = id WHERE group_id = $1',
      [id],
    );
    for (const row of rows) {
      assert.equal(cipher.open(row.secrets, PROJECT, row.id).src_ak, groupKeys().src_ak);
    }
    const audit = (await allAuditRows(t.db)).filter((row) => row.action === 'group_start');
    assert.equal(audit.length, 3);
  });

  test('start outside 3 and retry outside 4/5: 400 OMS.0065, nothing changed', async () => {
    const id = await createGroup();
    for (const status of [0, 1, 2, 4, 5, 6, 7, 8, 9]) {
      await setGroupStatus(id, status);
      const before = await snapshot();
      assertOmsError(await api.start(id), 400, 'OMS.0065');
      assert.deepEqual(await snapshot(), before);
    }
    for (const status of [0, 1, 2, 3, 6, 7, 8, 9]) {
      await setGroupStatus(id, status);
      const before = await snapshot();
      assertOmsError(await api.retry(id), 400, 'OMS.0065');
      assert.deepEqual(await snapshot(), before);
    }
    const before = await snapshot();
    assertOmsError(await api.start(id, { src_ak: 'a' }), 400, 'OMS.0064');
    assert.deepEqual(await snapshot(), before);
  });

  test('retry: 5 → 2, failed tasks back to waiting', async () => {
    const id = await createGroup();
    await setGroupStatus(id, 5);
    await t.db.query('UPDATE tasks SET status = $2 WHERE group_id = $1', [id, TaskStatus.Failed]);
    assert.equal((await api.retry(id)).status, 200);
    assert.equal((await api.show(id)).body.status, 2);
    assert.deepEqual(await groupTaskStatuses(id), [1, 1, 1]);
  });

  test('update: the unfinished tasks get the policy, each audited; 400 OMS.0070 once 6', async () => {
    const id = await createGroup();
    await t.db.query(
      'UPDATE tasks SET status = $2 WHERE id = (SELECT min(id) FROM tasks WHERE group_id = $1)',
      [id, TaskStatus.Succeeded],
    );
    const policy = [{ start: '01:00', end: '02:00', max_bandwidth: 2_097_152 }];
    assert.equal((await api.update(id, { bandwidth_policy: policy })).status, 200);
    const { rows } = await t.db.query(
      'SELECT status, bandwidth_policy FROM tasks JOIN task_details ON task_id = id WHERE group_id = $1 ORDER BY id',
      [id],
    );
    assert.deepEqual(rows[0].bandwidth_policy, []);
    assert.deepEqual(rows[1].bandwidth_policy, policy);
    assert.deepEqual(rows[2].bandwidth_policy, policy);
    const audit = (await allAuditRows(t.db)).filter((row) => row.action === 'update_bandwidth');
    assert.equal(audit.length, 2);

    await setGroupStatus(id, 6);
    const before = await snapshot();
    assertOmsError(await api.update(id, { bandwidth_policy: policy }), 400, 'OMS.0070');
    assertOmsError(await api.update(id, {}), 400, 'OMS.0064');
    assert.deepEqual(await snapshot(), before);
  });
});

describe('delete', () => {
  test('refused while 1, 2 or 7: 400 OMS.0063, nothing changed', async () => {
    const id = await createGroup();
    for (const status of [1, 2, 7]) {
      await setGroupStatus(id, status);
      const before = await snapshot();
      assertOmsError(await api.delete(id), 400, 'OMS.0063');
      assert.deepEqual(await snapshot(), before);
    }
  });

  test('deletes the group and its tasks, each task audited', async () => {
    const id = await createGroup();
    assert.equal((await api.stop(id)).status, 200);
    const res = await api.delete(id);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.text, '');
    assertOmsError(await api.show(id), 404, 'OMS.1009');
    assert.deepEqual(await groupTaskStatuses(id), []);
    const deletes = (await allAuditRows(t.db)).filter((row) => row.action === 'delete');
    assert.equal(deletes.length, 3);
    assert.ok(deletes.every((row) => row.from_status === 3 && row.to_status === null));
  });
});

describe('who and which group', () => {
  test('a missing group is 404 OMS.1009 on every call; a missing task stays 400', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    const before = await snapshot();
    for (const res of [
      await api.show(missing),
      await api.stop(missing),
      await api.start(missing),
      await api.retry(missing),
      await api.update(missing, { bandwidth_policy: [] }),
      await api.delete(missing),
    ]) {
      assertOmsError(res, 404, 'OMS.1009');
    }
    assert.deepEqual(await snapshot(), before);
    const task = await request(t.server)
      .get(`/v2/${PROJECT}/tasks/999`)
      .set('X-Auth-Token', t.keystone.issue({ projectId: PROJECT }));
    assertOmsError(task, 400, 'OMS.1009');
  });

  test("another project's group through one's own path is 404; another project's token 403", async () => {
    const id = await createGroup();
    const before = await snapshot();
    assertOmsError(await other.show(id), 404, 'OMS.1009');
    assertOmsError(await other.stop(id), 404, 'OMS.1009');
    assertOmsError(await other.delete(id), 404, 'OMS.1009');
    const foreign = new TaskGroupApi(t, PROJECT, t.keystone.issue({ projectId: OTHER }));
    assertOmsError(await foreign.show(id), 403, 'OMS.0206');
    assertOmsError(await foreign.stop(id), 403, 'OMS.0206');
    assertOmsError(await foreign.create(groupBody()), 403, 'OMS.0206');
    assert.deepEqual(await snapshot(), before);
  });

  test('ids of 1..1,024 characters: longer is 400 OMS.0064', async () => {
    assertOmsError(await api.show('g'.repeat(1025)), 400, 'OMS.0064');
    assertOmsError(await api.stop('g'.repeat(1025)), 400, 'OMS.0064');
    assertOmsError(await api.show('g'.repeat(1024)), 404, 'OMS.1009');
  });
});
