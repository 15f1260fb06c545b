// The database's share of a stop, measured apart from Node's: pgbench runs
// the service's stop statement on the service's schema and the yardstick's
// on the yardstick's, PGBENCH_CLIENTS clients over the prepared protocol
// (-M prepared: parsed and planned once per connection, as both servers run
// them), in interleaved rounds.
//
// The service's statement is not copied here: it is MOVE_TASK from
// src/tasks/task.sql.ts, bound to the stop's row of the state table as the
// service binds it, and rendered into a pgbench script when the bench runs,
// so the measurement follows the service when its statement changes.
//
// Every transaction must stop a different migrating task: a stop of a paused
// task changes nothing and would measure nothing. So each client walks its
// own range of task ids (client c stops c × range + 1, + 2, …; pgbench keeps
// a client's variables from one transaction to the next), the tables are
// reset before every run, and after it the bench checks that exactly as many
// tasks were paused, each with its audit row, as pgbench counted
// transactions; otherwise it fails rather than report the number. The task's
// project follows from its id as the seed made it (PROJECT_OF_ID), written
// into both statements the same way, since pgbench variables hold numbers.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TASKS, TASKS_PER_PROJECT, resetBenchDatabase, withClient } from './bench-database.js';
import { parentPid, serverCpuMicros } from './processes.js';
import type { PgbenchRun } from './report.js';
import { PAUSED, STOP } from './yardstick-schema.js';
import { TASK_ACTIONS } from '../src/tasks/task-state.js';
import { MOVE_TASK } from '../src/tasks/task.sql.js';

export const PGBENCH = process.env.PGBENCH ?? '/usr/bin/pgbench';
export const PGBENCH_PATH = 'pgbench';
export const PGBENCH_CLIENTS = 16;
/** Each client's own range of task ids: no two transactions stop the same task. */
const IDS_PER_CLIENT = Math.floor(TASKS / PGBENCH_CLIENTS);

/** Stand-ins for the two values that change with every transaction. */
const TASK_ID = '\u0000task id';
const PROJECT_ID = '\u0000project id';
/** The project of task :id, as bench-database.ts seeded it. */
const PROJECT_OF_ID = `('bench-project-' || lpad(((:id - 1) / ${TASKS_PER_PROJECT})::text, 3, '0'))`;
const USER_ID = 'pgbench-user';
const REQUEST_ID = 'pgbench-request';

export interface PgbenchScript {
  /** The script's text: the id's \set lines, then the statement. */
  readonly text: string;
  /** pgbench -D variables for the values that stay the same. */
  readonly defines: Record<string, string>;
}

/** A positional value as its text form, as node-postgres would send it. */
function asText(value: unknown): string {
  if (Array.isArray(value)) return `{${value.map(asText).join(',')}}`;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  throw new Error(`pgbench: cannot pass ${JSON.stringify(value)} as a variable`);
}

/**
 * A statement (its text with $1…$n) and its positional values as a pgbench
 * script: TASK_ID's place becomes :id, PROJECT_ID's the project of :id, each
 * other value a -D variable.
 */
export function pgbenchScript(text: string, values: readonly unknown[]): PgbenchScript {
  const defines: Record<string, string> = {
    n: '0',
    range: String(IDS_PER_CLIENT),
  };
  const places = values.map((value, i) => {
    if (value === TASK_ID) return ':id';
    if (value === PROJECT_ID) return PROJECT_OF_ID;
    defines[`p${i + 1}`] = asText(value);
    return `:p${i + 1}`;
  });
  const body = text.trim().replace(/\$(\d+)/g, (_, n: string) => {
    const place = places[Number(n) - 1];
    if (place === undefined) throw new Error(`pgbench: $${n} has no value`);
    return place;
  });
  if (body.includes(';')) throw new Error('pgbench: a statement must hold no ";" of its own');
  return {
    text: ['\\set n :n + 1', '\\set id :client_id * :range + :n', `${body};`, ''].join('\n'),
    defines,
  };
}

/** A stop statement of the ladder, with its values for one task. */
export interface LadderStatement {
  readonly text: string;
  readonly values: (taskId: string, projectId: string) => unknown[];
}

/** The service's stop, as task-transitions.ts binds MOVE_TASK for it. */
function serviceStop(): LadderStatement {
  const stop = TASK_ACTIONS.stop;
  const now = new Date();
  return {
    text: MOVE_TASK.text,
    values: (taskId, projectId) =>
      MOVE_TASK.values({
        taskId,
        projectId,
        from: stop.from,
        action: 'stop',
        userId: USER_ID,
        requestId: REQUEST_ID,
        to: stop.to,
        whileLeased: stop.whileLeased ?? stop.to,
        now,
      }),
  };
}

