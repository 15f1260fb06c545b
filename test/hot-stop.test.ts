// The stop as PostgreSQL performs it (issue 16): a HOT update, which writes
// no index page, because no index of `tasks` covers a column it writes. The
// queue indexes go through `queue`, which follows `status` except on a pause
// (migrations/…-hot-stop.ts): the service's moves write it, triggers put it
// right after anyone else's write; these tests hold both to that, and the
// readers of the queues to checking `status` beside it. No trigger locks the
// row before a stop, and no check reads a column the stop does not write
// (migrations/…-stop-takes-no-row-lock.ts).
// And the row it rewrites is narrow: the rest of a task is in task_details
// (migrations/…-narrow-tasks.ts); and it says itself whether a worker holds
// a lease on the task (migrations/…-tasks-know-their-lease.ts).

import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import type pg from 'pg';
import { TASK_ACTIONS, TaskStatus } from '../src/tasks/task-state.js';
import { RUNNING_STATUSES } from '../src/tasks/task-scheduler.js';
import { ADMIT_TASKS, MOVE_TASK, MOVE_TASK_WITH_CHANGES } from '../src/tasks/task.sql.js';
import { LEASE_TASKS } from '../src/worker/worker.sql.js';
import { emptyTables, insertTask, startTestApp, type TestApp } from './support/test-app.js';
import { waitUntil } from './support/wait-until.js';

const PROJECT = 'project-hot-stop';
let t: TestApp;

before(async () => {
  t = await startTestApp();
});
after(async () => t.close());
beforeEach(async () => emptyTables(t.db));

