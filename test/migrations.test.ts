// The migrations, as operators and replicas meet them: several replicas
// migrating one empty database at once, the down migrations, and the table
// contract (a task can be inserted with id, project_id, name and status).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { loadConfig } from '../src/config/config.js';
import { dataSourceOptions } from '../src/database/data-source-options.js';
import { runMigrationsLocked } from '../src/database/migrate.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOCK_MIGRATIONS, UNLOCK_MIGRATIONS } from '../src/database/advisory-locks.js';
import { execute } from '../src/database/statement.js';
import { MIGRATIONS } from '../migrations/index.js';
import { testDatabaseUrl } from './support/test-app.js';
import { assertTestDatabase } from './support/test-database.js';

// This file's own database, made empty again: the migrations must meet a
// database with nothing in it, as a new installation's.
const url = new URL(testDatabaseUrl());
const name = assertTestDatabase(url.toString());
const admin = new URL(url);
admin.pathname = '/postgres';

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

before(async () => {
  await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await adminQuery(`CREATE DATABASE "${name}"`);
});
after(async () => adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));

function newDataSource(): DataSource {
  return new DataSource(dataSourceOptions(loadConfig({}), url.toString()));
}

/** Runs `work` with an initialized data source on the test database, destroyed after. */
async function withDataSource(work: (ds: DataSource) => Promise<void>): Promise<void> {
  const ds = newDataSource();
  await ds.initialize();
  try {
    await work(ds);
  } finally {
    await ds.destroy();
  }
}

test('replicas starting together: one migrates, the others find nothing to do', async () => {
  const replicas = [newDataSource(), newDataSource(), newDataSource(), newDataSource()];
  await Promise.all(replicas.map((ds) => ds.initialize()));
  try {
    const applied = await Promise.all(replicas.map((ds) => runMigrationsLocked(ds)));
    const total = applied.flat();
    assert.deepEqual(
      total.sort(),
      MIGRATIONS.map((m) => m.name).sort(),
      'each migration applied exactly once across all replicas',
    );
    const rows = await replicas[0].query('SELECT name FROM migrations');
    assert.equal(rows.length, MIGRATIONS.length);
  } finally {
    await Promise.all(replicas.map((ds) => ds.destroy()));
  }
});

test('an operator inserts a task with only id, project_id, name and status', async () =>
  withDataSource(async (ds) => {
    await ds.query(`INSERT INTO tasks (id, project_id, name, status) VALUES (42, 'p', 'n', 2)`);
    // Its details row, of defaults, comes from the trigger tasks_have_details.
    const [row] = await ds.query(
      'SELECT * FROM tasks JOIN task_details ON task_id = id WHERE id = 42',
    );
    assert.equal(row.status, 2);
    assert.equal(row.description, '');
    assert.equal(row.task_type, 'object');
    assert.ok(row.created_at instanceof Date);
    // Ids beyond 15 digits would not survive the SDKs' and Terraform's parsing.
    await assert.rejects(
      ds.query(
        `INSERT INTO tasks (id, project_id, name, status) VALUES (1000000000000000, 'p', 'n', 2)`,
      ),
      /CHK_tasks_id_range/,
    );
    await assert.rejects(
      ds.query(`INSERT INTO tasks (project_id, name, status) VALUES ('p', 'n', 8)`),
      /CHK_tasks_status/,
    );
  }));

/** Undoes the applied migrations from the last down to `name`, that one included. */
async function undoThrough(ds: DataSource, name: string): Promise<void> {
  assert.ok(
    MIGRATIONS.some((migration) => migration.name === name),
    `no migration ${name}`,
  );
  for (;;) {
    const [last] = await ds.query('SELECT name FROM migrations ORDER BY id DESC LIMIT 1');
    await ds.undoLastMigration({ transaction: 'each' });
    if (last.name === name) return;
  }
}

test('NarrowTasks moves the details of existing tasks out of tasks and back', async () =>
  withDataSource(async (ds) => {
    await undoThrough(ds, 'NarrowTasks1796170500000');
    await ds.query(
      `INSERT INTO tasks (id, project_id, name, status, description, task_type, src_node,
                          options, total_size, error_reason)
       VALUES (77, 'p', 'wide', 4, 'd', 'prefix', '{"bucket": "b"}', '{"enable_kms": true}', 5,
               '{"error_code": "E"}')`,
    );
    await runMigrationsLocked(ds);
    const [moved] = await ds.query(
      `SELECT t.name, t.status, d.description, d.task_type, d.src_node, d.options,
              d.total_size::int, d.error_reason
       FROM tasks t JOIN task_details d ON d.task_id = t.id WHERE t.id = 77`,
    );
    const details = {
      description: 'd',
      task_type: 'prefix',
      src_node: { bucket: 'b' },
      options: { enable_kms: true },
      total_size: 5,
      error_reason: { error_code: 'E' },
    };
    assert.deepEqual(moved, { name: 'wide', status: 4, ...details });
    const [{ columns }] = await ds.query(
      `SELECT count(*)::int AS columns FROM information_schema.columns
       WHERE table_name = 'tasks' AND column_name = ANY($1)`,
      [Object.keys(details)],
    );
    assert.equal(columns, 0, 'a moved column is still in tasks');

    await undoThrough(ds, 'NarrowTasks1796170500000');
    const [back] = await ds.query(
      `SELECT name, status, description, task_type, src_node, options, total_size::int,
              error_reason FROM tasks WHERE id = 77`,
    );
    assert.deepEqual(back, { name: 'wide', status: 4, ...details });
    await runMigrationsLocked(ds);
    await ds.query('DELETE FROM tasks WHERE id = 77');
  }));