/** A statement of $1 task, $2 project, $3 user, $4 request id. */
function plainStop(text: string): LadderStatement {
  return { text, values: (taskId, projectId) => [taskId, projectId, USER_ID, REQUEST_ID] };
}

// Two steps between the two, to show where the database's time goes: the
// plainest correct stop (the conditional UPDATE and its audit INSERT, as the
// yardstick's STOP, without the read-back of the status) on the service's
// tables, and then with its audit row in the yardstick's bare table instead
// of task_transitions. From the service's statement to the first: the
// lease read from the row and the read-back; from
// the first to the second: the audit row's width and indexes; from the
// second to the yardstick: the width of the task row the stop rewrites and
// the indexes and triggers of its table.

/** $1 task, $2 project, $3 user, $4 request id. */
const PLAIN_STOP = `
WITH stopped AS (
  UPDATE tasks SET status = ${TASK_ACTIONS.stop.to}, updated_at = now()
  WHERE id = $1 AND project_id = $2 AND status = ${TASK_ACTIONS.stop.from[0]}
  RETURNING id, project_id
)
INSERT INTO task_transitions (task_id, project_id, action, from_status, to_status, user_id, request_id)
SELECT id, project_id, 'stop', ${TASK_ACTIONS.stop.from[0]}, ${TASK_ACTIONS.stop.to}, $3, $4 FROM stopped`;

/** The same UPDATE of `tasks`, with the audit row in yardstick.stops. */
const PLAIN_STOP_BARE_AUDIT = `
WITH stopped AS (
  UPDATE tasks SET status = ${TASK_ACTIONS.stop.to}, updated_at = now()
  WHERE id = $1 AND project_id = $2 AND status = ${TASK_ACTIONS.stop.from[0]}
  RETURNING id, project_id
)
INSERT INTO yardstick.stops (task_id, project_id, user_id, request_id)
SELECT id, project_id, $3, $4 FROM stopped`;

/** The statements pgbench runs, in the ladder's order, service first. */
export const PGBENCH_STATEMENTS = ['service', 'plain', 'plain-bare-audit', 'yardstick'] as const;
export type PgbenchStatement = (typeof PGBENCH_STATEMENTS)[number];

/** The ladder's statements, service first; pgbench and the instruction count run the same. */
export function ladderStatements(): Record<PgbenchStatement, LadderStatement> {
  return {
    service: serviceStop(),
    plain: plainStop(PLAIN_STOP),
    'plain-bare-audit': plainStop(PLAIN_STOP_BARE_AUDIT),
    yardstick: plainStop(STOP.text),
  };
}

export function pgbenchScripts(): Record<PgbenchStatement, PgbenchScript> {
  const statements = ladderStatements();
  const scripts = {} as Record<PgbenchStatement, PgbenchScript>;
  for (const name of PGBENCH_STATEMENTS) {
    const { text, values } = statements[name];
    scripts[name] = pgbenchScript(text, values(TASK_ID, PROJECT_ID));
  }
  return scripts;
}

/** What each statement must have done, counted in the database after a run. */
const SERVICE_OUTCOME = {
  paused: 'SELECT count(*)::int AS n FROM tasks WHERE status = $1',
  audited: "SELECT count(*)::int AS n FROM task_transitions WHERE action = 'stop'",
  pausedStatus: TASK_ACTIONS.stop.to,
};
const OUTCOME: Record<PgbenchStatement, typeof SERVICE_OUTCOME> = {
  service: SERVICE_OUTCOME,
  plain: SERVICE_OUTCOME,
  'plain-bare-audit': {
    ...SERVICE_OUTCOME,
    audited: 'SELECT count(*)::int AS n FROM yardstick.stops',
  },
  yardstick: {
    paused: 'SELECT count(*)::int AS n FROM yardstick.tasks WHERE status = $1',
    audited: 'SELECT count(*)::int AS n FROM yardstick.stops',
    pausedStatus: PAUSED,
  },
};

function runPgbench(
  databaseUrl: string,
  scriptFile: string,
  defines: Record<string, string>,
  seconds: number,
): Promise<{ tps: number; transactions: number }> {
  const args = [
    '-n', // no vacuum of pgbench's own tables: there are none
    '-M',
    'prepared',
    '-c',
    String(PGBENCH_CLIENTS),
    '-j',
    '2',
    '-T',
    String(seconds),
    ...Object.entries(defines).flatMap(([name, value]) => ['-D', `${name}=${value}`]),
    '-f',
    scriptFile,
    databaseUrl,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(PGBENCH, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk));
    child.on('error', reject);
    child.on('exit', (code) => {
      const tps = /^tps = ([\d.]+) \(without initial connection time\)/m.exec(output);
      const done = /^number of transactions actually processed: (\d+)/m.exec(output);
      const failed = /^number of failed transactions: (\d+)/m.exec(output);
      if (code !== 0 || !tps || !done || (failed && failed[1] !== '0')) {
        reject(new Error(`pgbench exited with ${code}:\n${output}`));
        return;
      }
      resolve({ tps: Number(tps[1]), transactions: Number(done[1]) });
    });
  });
}