/** Runs `work` in a transaction that is rolled back, with the transaction's own table statistics. */
async function inRolledBackTransaction<T>(
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<{ result: T; updates: number; hotUpdates: number; detailsWritten: number }> {
  const client = await t.db.connect();
  // The counts of this backend's statistics not yet reported are in these
  // figures too, so the work's own are what it added.
  const counts = async () => {
    const { rows } = await client.query(
      `SELECT relname, n_tup_upd::int AS updates, n_tup_hot_upd::int AS hot_updates,
              (n_tup_ins + n_tup_upd + n_tup_del)::int AS written
       FROM pg_stat_xact_user_tables WHERE relname IN ('tasks', 'task_details')`,
    );
    const of = (table: string) =>
      rows.find((row) => row.relname === table) ?? { updates: 0, hot_updates: 0, written: 0 };
    return { tasks: of('tasks'), details: of('task_details') };
  };
  try {
    await client.query('BEGIN');
    const before = await counts();
    const result = await work(client);
    const after = await counts();
    return {
      result,
      updates: after.tasks.updates - before.tasks.updates,
      hotUpdates: after.tasks.hot_updates - before.tasks.hot_updates,
      detailsWritten: after.details.written - before.details.written,
    };
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

function stopValues(taskId: string): unknown[] {
  const stop = TASK_ACTIONS.stop;
  return MOVE_TASK.values({
    taskId,
    projectId: PROJECT,
    from: stop.from,
    action: 'stop',
    userId: 'user-hot-stop',
    requestId: 'req-hot-stop',
    to: stop.to,
    whileLeased: stop.whileLeased ?? stop.to,
    now: new Date(),
  });
}

async function queueOf(id: string): Promise<number | null> {
  const { rows } = await t.db.query('SELECT queue FROM tasks WHERE id = $1', [id]);
  return rows[0].queue;
}

test("the service's stop statement is a HOT update: it writes no index of tasks", async () => {
  const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
  const { result, updates, hotUpdates } = await inRolledBackTransaction((client) =>
    client.query(MOVE_TASK.text, stopValues(id)),
  );
  assert.equal(result.rows[0].from_status, TaskStatus.Migrating);
  assert.equal(result.rows[0].to_status, TaskStatus.Paused);
  assert.equal(updates, 1);
  assert.equal(hotUpdates, 1, 'the stop had to write index entries');
});

// migrations/…-narrow-tasks.ts: the row a stop rewrites holds what the stop
// writes, what the indexes cover and what operators insert; nothing else.
test("a stop rewrites only the task's narrow row, never its details", async () => {
  const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
  await t.db.query(`UPDATE task_details SET src_node = '{"bucket": "b"}' WHERE task_id = $1`, [id]);
  const { detailsWritten } = await inRolledBackTransaction((client) =>
    client.query(MOVE_TASK.text, stopValues(id)),
  );
  assert.equal(detailsWritten, 0, 'the stop wrote task_details');
  const { rows } = await t.db.query(
    `SELECT column_name FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = 'tasks' ORDER BY column_name`,
  );
  assert.deepEqual(
    rows.map((row) => row.column_name),
    [
      'created_at',
      'group_id',
      'id',
      'lease_expires_at',
      'name',
      'project_id',
      'queue',
      'start_time',
      'status',
      'task_priority',
      'updated_at',
    ],
  );
});

test('a stop that moves nothing still answers one row: the status it found, or none', async () => {
  const paused = await insertTask(t.db, PROJECT, TaskStatus.Paused);
  const [found, missing] = await Promise.all([
    t.db.query(MOVE_TASK.text, stopValues(paused)),
    t.db.query(MOVE_TASK.text, stopValues('987654')),
  ]);
  assert.deepEqual(found.rows, [{ from_status: null, to_status: null, status_seen: 3 }]);
  assert.deepEqual(missing.rows, [{ from_status: null, to_status: null, status_seen: null }]);
  const { rows } = await t.db.query('SELECT count(*)::int AS n FROM task_transitions');
  assert.equal(rows[0].n, 0, 'no audit row for a stop that moved nothing');
});

test('a task inserted by hand is queued by its status: 1 waiting, 2 running (2, 6, 7), none otherwise', async () => {
  const expected: Record<TaskStatus, number | null> = {
    [TaskStatus.Waiting]: 1,
    [TaskStatus.Migrating]: 2,
    [TaskStatus.Paused]: null,
    [TaskStatus.Failed]: null,
    [TaskStatus.Succeeded]: null,
    [TaskStatus.Retrying]: 2,
    [TaskStatus.Pausing]: 2,
  };
  for (const [status, queue] of Object.entries(expected)) {
    const id = await insertTask(t.db, PROJECT, Number(status) as TaskStatus);
    assert.equal(await queueOf(id), queue, `status ${status}`);
  }
});

test('the queue follows every status write except one into paused, which keeps it', async () => {
  const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
  const moves: [TaskStatus, number | null][] = [
    [TaskStatus.Paused, 2], // the stop: the queue is left as it was
    [TaskStatus.Waiting, 1],
    [TaskStatus.Migrating, 2],
    [TaskStatus.Pausing, 2],
    [TaskStatus.Paused, 2],
    [TaskStatus.Failed, null],
    [TaskStatus.Waiting, 1],
    [TaskStatus.Paused, 1],
    [TaskStatus.Succeeded, null],
  ];
  for (const [status, queue] of moves) {
    await t.db.query('UPDATE tasks SET status = $2 WHERE id = $1', [id, status]);
    assert.equal(await queueOf(id), queue, `after a move to ${status}`);
  }
});

// migrations/…-stop-takes-no-row-lock.ts: a BEFORE UPDATE row trigger on
// tasks would make PostgreSQL lock the row before every update, one more
// WAL record per stop. The stop's own records, read back with pg_walinspect.
test('a stop writes no row lock ahead of its update: its WAL is the update, the audit row, the commit', async () => {
  await t.db.query('CREATE EXTENSION IF NOT EXISTS pg_walinspect');
  const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
  const client = await t.db.connect();
  let xid: string;
  let from: string;
  try {
    await client.query('BEGIN');
    // The transaction's id, as pg_walinspect shows it (without the epoch).
    ({ xid, from } = (
      await client.query(
        `SELECT (pg_current_xact_id()::text::bigint % 4294967296)::text AS xid,
                pg_current_wal_insert_lsn()::text AS from`,
      )
    ).rows[0]);
    const { rows } = await client.query(MOVE_TASK.text, stopValues(id));
    assert.equal(rows[0].to_status, TaskStatus.Paused);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
  const { rows } = await t.db.query(
    `SELECT resource_manager || ' ' || record_type AS record
     FROM pg_get_wal_records_info($1::pg_lsn, pg_current_wal_flush_lsn())
     WHERE xid::text = $2 ORDER BY start_lsn`,
    [from, xid],
  );
  const records = rows.map((row: { record: string }) => row.record);
  assert.equal(records[0], 'Heap HOT_UPDATE', `the stop's first record: ${records.join(', ')}`);
  assert.ok(!records.includes('Heap LOCK'), `the stop locked the row: ${records.join(', ')}`);
  assert.equal(records.at(-1), 'Transaction COMMIT');
});

// PostgreSQL prepares a table's checks and its triggers' WHEN clauses again
// for every statement that writes it; counted with callgrind, the four checks
// and a condition calling task_queue() were a third of a stop's instructions.
test('writing tasks prepares no table check and no function call in a trigger condition', async () => {
  const { rows: checks } = await t.db.query(
    `SELECT conname FROM pg_constraint WHERE conrelid = 'tasks'::regclass AND contype = 'c'`,
  );
  assert.deepEqual(checks, []);
  const { rows: triggers } = await t.db.query(
    `SELECT tgname, pg_get_triggerdef(oid) AS definition FROM pg_trigger
     WHERE tgrelid = 'tasks'::regclass AND NOT tgisinternal AND tgqual IS NOT NULL`,
  );
  for (const { tgname, definition } of triggers) {
    const when = /WHEN \((.*)\) EXECUTE/.exec(definition)?.[1] ?? '';
    assert.doesNotMatch(when, /\w\(/, `${tgname}: ${when}`);
  }
});

test("the service's moves write the queue themselves: the trigger never adds a second update", async () => {
  const paused = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
  await t.db.query('UPDATE tasks SET status = $2 WHERE id = $1', [paused, TaskStatus.Paused]);
  const start = TASK_ACTIONS.start;
  const started = await inRolledBackTransaction(async (client) => {
    const { rows } = await client.query(
      MOVE_TASK_WITH_CHANGES.text,
      MOVE_TASK_WITH_CHANGES.values({
        taskId: paused,
        projectId: PROJECT,
        from: start.from,
        to: start.to,
        action: 'start',
        userId: 'user-hot-stop',
        requestId: 'req-hot-stop',
        secrets: null,
        options: {},
      }),
    );
    const { rows: queued } = await client.query('SELECT queue FROM tasks WHERE id = $1', [paused]);
    return { moved: rows[0].to_status, queue: queued[0].queue };
  });
  assert.deepEqual(started.result, { moved: TaskStatus.Waiting, queue: 1 });
  assert.equal(started.updates, 1, 'the start wrote the task twice');

  // A project of its own: the admission also takes the paused task above
  // out of the running queue, an update of its own.
  const waiting = await insertTask(t.db, `${PROJECT}-admit`, TaskStatus.Waiting);
  const admitted = await inRolledBackTransaction(async (client) => {
    await client.query(
      ADMIT_TASKS.text,
      ADMIT_TASKS.values({
        projectId: `${PROJECT}-admit`,
        running: RUNNING_STATUSES,
        from: TASK_ACTIONS.admit.from,
        maxParallel: 10,
        to: TaskStatus.Migrating,
        requestId: 'req-hot-stop',
        pausedGroups: [],
      }),
    );
    const { rows } = await client.query('SELECT status, queue FROM tasks WHERE id = $1', [waiting]);
    return rows[0];
  });
  assert.deepEqual(admitted.result, { status: TaskStatus.Migrating, queue: 2 });
  assert.equal(admitted.updates, 1, 'the admission wrote the task twice');
});

test('status, priority and queue are checked when written, by anyone', async () => {
  const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
  for (const [column, value, check] of [
    ['status', 8, /CHK_tasks_status/],
    ['status', 0, /CHK_tasks_status/],
    ['task_priority', 4, /CHK_tasks_task_priority/],
    ['queue', 3, /CHK_tasks_queue/],
  ] as const) {
    await assert.rejects(
      t.db.query(`UPDATE tasks SET ${column} = $2 WHERE id = $1`, [id, value]),
      check,
      `${column} = ${value}`,
    );
  }
  const { rows } = await t.db.query(
    'SELECT status, task_priority, queue FROM tasks WHERE id = $1',
    [id],
  );
  assert.deepEqual(rows[0], { status: TaskStatus.Migrating, task_priority: 2, queue: 2 });
});

test('a paused task left in the running queue is not leased; a migrating one is', async () => {
  const migrating = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
  const paused = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
  await t.db.query('UPDATE tasks SET status = $2 WHERE id = $1', [paused, TaskStatus.Paused]);
  assert.equal(await queueOf(paused), 2, 'the pause left the task in the running queue');
  const now = new Date();
  const { rows } = await t.db.query(
    LEASE_TASKS.text,
    LEASE_TASKS.values({
      leasable: [TaskStatus.Migrating, TaskStatus.Retrying],
      limit: 10,
      workerId: 'worker-hot-stop',
      now,
      expiresAt: new Date(now.getTime() + 60_000),
      userId: 'worker',
      requestId: 'req-lease',
    }),
  );
  assert.deepEqual(
    rows.map((row: { task_id: string }) => row.task_id),
    [migrating],
  );
});

function leaseValues(expiresAt: Date): unknown[] {
  const now = new Date();
  return LEASE_TASKS.values({
    leasable: [TaskStatus.Migrating, TaskStatus.Retrying],
    limit: 10,
    workerId: 'worker-hot-stop',
    now,
    expiresAt,
    userId: 'worker',
    requestId: 'req-lease',
  });
}

async function leaseExpiryOf(id: string): Promise<Date | null> {
  const { rows } = await t.db.query('SELECT lease_expires_at FROM tasks WHERE id = $1', [id]);
  return rows[0].lease_expires_at;
}

test("tasks.lease_expires_at follows the task's lease: taken, renewed, expired, deleted", async () => {
  const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
  assert.equal(await leaseExpiryOf(id), null);
  const expiresAt = new Date(Date.now() + 60_000);
  await t.db.query(LEASE_TASKS.text, leaseValues(expiresAt));
  assert.equal((await leaseExpiryOf(id))?.getTime(), expiresAt.getTime());
  const renewed = new Date(Date.now() + 120_000);
  await t.db.query('UPDATE task_leases SET expires_at = $2 WHERE task_id = $1', [id, renewed]);
  assert.equal((await leaseExpiryOf(id))?.getTime(), renewed.getTime());
  // An expired lease stays until the sweep or a takeover; so does its mirror,
  // and the stop compares it with now.
  const past = new Date(Date.now() - 1_000);
  await t.db.query('UPDATE task_leases SET expires_at = $2 WHERE task_id = $1', [id, past]);
  assert.equal((await leaseExpiryOf(id))?.getTime(), past.getTime());
  const { rows } = await t.db.query(MOVE_TASK.text, stopValues(id));
  assert.equal(rows[0].to_status, TaskStatus.Paused, 'an expired lease made the stop wait');
  // An operator freeing a task by hand.
  const other = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
  await t.db.query(LEASE_TASKS.text, leaseValues(expiresAt));
  assert.notEqual(await leaseExpiryOf(other), null);
  await t.db.query('DELETE FROM task_leases WHERE task_id = $1', [other]);
  assert.equal(await leaseExpiryOf(other), null);
  // A leased task deleted: its lease goes with it, and the mirror's update
  // finds no row.
  await t.db.query(LEASE_TASKS.text, leaseValues(expiresAt));
  await t.db.query('DELETE FROM tasks WHERE id = $1', [other]);
  const { rows: left } = await t.db.query(
    'SELECT count(*)::int AS n FROM task_leases WHERE task_id = $1',
    [other],
  );
  assert.equal(left[0].n, 0);
});

test('a stop that waits for a lease being taken sees the lease: pausing, not paused', async () => {
  const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
  const worker = await t.db.connect();
  try {
    await worker.query('BEGIN');
    const { rows: leased } = await worker.query(
      LEASE_TASKS.text,
      leaseValues(new Date(Date.now() + 60_000)),
    );
    assert.equal(leased.length, 1);
    // The stop starts while the lease holds the task's row, and waits for it.
    const stopping = t.db.query(MOVE_TASK.text, stopValues(id));
    // Only this file's database: other test files run beside it.
    await waitUntil('the stop waiting for the lease', async () => {
      const { rows } = await t.db.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE wait_event_type = 'Lock' AND query LIKE '%UPDATE tasks SET updated_at%'
           AND datname = current_database()`,
      );
      return rows[0].n > 0;
    });
    await worker.query('COMMIT');
    const { rows } = await stopping;
    assert.equal(rows[0].to_status, TaskStatus.Pausing);
  } finally {
    await worker.query('ROLLBACK').catch(() => undefined);
    worker.release();
  }
});
