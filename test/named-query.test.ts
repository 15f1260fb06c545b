// Hot statements run as named prepared statements (src/database/named-query.ts):
// parsed once per connection, then only bound and executed. These tests hold
// the way they are sent to that, on a held connection and on the pool alike,
// and to giving the rows or the server's error as pg's own query() would.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DataSource } from 'typeorm';
import { holdConnection, namedQuery } from '../src/database/named-query.js';
import type { Statement } from '../src/database/statement.js';
import { startTestApp, type TestApp } from './support/test-app.js';

let t: TestApp;
let db: DataSource;

before(async () => {
  t = await startTestApp();
  db = t.app.get(DataSource);
});
after(async () => t.close());

const DOUBLED: Statement<{ n: number }, { doubled: number }> = {
  name: 'test-doubled',
  text: 'SELECT $1::int * 2 AS doubled',
  values: (p) => [p.n],
};

const DIVIDED: Statement<{ n: number }, { quotient: number }> = {
  name: 'test-divided',
  text: 'SELECT 1 / $1::int AS quotient',
  values: (p) => [p.n],
};

const PREPARED: Statement<void, { name: string; statement: string }> = {
  name: 'test-prepared',
  text: 'SELECT name, statement FROM pg_prepared_statements ORDER BY name',
  values: () => [],
};

test('a named statement is prepared on the connection under its name, once, and gives its rows', async () => {
  const connection = await holdConnection(db);
  try {
    assert.deepEqual(await connection.namedQuery(DOUBLED, { n: 21 }), [{ doubled: 42 }]);
    assert.deepEqual(await connection.namedQuery(DOUBLED, { n: 4 }), [{ doubled: 8 }]);
    const prepared = await connection.query(PREPARED);
    assert.deepEqual(
      prepared.filter((row) => row.name.startsWith('test-')),
      [{ name: 'test-doubled', statement: DOUBLED.text }],
      'one prepared statement, under the name, for both calls',
    );
  } finally {
    connection.release();
  }
});

test("the server's error rejects the call, and the connection goes on answering", async () => {
  const connection = await holdConnection(db);
  try {
    await assert.rejects(connection.namedQuery(DIVIDED, { n: 0 }), { code: '22012' });
    assert.deepEqual(await connection.namedQuery(DIVIDED, { n: 1 }), [{ quotient: 1 }]);
  } finally {
    connection.release();
  }
});

test('on the pool, a named statement gives its rows and its errors alike', async () => {
  assert.deepEqual(await namedQuery(db, DOUBLED, { n: 5 }), [{ doubled: 10 }]);
  await assert.rejects(namedQuery(db, DIVIDED, { n: 0 }), { code: '22012' });
  assert.deepEqual(await namedQuery(db, DIVIDED, { n: 2 }), [{ quotient: 0 }]);
});

test('a name is bound to its text: another text under the same name is refused', async () => {
  const connection = await holdConnection(db);
  try {
    await connection.namedQuery(DOUBLED, { n: 1 });
    const impostor = { ...DOUBLED, text: 'SELECT $1::int * 3 AS doubled' };
    await assert.rejects(connection.namedQuery(impostor, { n: 1 }), /must be unique/);
  } finally {
    connection.release();
  }
});