test('TasksKnowTheirLease copies the leases there are into tasks, and takes the column away again', async () =>
  withDataSource(async (ds) => {
    await undoThrough(ds, 'TasksKnowTheirLease1796170600000');
    const expiresAt = new Date(Date.now() + 60_000);
    await ds.query(
      `INSERT INTO tasks (id, project_id, name, status) VALUES (78, 'p', 'leased', 2)`,
    );
    await ds.query(
      `INSERT INTO task_leases (task_id, project_id, worker_id, lease_id, leased_at, expires_at)
       VALUES (78, 'p', 'w', gen_random_uuid(), now(), $1)`,
      [expiresAt],
    );
    await runMigrationsLocked(ds);
    const [copied] = await ds.query('SELECT lease_expires_at FROM tasks WHERE id = 78');
    assert.equal(copied.lease_expires_at?.getTime(), expiresAt.getTime());

    await undoThrough(ds, 'TasksKnowTheirLease1796170600000');
    const [{ columns }] = await ds.query(
      `SELECT count(*)::int AS columns FROM information_schema.columns
       WHERE table_name = 'tasks' AND column_name = 'lease_expires_at'`,
    );
    assert.equal(columns, 0, 'the down migration left the column');
    // Without the trigger a lease is written as before.
    await ds.query('DELETE FROM task_leases WHERE task_id = 78');
    await runMigrationsLocked(ds);
    await ds.query('DELETE FROM tasks WHERE id = 78');
  }));

test('StopTakesNoRowLock keeps the tasks and their queues, and its down migration puts the checks and the trigger back', async () =>
  withDataSource(async (ds) => {
    const triggers = async () =>
      (
        await ds.query(
          `SELECT tgname FROM pg_trigger WHERE tgrelid = 'tasks'::regclass AND NOT tgisinternal
           ORDER BY tgname`,
        )
      ).map((row: { tgname: string }) => row.tgname);
    await undoThrough(ds, 'StopTakesNoRowLock1796170700000');
    await ds.query(
      `INSERT INTO tasks (id, project_id, name, status, task_priority)
       VALUES (81, 'p', 'waiting', 1, 3), (82, 'p', 'paused', 3, 1)`,
    );
    await runMigrationsLocked(ds);
    assert.deepEqual(
      await ds.query(
        'SELECT id::int, status, task_priority, queue FROM tasks WHERE id IN (81, 82) ORDER BY id',
      ),
      [
        { id: 81, status: 1, task_priority: 3, queue: 1 },
        { id: 82, status: 3, task_priority: 1, queue: null },
      ],
    );
    assert.deepEqual(await triggers(), [
      'tasks_have_details',
      'tasks_queued_on_insert',
      'tasks_requeued_after_update',
    ]);

    await undoThrough(ds, 'StopTakesNoRowLock1796170700000');
    assert.deepEqual(await triggers(), ['tasks_have_details', 'tasks_queue_follows_status']);
    // The table checks are back, and the old trigger queues a start.
    await assert.rejects(ds.query('UPDATE tasks SET status = 8 WHERE id = 82'), /CHK_tasks_status/);
    await assert.rejects(
      ds.query(
        `INSERT INTO tasks (id, project_id, name, status) VALUES (1000000000000000, 'p', 'n', 2)`,
      ),
      /violates check constraint "CHK_tasks_id_range"/,
    );
    await ds.query('UPDATE tasks SET status = 1 WHERE id = 82');
    const [[started], [{ domains }]] = await Promise.all([
      ds.query('SELECT queue FROM tasks WHERE id = 82'),
      ds.query(
        `SELECT count(*)::int AS domains FROM pg_type
         WHERE typname IN ('task_status_code', 'task_priority_level', 'task_queue_code', 'task_id_number')`,
      ),
    ]);
    assert.equal(started.queue, 1);
    assert.equal(domains, 0, 'the down migration left its domains');
    await runMigrationsLocked(ds);
    await ds.query('DELETE FROM tasks WHERE id IN (81, 82)');
  }));

test('every migration can be reverted and applied again', async () =>
  withDataSource(async (ds) => {
    for (let i = 0; i < MIGRATIONS.length; i++) await ds.undoLastMigration({ transaction: 'each' });
    const [{ count }] = await ds.query(
      `SELECT count(*)::int AS count FROM information_schema.tables WHERE table_name IN ('tasks', 'task_transitions')`,
    );
    assert.equal(count, 0);
    assert.equal((await runMigrationsLocked(ds)).length, MIGRATIONS.length);
  }));

test("a release waits for the migrations lock longer than the requests' statement timeout", async () => {
  // Another release holds the lock for longer than a request may take.
  const holder = new pg.Client({ connectionString: url.toString() });
  await holder.connect();
  const ds = new DataSource(
    dataSourceOptions(loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '200' }), url.toString()),
  );
  await ds.initialize();
  try {
    await execute(holder, LOCK_MIGRATIONS);
    const released = sleep(600).then(() => execute(holder, UNLOCK_MIGRATIONS));
    assert.deepEqual(await runMigrationsLocked(ds), [], 'waited, then found nothing to do');
    await released;
    // The connection goes back to the pool with the requests' timeout.
    const timeouts = await Promise.all(
      Array.from({ length: 10 }, () => ds.query('SHOW statement_timeout')),
    );
    for (const [row] of timeouts) assert.equal(row.statement_timeout, '200ms');
  } finally {
    await ds.destroy();
    await holder.end();
  }
});
