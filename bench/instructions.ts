// The database's share of a stop, counted instead of timed: the CPU
// instructions a PostgreSQL backend executes per stop, under valgrind's
// callgrind, for each statement of the pgbench ladder (bench/pgbench.ts).
// A count does not move with what else the shared machine is doing, so two
// statements a few percent apart are told apart, where tps and CPU time need
// many rounds to do it.
//
// The server is one of the bench's own (test/support/throwaway-postgres.ts):
// made with the real migrations and SEED_TASKS migrating tasks in the bench's
// projects (bench-database.ts), then started again under callgrind, which
// follows every backend it forks into a file of its own. For each statement,
// one connection stops FEW tasks and another MANY, each running the
// statement as a named prepared statement with node-postgres, as the service
// does; the difference of the two backends' counts over MANY - FEW stops is
// the count per stop, without the connection's start and end. The counts are
// of user-space instructions: the kernel's work (socket, fsync) is not in
// them, and neither is the WAL writer's.
//
// Every statement starts on tables rewritten by VACUUM FULL, so on the same
// pages. Reset and VACUUM alone leave the pages of a table as the statements
// before left them, and a stop's opportunistic pruning of its page depends
// on that: measured, the service's statement counted 302,000 first and
// 281,000 third on the same tables. The service's statement is counted
// again after the others, and the bench shows both, so an order effect
// would show.

import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { PartCountRow } from './report.js';
import { ThrowawayPostgres } from '../test/support/throwaway-postgres.js';
import {
  migrate,
  projectOfTask,
  resetBenchDatabase,
  seedTasks,
  withClient,
} from './bench-database.js';
import {
  PGBENCH_STATEMENTS,
  checkOutcome,
  ladderStatements,
  type PgbenchStatement,
} from './pgbench.js';

export const VALGRIND = process.env.VALGRIND ?? '/usr/bin/valgrind';
const SEED_TASKS = 20_000;
/** How many stops each of the two connections makes. */
export const COUNTED_STOPS = { few: 100, many: 600 } as const;
const FEW = COUNTED_STOPS.few;
const MANY = COUNTED_STOPS.many;

export interface InstructionCount {
  readonly statement: PgbenchStatement;
  readonly instructionsPerStop: number;
}

/** The ladder's counts, the service's without each of its parts, and the service's once more. */
export interface InstructionCounts {
  readonly ladder: InstructionCount[];
  readonly parts: PartCountRow[];
  readonly serviceAgain: number;
}

/**
 * A part of the service's stop, taken away to count what it costs: the
 * statement without it (`text`, from MOVE_TASK's), or the table without it
 * (`before`, undone by `after`). Each leaves a statement that still stops
 * and audits every task it is given, which the count checks.
 */
export interface ServicePart {
  readonly part: string;
  readonly text?: (statement: string) => string;
  readonly before?: readonly string[];
  readonly after?: readonly string[];
}

/**
 * `statement` with `piece` replaced; throws if the piece is not in it once,
 * so a change to MOVE_TASK stops the count rather than count the wrong thing.
 */
export function withoutPiece(statement: string, piece: string, replacement: string): string {
  const at = statement.indexOf(piece);
  if (at < 0 || statement.indexOf(piece, at + 1) >= 0) {
    throw new Error(`instructions: the service's statement no longer holds once: ${piece}`);
  }
  return statement.slice(0, at) + replacement + statement.slice(at + piece.length);
}

// The parameters a part used stay in the statement (a prepared statement must
// be able to type every parameter it is bound), in a test as cheap as any.
export const SERVICE_PARTS: readonly ServicePart[] = [
  {
    part: 'the read-back of a status that did not move',
    text: (statement) =>
      withoutPiece(
        statement,
        '(SELECT status FROM tasks WHERE id = $1 AND project_id = $2)',
        'NULL::smallint',
      ),
  },
  {
    part: "the lease read from the row (the task's lease_expires_at)",
    text: (statement) =>
      withoutPiece(
        statement,
        'WHEN lease_expires_at > $9::timestamptz',
        'WHEN $9::timestamptz IS NULL',
      ),
  },
  {
    part: 'the requeue trigger tasks_requeued_after_update (for a stop, its WHEN alone, which PostgreSQL reads and plans on every statement)',
    before: ['ALTER TABLE tasks DISABLE TRIGGER tasks_requeued_after_update'],
    after: ['ALTER TABLE tasks ENABLE TRIGGER tasks_requeued_after_update'],
  },
  {
    part: "the audit trail's (task_id, id) index (IDX_task_transitions_task_id)",
    before: ['DROP INDEX "IDX_task_transitions_task_id"'],
    after: ['CREATE INDEX "IDX_task_transitions_task_id" ON task_transitions (task_id, id)'],
  },
];

