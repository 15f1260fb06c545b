// The harness's promise to every test file: a database of its own, a fresh
// clone of the migrated template, that no other file writes to.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { testDatabaseUrl } from './support/test-app.js';
import { fileDatabaseUrl } from './support/test-database.js';

let db: pg.Pool;
before(() => {
  db = new pg.Pool({ connectionString: testDatabaseUrl(), max: 1 });
});
after(() => db.end());

test("testDatabaseUrl() is this file's own database, migrated and empty", async () => {
  const own = new URL(fileDatabaseUrl(process.env.TEST_DATABASE_URL!, 'test-harness.test.js'));
  const [{ name }] = (await db.query('SELECT current_database() AS name')).rows;
  assert.equal(name, own.pathname.slice(1));
  const { rows } = await db.query(
    'SELECT (SELECT count(*) FROM migrations)::int AS migrations, (SELECT count(*) FROM tasks)::int AS tasks',
  );
  assert.ok(rows[0].migrations > 0, 'cloned from the migrated template');
  assert.equal(rows[0].tasks, 0, 'no other file has written here');
});
