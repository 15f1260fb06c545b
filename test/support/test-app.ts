// Starts the real application for HTTP tests: real PostgreSQL (the test
// database, schema from the migrations), a Keystone double, supertest.

import type { Clock } from '../../src/common/clock.js';
import type { JsonLogger } from '../../src/logging/json-logger.js';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { createApp } from '../../src/app.js';
import { loadConfig, type AppConfig } from '../../src/config/config.js';
import { keystoneAccessKeys } from '../../src/iam/keystone-access-key.store.js';
import { keystoneTokenValidator } from '../../src/iam/keystone-token.validator.js';
import type { TokenValidator } from '../../src/iam/caller.js';
import { TaskStatus } from '../../src/tasks/task-state.js';
import { FakeKeystone } from './fake-keystone.js';
import { fileDatabaseUrl } from './test-database.js';

/** The key tests seal task secrets with, so they can open them again. */
export const TEST_SECRETS_KEY = Buffer.alloc(32, 0x5e);

/**
 * This test file's own database. TEST_DATABASE_URL names the base; `npm test`
 * has cloned `<base>_<file stem>` from the migrated template for every file,
 * and Node's test runner runs each file in a process of its own with the
 * file as process.argv[1], so the file is known without being told.
 */
export function testDatabaseUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set: run the tests with `npm test`');
  const testFile = process.argv[1] ?? '';
  if (!/\.test\.[cm]?[jt]s$/.test(testFile)) {
    throw new Error(`testDatabaseUrl() is for test files run by \`npm test\`, not ${testFile}`);
  }
  return fileDatabaseUrl(url, testFile);
}

export interface TestApp {
  app: NestFastifyApplication;
  /** The HTTP server to hand to supertest's request(). */
  server: ReturnType<NestFastifyApplication['getHttpServer']>;
  /** The loopback port the server listens on. */
  port: number;
  keystone: FakeKeystone;
  /** A separate pool for looking at rows directly. */
  db: pg.Pool;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Environment overrides, as the service would read them. */
  env?: Record<string, string>;
  /** Where the service's pool connects (default: the test database). */
  databaseUrl?: string;
  /** Use this instead of the Keystone client pointed at the double. */
  tokenValidator?: TokenValidator;
  /** Where the app logs (default: nowhere). */
  logger?: JsonLogger;
  /**
   * The app's clock (default: the system's). A ManualClock
   * (manual-clock.ts) lets the test move time instead of sleeping.
   */
  clock?: Clock;
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const keystone = await FakeKeystone.start();
  const config: AppConfig = loadConfig({
    IAM_ENDPOINT: keystone.endpoint,
    DATABASE_URL: testDatabaseUrl(),
    SECRETS_KEY: TEST_SECRETS_KEY.toString('base64'),
    // Tests that set statuses by hand must not have the scheduler move them;
    // the scheduler's own tests turn it on.
    SCHEDULER_SWEEP_INTERVAL_MS: '0',
    ...options.env,
  });
  const tokenValidator =
    options.tokenValidator ??
    keystoneTokenValidator(config, config.iamEndpoint ?? keystone.endpoint);
  const app = await createApp(
    {
      config,
      databaseUrl: options.databaseUrl ?? testDatabaseUrl(),
      tokenValidator,
      accessKeyStore: keystoneAccessKeys(config),
      clock: options.clock,
    },
    options.logger,
  );
  // Listening (rather than letting supertest start the server per request)
  // lets parallel requests share one server and raw sockets reach it.
  await app.listen(0, '127.0.0.1');
  const db = new pg.Pool({ connectionString: testDatabaseUrl(), max: 4 });
  const server = app.getHttpServer();
  return {
    app,
    server,
    port: (server.address() as AddressInfo).port,
    keystone,
    db,
    async close() {
      await app.close();
      await db.end();
      await keystone.stop();
    },
  };
}

export async function insertTask(
  db: pg.Pool,
  projectId: string,
  status: TaskStatus,
  name = 'task',
): Promise<string> {
  const { rows } = await db.query(
    'INSERT INTO tasks (project_id, name, status) VALUES ($1, $2, $3) RETURNING id',
    [projectId, name, status],
  );
  return rows[0].id;
}

export async function taskStatus(db: pg.Pool, id: string): Promise<TaskStatus | undefined> {
  const { rows } = await db.query('SELECT status FROM tasks WHERE id = $1', [id]);
  return rows[0]?.status;
}

export interface AuditRow {
  task_id: string;
  project_id: string;
  /** A TASK_ACTIONS name, or "create". */
  action: string;
  /** null for a creation. */
  from_status: number | null;
  /** null for a deletion. */
  to_status: number | null;
  user_id: string;
  request_id: string;
  created_at: Date;
}

export async function auditRows(db: pg.Pool, taskId: string): Promise<AuditRow[]> {
  const { rows } = await db.query('SELECT * FROM task_transitions WHERE task_id = $1 ORDER BY id', [
    taskId,
  ]);
  return rows;
}

/** Every audit row, whatever task it names. */
export async function allAuditRows(db: pg.Pool): Promise<AuditRow[]> {
  const { rows } = await db.query('SELECT * FROM task_transitions ORDER BY id');
  return rows;
}

export async function emptyTables(db: pg.Pool): Promise<void> {
  await db.query(
    'TRUNCATE tasks, task_details, task_transitions, task_leases, task_groups, task_group_transitions, sync_tasks, sync_task_transitions, sync_task_events',
  );
}