/** Whether valgrind is here to count with; the bench says so and skips the count if not. */
export function valgrindAvailable(): boolean {
  return existsSync(VALGRIND) && spawnSync(VALGRIND, ['--version']).status === 0;
}

/** Each ladder statement's instructions per stop; `log` is told what happens. */
export async function countInstructions(log: (line: string) => void): Promise<InstructionCounts> {
  const server = await ThrowawayPostgres.create();
  try {
    const url = server.url('oms_bench_instructions');
    await withClient(server.url(), async (client) => {
      await client.query('CREATE DATABASE oms_bench_instructions');
      // Nothing but the statements under count: no autovacuum passing by,
      // and a commit that does not wait for its WAL to reach the disk.
      await client.query('ALTER SYSTEM SET autovacuum = off');
      await client.query('ALTER SYSTEM SET synchronous_commit = off');
    });
    await migrate(url);
    await seedTasks(url, SEED_TASKS, log);

    const counts = join(server.dataDir, 'callgrind');
    await server.stop();
    log('Instructions: starting PostgreSQL again under callgrind (slow to start)');
    // Written by the backends, which run as the server's OS user.
    mkdirSync(counts);
    chmodSync(counts, 0o777);
    await server.start([
      VALGRIND,
      '--tool=callgrind',
      '--trace-children=yes',
      `--callgrind-out-file=${counts}/backend.%p`,
    ]);

    const statements = ladderStatements();
    const count = async (statement: PgbenchStatement, text = statements[statement].text) => {
      const { values } = statements[statement];
      await resetBenchDatabase(url);
      await withClient(url, async (client) => {
        await client.query('VACUUM FULL tasks');
        await client.query('VACUUM FULL yardstick.tasks');
        await client.query('ANALYZE tasks, yardstick.tasks');
      });
      // Tasks 1… for the few, the many after them: each stop a different task.
      const few = await backendInstructions(url, counts, text, values, 1, FEW);
      const many = await backendInstructions(url, counts, text, values, FEW + 1, MANY);
      await checkOutcome(url, statement, FEW + MANY);
      return (many - few) / (MANY - FEW);
    };
    const show = (label: string, perStop: number) =>
      log(
        `instructions  ${label.padEnd(23)} ${Math.round(perStop).toLocaleString('en').padStart(9)} per stop`,
      );
    const ladder: InstructionCount[] = [];
    for (const statement of PGBENCH_STATEMENTS) {
      const instructionsPerStop = await count(statement);
      ladder.push({ statement, instructionsPerStop });
      show(statement, instructionsPerStop);
    }
    const parts: PartCountRow[] = [];
    const serviceText = statements.service.text;
    const ddl = (queries: readonly string[]) =>
      withClient(url, async (client) => {
        for (const query of queries) await client.query(query);
      });
    for (const { part, text, before = [], after = [] } of SERVICE_PARTS) {
      await ddl(before);
      try {
        const instructionsPerStop = await count('service', text ? text(serviceText) : serviceText);
        parts.push({ part, instructionsPerStop });
        show('service without a part', instructionsPerStop);
      } finally {
        await ddl(after);
      }
    }
    // Last, so that a part left behind, or an order effect, would show.
    const serviceAgain = await count('service');
    show('service, again', serviceAgain);
    return { ladder, parts, serviceAgain };
  } finally {
    await server.destroy();
  }
}

/**
 * One connection stops tasks first … first + n - 1 with the statement, then
 * closes; its backend's callgrind file (written when the backend exits)
 * gives the instructions it executed.
 */
async function backendInstructions(
  url: string,
  counts: string,
  text: string,
  values: (taskId: string, projectId: string) => unknown[],
  first: number,
  n: number,
): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let pid: number;
  try {
    pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
    for (let id = first; id < first + n; id++) {
      await client.query({ name: 'stop', text, values: values(String(id), projectOfTask(id)) });
    }
  } finally {
    await client.end();
  }
  const file = join(counts, `backend.${pid}`);
  for (let waited = 0; waited < 60_000; waited += 100) {
    // The file is complete once its totals line is written, its last.
    const totals = existsSync(file) ? /^totals: (\d+)/m.exec(readFileSync(file, 'utf8')) : null;
    if (totals) return Number(totals[1]);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`instructions: backend ${pid} left no callgrind totals in ${file}`);
}
