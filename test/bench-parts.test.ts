// The parts the bench's instruction count takes away from the service's stop
// (bench/instructions.ts SERVICE_PARTS), on a database made by the real
// migrations: each statement without a part still stops and audits the
// task, so its count is a stop's; each part's schema change is undone to
// exactly what the migrations made, so the counts after it are not moved;
// and a part that is no longer in MOVE_TASK stops the count instead of
// counting the statement unchanged.

import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import type pg from 'pg';
import { SERVICE_PARTS, withoutPiece } from '../bench/instructions.js';
import { ladderStatements } from '../bench/pgbench.js';
import { TaskStatus } from '../src/tasks/task-state.js';
import { emptyTables, insertTask, startTestApp, type TestApp } from './support/test-app.js';

const PROJECT = 'project-bench-parts';
let t: TestApp;

before(async () => {
  t = await startTestApp();
});
after(async () => t.close());
beforeEach(async () => emptyTables(t.db));

/** Runs `work` in a transaction that is rolled back, so no part's schema change outlives it. */
async function rolledBack(work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
  const client = await t.db.connect();
  try {
    await client.query('BEGIN');
    await work(client);
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

/** The indexes and triggers a part may touch, as the catalog describes them. */
async function schemaOfParts(client: pg.PoolClient): Promise<unknown> {
  const { rows: indexes } = await client.query(
    `SELECT indexname, indexdef FROM pg_indexes
     WHERE tablename IN ('tasks', 'task_transitions') ORDER BY indexname`,
  );
  const { rows: triggers } = await client.query(
    `SELECT tgname, tgenabled, pg_get_triggerdef(oid) AS definition FROM pg_trigger
     WHERE tgrelid = 'tasks'::regclass AND NOT tgisinternal ORDER BY tgname`,
  );
  return { indexes, triggers };
}

test("the service's stop without each part still pauses the task and writes its audit row", async () => {
  const service = ladderStatements().service;
  for (const { part, text, before: ddl = [] } of SERVICE_PARTS) {
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    await rolledBack(async (client) => {
      for (const query of ddl) await client.query(query);
      const statement = text ? text(service.text) : service.text;
      await client.query(statement, service.values(id, PROJECT));
      const { rows: tasks } = await client.query('SELECT status FROM tasks WHERE id = $1', [id]);
      assert.equal(tasks[0].status, TaskStatus.Paused, part);
      const { rows: audit } = await client.query(
        `SELECT action, from_status, to_status FROM task_transitions WHERE task_id = $1`,
        [id],
      );
      assert.deepEqual(
        audit,
        [{ action: 'stop', from_status: TaskStatus.Migrating, to_status: TaskStatus.Paused }],
        part,
      );
    });
  }
});

test("each statement without a part differs from the service's by that part alone", () => {
  const service = ladderStatements().service.text;
  const changed = SERVICE_PARTS.filter((part) => part.text).map((part) => part.text!(service));
  assert.equal(changed.length, 2);
  for (const text of changed) assert.notEqual(text, service);
  assert.equal(new Set(changed).size, changed.length, 'each takes away something else');
});

test("what a part's schema change is undone to is what the migrations made", async () => {
  for (const { part, before: ddl = [], after: undo = [] } of SERVICE_PARTS) {
    if (ddl.length === 0) continue;
    await rolledBack(async (client) => {
      const made = await schemaOfParts(client);
      for (const query of ddl) await client.query(query);
      assert.notDeepEqual(await schemaOfParts(client), made, `${part}: takes something away`);
      for (const query of undo) await client.query(query);
      assert.deepEqual(await schemaOfParts(client), made, part);
    });
  }
});

test('a piece no longer in the statement, or in it twice, stops the count', () => {
  assert.equal(withoutPiece('a b c', 'b', 'x'), 'a x c');
  assert.throws(() => withoutPiece('a b c', 'd', 'x'), /no longer holds once: d/);
  assert.throws(() => withoutPiece('a b b', 'b', 'x'), /no longer holds once: b/);
});
