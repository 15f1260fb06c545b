// The tests' database: named so that it says it is for tests (anything else
// is refused, so a stray URL can never point the suite at real data), made
// afresh, and given its schema by the real migrations.

import pg from 'pg';
import { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/config.js';
import { dataSourceOptions } from '../../src/database/data-source-options.js';
import { runMigrationsLocked } from '../../src/database/migrate.js';

export function assertTestDatabase(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!/test/i.test(name)) {
    throw new Error(`Refusing to use database "${name}" for tests: its name must contain "test"`);
  }
  return name;
}

/** Drops and re-creates the database of `url`, then runs every migration on it. */
export async function recreateTestDatabase(url: string): Promise<string[]> {
  const name = assertTestDatabase(url);
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: maintenance.toString() });
  await admin.connect();
  try {
    const quoted = `"${name.replace(/"/g, '""')}"`;
    await admin.query(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${quoted}`);
  } finally {
    await admin.end();
  }
  const dataSource = new DataSource(dataSourceOptions(loadConfig({}), url));
  await dataSource.initialize();
  try {
    return await runMigrationsLocked(dataSource);
  } finally {
    await dataSource.destroy();
  }
}
