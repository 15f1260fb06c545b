// The benchmark's database: PROJECTS projects of TASKS_PER_PROJECT migrating
// tasks each, task ids 1..TASKS in project order. Its schema is made by the
// service's real migrations, and the yardstick's schema beside it
// (bench/yardstick-schema.ts) holds the same tasks; a database already seeded at the current
// schema is reused, since seeding takes a while.

import pg from 'pg';
import { DataSource } from 'typeorm';
import { loadConfig } from '../src/config/config.js';
import { dataSourceOptions } from '../src/database/data-source-options.js';
import { runMigrationsLocked } from '../src/database/migrate.js';
import { MIGRATIONS } from '../migrations/index.js';
import { prepareYardstickSchema, resetYardstickSchema } from './yardstick-schema.js';

export const PROJECTS = 100;
export const TASKS_PER_PROJECT = 10_000;
export const TASKS = PROJECTS * TASKS_PER_PROJECT;

/** bench-project-000 … bench-project-099 */
export function projectId(index: number): string {
  return `bench-project-${String(index).padStart(3, '0')}`;
}

/** The project a seeded task belongs to. */
export function projectOfTask(taskId: number): string {
  return projectId(Math.floor((taskId - 1) / TASKS_PER_PROJECT));
}

/** projectOfTask in SQL, for the task numbered `g`. */
const PROJECT_OF_TASK_SQL = `'bench-project-' || lpad(((g - 1) / ${TASKS_PER_PROJECT})::text, 3, '0')`;

/** What a reusable database must have been seeded with. */
const SEED_MARK = `${TASKS} tasks in ${PROJECTS} projects; ${MIGRATIONS.map((m) => m.name).join(',')}`;

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A connection for `use`, closed after it (the bench's paths share this). */
export async function withClient<T>(
  url: string,
  use: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

async function seedMark(url: string): Promise<string | undefined> {
  try {
    return await withClient(url, async (client) => {
      const { rows } = await client.query('SELECT mark FROM bench_seed');
      return rows[0]?.mark as string | undefined;
    });
  } catch {
    return undefined; // no such database, or never seeded
  }
}

/** Makes sure `url` holds the seeded benchmark database; says what it did. */
export async function prepareBenchDatabase(url: string, log: (line: string) => void) {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  if (!/bench/i.test(name)) {
    throw new Error(`Refusing to use database "${name}" for the bench: its name must say "bench"`);
  }
  if ((await seedMark(url)) === SEED_MARK) {
    log(`Reusing the seeded database ${name}`);
    await withClient(url, (client) =>
      prepareYardstickSchema(client, TASKS, PROJECT_OF_TASK_SQL, log),
    );
    return;
  }
  const started = Date.now();
  log(`Creating ${name}: migrations, then ${TASKS.toLocaleString('en')} tasks`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  await withClient(admin.toString(), async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
  });
  await migrate(url);
  await seedTasks(url, TASKS, log);
  await withClient(url, async (client) => {
    await client.query('CREATE TABLE bench_seed (mark text NOT NULL)');
    await client.query('INSERT INTO bench_seed (mark) VALUES ($1)', [SEED_MARK]);
  });
  log(`Seeded in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Runs the service's migrations on `url`, as the service does at its start. */
export async function migrate(url: string): Promise<void> {
  const dataSource = new DataSource(dataSourceOptions(loadConfig({}), url));
  await dataSource.initialize();
  try {
    await runMigrationsLocked(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

/**
 * Tasks 1…`tasks`, migrating, in the bench's projects, into a migrated
 * database, and the same tasks in the yardstick's schema.
 */
export async function seedTasks(url: string, tasks: number, log: (line: string) => void) {
  await withClient(url, async (client) => {
    await client.query(
      `INSERT INTO tasks (id, project_id, name, status)
       SELECT g, ${PROJECT_OF_TASK_SQL}, 'bench task ' || g, 2
       FROM generate_series(1, $1::bigint) AS g`,
      [tasks],
    );
    await client.query('VACUUM ANALYZE tasks');
    await prepareYardstickSchema(client, tasks, PROJECT_OF_TASK_SQL, log);
  });
}

/**
 * Puts every task back to migrating and empties the audit trail, the
 * service's and the yardstick's, so that each run of a path that pauses
 * tasks starts from the same state.
 */
export async function resetBenchDatabase(url: string): Promise<void> {
  await withClient(url, async (client) => {
    await client.query('UPDATE tasks SET status = 2 WHERE status <> 2');
    await client.query('TRUNCATE task_transitions');
    await client.query('VACUUM tasks');
    await resetYardstickSchema(client);
  });
}
