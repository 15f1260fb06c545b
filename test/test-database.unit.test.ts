// The names `npm test` gives the tests' databases: derived from the base
// named by TEST_DATABASE_URL and the test file, within PostgreSQL's 63 bytes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { databaseName, fileDatabaseUrl, templateDatabaseUrl } from './support/test-database.js';

const BASE = 'postgres://postgres@127.0.0.1:5432/oms_test';

test('a file database is the base and the file stem; the template is the base and "template"', () => {
  assert.equal(
    fileDatabaseUrl(BASE, '/x/dist/test/health.http.test.js'),
    'postgres://postgres@127.0.0.1:5432/oms_test_health_http',
  );
  assert.equal(
    fileDatabaseUrl(BASE, 'test/Stop-Faults.http.test.ts'),
    'postgres://postgres@127.0.0.1:5432/oms_test_stop_faults_http',
  );
  assert.equal(templateDatabaseUrl(BASE), 'postgres://postgres@127.0.0.1:5432/oms_test_template');
});

test('a name longer than 63 bytes is cut, with a hash that keeps two cut names apart', () => {
  const base = `oms_test_${'b'.repeat(50)}`;
  const one = databaseName(base, 'faults_database');
  const other = databaseName(base, 'faults_process');
  assert.equal(Buffer.byteLength(one), 63);
  assert.equal(Buffer.byteLength(other), 63);
  assert.notEqual(one, other);
  assert.ok(one.startsWith(base.slice(0, 40)));
  assert.equal(databaseName(base, 'faults_database'), one, 'the same name every time');
});

test('a base whose name does not say "test" is refused', () => {
  assert.throws(() => fileDatabaseUrl('postgres://u@h/oms', 'a.test.js'), /must contain "test"/);
});