/** Whether pgbench is here to run; the bench says so and skips the comparison if not. */
export function pgbenchAvailable(): boolean {
  return existsSync(PGBENCH);
}

/**
 * `rounds` interleaved rounds of `seconds` each: every statement every
 * round, the one that goes first moving on, each on freshly reset tables.
 */
export async function pgbenchRuns(
  databaseUrl: string,
  rounds: number,
  seconds: number,
  log: (line: string) => void,
): Promise<PgbenchRun[]> {
  const dir = mkdtempSync(join(tmpdir(), 'oms-pgbench-'));
  const scripts = pgbenchScripts();
  const files = {} as Record<PgbenchStatement, string>;
  for (const statement of PGBENCH_STATEMENTS) {
    files[statement] = join(dir, `${statement}.sql`);
    writeFileSync(files[statement], scripts[statement].text);
  }
  const runs: PgbenchRun[] = [];
  const postmaster = await postmasterPid(databaseUrl);
  try {
    for (let round = 1; round <= rounds; round++) {
      // Who goes first moves on by one every round.
      const order = PGBENCH_STATEMENTS.map(
        (_, i) => PGBENCH_STATEMENTS[(i + round - 1) % PGBENCH_STATEMENTS.length],
      );
      for (const statement of order) {
        await resetBenchDatabase(databaseUrl);
        const cpuBefore = postmaster && (await serverCpuWhenQuiet(databaseUrl, postmaster));
        const { tps, transactions } = await runPgbench(
          databaseUrl,
          files[statement],
          scripts[statement].defines,
          seconds,
        );
        const cpuAfter = postmaster && (await serverCpuWhenQuiet(databaseUrl, postmaster));
        if (transactions > IDS_PER_CLIENT * PGBENCH_CLIENTS) {
          throw new Error(`pgbench ran ${transactions} stops, more than the tasks to stop`);
        }
        await checkOutcome(databaseUrl, statement, transactions);
        // A stop costs the server CPU: a reading of none is a failed one
        // (seen once, cause not found), reported as not measured.
        const cpuPerStop =
          cpuBefore && cpuAfter && cpuAfter > cpuBefore
            ? (cpuAfter - cpuBefore) / transactions
            : undefined;
        runs.push({ statement, round, tps, transactions, cpuPerStop });
        log(
          `round ${round} pgbench       ${statement.padEnd(23)} ${tps.toFixed(0).padStart(6)} tps  ` +
            (cpuPerStop === undefined ? '' : `${cpuPerStop.toFixed(0)} µs server CPU/stop  `) +
            `(${transactions} stops, each a different task)`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await resetBenchDatabase(databaseUrl);
  return runs;
}

/**
 * The server's CPU once no other client is connected to the bench database
 * and the last one's backend has been reaped, so that no backend is between
 * being counted live and being counted as a waited-for child: read so before
 * and after each run, its figure is the run's alone, without the reset's.
 */
async function serverCpuWhenQuiet(
  databaseUrl: string,
  postmaster: number,
): Promise<number | undefined> {
  await withClient(databaseUrl, async (client) => {
    for (let tries = 0; tries < 100; tries++) {
      const { rows } = await client.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
      );
      if (rows[0].n === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
  return serverCpuMicros(postmaster);
}

/**
 * The PostgreSQL server's postmaster, if it runs on this machine where
 * /proc shows it: the parent of this connection's backend. Its CPU time
 * and its children's are what a run costs the server, whatever else the
 * machine is doing meanwhile, where tps also moves with the neighbours.
 */
async function postmasterPid(databaseUrl: string): Promise<number | undefined> {
  // Read while the connection is open: its backend ends with it.
  const parent = await withClient(databaseUrl, async (client) =>
    parentPid((await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number),
  );
  return parent !== undefined && serverCpuMicros(parent) !== undefined ? parent : undefined;
}

/** Fails unless the run paused exactly `transactions` tasks, each with one audit row. */
export async function checkOutcome(
  databaseUrl: string,
  statement: PgbenchStatement,
  transactions: number,
): Promise<void> {
  const outcome = OUTCOME[statement];
  const [paused, audited] = await withClient(databaseUrl, async (client) => [
    (await client.query(outcome.paused, [outcome.pausedStatus])).rows[0].n as number,
    (await client.query(outcome.audited)).rows[0].n as number,
  ]);
  if (paused !== transactions || audited !== transactions) {
    throw new Error(
      `pgbench, ${statement}'s statement: ${transactions} transactions paused ${paused} tasks ` +
        `with ${audited} audit rows; each transaction must stop a different migrating task`,
    );
  }
}
