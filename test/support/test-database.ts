// The tests' databases: named so that they say they are for tests (anything
// else is refused, so a stray URL can never point the suite at real data).
// `npm test` migrates one template database with the real migrations, then
// clones it once per test file (CREATE DATABASE ... TEMPLATE, a file copy
// that costs a fraction of a second), so that files can run in parallel and
// no file ever sees another file's rows. Every name is derived from
// TEST_DATABASE_URL's database name, here and in the test processes alike.

import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/config.js';
import { dataSourceOptions } from '../../src/database/data-source-options.js';
import { runMigrationsLocked } from '../../src/database/migrate.js';

/** PostgreSQL cuts longer names silently (NAMEDATALEN - 1), so two long names could meet. */
const MAX_NAME_BYTES = 63;

export function assertTestDatabase(url: string): string {
  const name = databaseOf(url);
  if (!/test/i.test(name)) {
    throw new Error(`Refusing to use database "${name}" for tests: its name must contain "test"`);
  }
  return name;
}

function databaseOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
}

/** `url` with its database replaced by `name`. */
export function withDatabase(url: string, name: string): string {
  const changed = new URL(url);
  changed.pathname = `/${encodeURIComponent(name)}`;
  return changed.toString();
}

/** `<base>_<suffix>`, cut to PostgreSQL's limit with a hash of the whole, so cut names stay apart. */
export function databaseName(base: string, suffix: string): string {
  const name = `${base}_${suffix}`;
  if (Buffer.byteLength(name) <= MAX_NAME_BYTES) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  let cut = name;
  while (Buffer.byteLength(`${cut}_${hash}`) > MAX_NAME_BYTES) cut = cut.slice(0, -1);
  return `${cut}_${hash}`;
}

/** The migrated database every test file's database is cloned from. */
export function templateDatabaseUrl(baseUrl: string): string {
  return withDatabase(baseUrl, databaseName(assertTestDatabase(baseUrl), 'template'));
}

/** The database of one test file: `<base>_<file stem>`, e.g. oms_test_health_http. */
export function fileDatabaseUrl(baseUrl: string, testFile: string): string {
  const stem = basename(testFile)
    .replace(/\.test\.[cm]?[jt]s$/, '')
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_');
  return withDatabase(baseUrl, databaseName(assertTestDatabase(baseUrl), stem));
}

function quote(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Runs `use` on a connection to the server's maintenance database. */
async function withAdmin<T>(url: string, use: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.end();
  }
}

/** Drops and re-creates the database of `url`, then runs every migration on it. */
export async function recreateTestDatabase(url: string): Promise<string[]> {
  const name = assertTestDatabase(url);
  await withAdmin(url, async (admin) => {
    await admin.query(`DROP DATABASE IF EXISTS ${quote(name)} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${quote(name)}`);
  });
  const dataSource = new DataSource(dataSourceOptions(loadConfig({}), url));
  await dataSource.initialize();
  try {
    return await runMigrationsLocked(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

/** Makes the database of `url` afresh as a copy of `templateUrl`'s (which nobody may be using). */
export async function cloneTestDatabase(templateUrl: string, url: string): Promise<void> {
  const template = assertTestDatabase(templateUrl);
  const name = assertTestDatabase(url);
  await withAdmin(url, async (admin) => {
    // A run that was killed may have left it behind.
    await admin.query(`DROP DATABASE IF EXISTS ${quote(name)} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${quote(name)} TEMPLATE ${quote(template)}`);
  });
}

/** Drops the database of `url`, closing whatever connections a test left open. */
export async function dropTestDatabase(url: string): Promise<void> {
  const name = assertTestDatabase(url);
  await withAdmin(url, (admin) =>
    admin.query(`DROP DATABASE IF EXISTS ${quote(name)} WITH (FORCE)`),
  );
}
