// The service's SQL statements are complete literals with named parameters
// (src/database/statement.ts), and its advisory locks one table of names
// (src/database/advisory-locks.ts). PostgreSQL refuses a statement given a
// parameter its text does not use, and a name prepared on a connection must
// keep standing for one text; these checks hold every statement to that
// without a database.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as advisoryLocks from '../src/database/advisory-locks.js';
import * as transactionControl from '../src/database/statement.js';
import type { Statement } from '../src/database/statement.js';
import * as taskStatements from '../src/tasks/task.sql.js';
import * as taskTrailStatements from '../src/tasks/task-trail.sql.js';
import * as taskGroupStatements from '../src/task-groups/task-group.sql.js';
import * as syncTaskStatements from '../src/sync-tasks/sync-task.sql.js';
import * as workerStatements from '../src/worker/worker.sql.js';
import * as eventStatements from '../src/events/events.sql.js';
import { DELETED, TASK_ACTIONS, type TaskAction } from '../src/tasks/task-state.js';

const { ADVISORY_LOCKS } = advisoryLocks;

function isStatement(value: unknown): value is Statement<unknown, unknown> {
  const candidate = value as Partial<Statement<unknown, unknown>> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.name === 'string' &&
    typeof candidate.text === 'string' &&
    typeof candidate.values === 'function'
  );
}

const STATEMENTS: [exported: string, statement: Statement<unknown, unknown>][] = [
  advisoryLocks,
  transactionControl,
  taskStatements,
  taskTrailStatements,
  taskGroupStatements,
  syncTaskStatements,
  workerStatements,
  eventStatements,
].flatMap((module) =>
  Object.entries(module).filter((entry): entry is [string, Statement<unknown, unknown>] =>
    isStatement(entry[1]),
  ),
);

/** Parameters whose every field is present: a mapping reads what it needs. */
const ANY_PARAMS = new Proxy({}, { get: (_target, key) => String(key) });

test('the statements are found', () => {
  const names = STATEMENTS.map(([exported]) => exported);
  for (const expected of [
    'MOVE_TASK',
    'DELETE_TASK',
    'CREATE_TASK',
    'ADMIT_TASKS',
    'TASK_TRAIL_PAGE',
    'LOCK_PROJECT',
    'MOVE_GROUP_TASKS',
    'LOCK_GROUP',
    'MOVE_SYNC_TASK',
    'RECORD_SYNC_EVENTS',
    'LEASE_TASKS',
    'HEARTBEAT',
    'MOVE_LEASED_TASK',
    'READ_TASK_OUTBOX',
    'TRY_LOCK_EVENT_RELAY',
  ]) {
    assert.ok(names.includes(expected), expected);
  }
});

test('every statement is a complete literal with exactly the parameters its text uses', () => {
  for (const [exported, { text, values }] of STATEMENTS) {
    assert.ok(!text.includes('${'), `${exported}: an interpolation left in the text`);
    const used = new Set([...text.matchAll(/\$(\d+)/g)].map((match) => Number(match[1])));
    const highest = Math.max(0, ...used);
    assert.equal(values(ANY_PARAMS).length, highest, `${exported}: values for $1..$${highest}`);
    for (let n = 1; n <= highest; n++) assert.ok(used.has(n), `${exported}: $${n} is never used`);
  }
});

/** The TypeScript sources, from the compiled test's place (dist/test/). */
const source = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

test('the statement files put nothing together: no interpolation anywhere in them', () => {
  for (const file of [
    'src/tasks/task.sql.ts',
    'src/tasks/task-trail.sql.ts',
    'src/task-groups/task-group.sql.ts',
    'src/worker/worker.sql.ts',
    'src/database/advisory-locks.ts',
    'src/events/events.sql.ts',
  ]) {
    assert.ok(!source(file).includes('${'), file);
  }
});

test('the tasks feature writes its SQL only in its *.sql.ts files', () => {
  const sql = /`\s*(WITH|SELECT|INSERT|UPDATE|DELETE)\b|'(WITH|SELECT|INSERT|UPDATE|DELETE) /;
  for (const file of readdirSync(new URL('../../src/tasks/', import.meta.url))) {
    if (file.endsWith('.sql.ts')) continue;
    assert.doesNotMatch(source(`src/tasks/${file}`), sql, file);
  }
  for (const file of readdirSync(new URL('../../src/task-groups/', import.meta.url))) {
    if (file === 'task-group.sql.ts') continue;
    assert.doesNotMatch(source(`src/task-groups/${file}`), sql, file);
  }
  for (const file of readdirSync(new URL('../../src/worker/', import.meta.url))) {
    if (file === 'worker.sql.ts') continue;
    assert.doesNotMatch(source(`src/worker/${file}`), sql, file);
  }
});

test('no statement writes a status as a number: statuses are parameters from the state table', () => {
  for (const [exported, { text }] of STATEMENTS) {
    assert.doesNotMatch(text, /status\s*(=|<>|IN\b)\s*\(?\s*\d/i, exported);
  }
});

test('every statement has a name of its own', () => {
  const names = STATEMENTS.map(([, statement]) => statement.name);
  assert.equal(new Set(names).size, names.length);
});

test('the stop writes only the status and the time, says what it found, and asks nothing else', () => {
  const { text } = taskStatements.MOVE_TASK;
  assert.match(
    text,
    /UPDATE tasks SET updated_at = now\(\),\n    status = CASE WHEN lease_expires_at > \$9::timestamptz THEN/,
  );
  // The lease is read from the row itself, not looked up.
  assert.doesNotMatch(text, /task_leases/);
  assert.doesNotMatch(text, /jsonb|secrets|options/);
  // The queue indexes' column stays as it was, so the update can be HOT.
  const set = /UPDATE tasks SET([\s\S]*?)WHERE id = \$1/.exec(text)?.[1];
  assert.ok(set !== undefined);
  assert.doesNotMatch(set, /queue/);
  assert.match(text, /AS status_seen\nFROM/);
  // Whether the project has waiting tasks is the scheduler's question, asked
  // once for all the projects woken in a moment (task-scheduler.ts).
  assert.doesNotMatch(text, /queue = 1|EXISTS/);
});

test('every action the plain move (MOVE_TASK) makes leaves exactly one status, passed as one', () => {
  // A group's actions (group_*) are applied to its tasks by the group's own
  // statements (task-groups/), never by TaskTransitions.
  const plain = (Object.entries(TASK_ACTIONS) as [string, TaskAction][]).filter(
    ([name, spec]) =>
      !name.startsWith('group_') && spec.to !== DELETED && !spec.withChanges && !spec.byLeaseHolder,
  );
  assert.ok(plain.some(([name]) => name === 'stop'));
  for (const [name, spec] of plain) assert.equal(spec.from.length, 1, name);
  const values = taskStatements.MOVE_TASK.values({
    taskId: '1',
    projectId: 'p',
    from: [2],
    action: 'stop',
    userId: 'u',
    requestId: 'r',
    to: 3,
    whileLeased: 7,
    now: new Date(),
  });
  assert.equal(values[2], 2, 'the one status to leave, not a list');
});

// migrations/…-stop-takes-no-row-lock.ts: with no BEFORE UPDATE trigger on
// tasks, a move that leaves the queue wrong costs a second update (the AFTER
// trigger's). The stop's moves keep the queue, so it writes none.
test("every move of a task's status writes its queue beside it, but the stop's", () => {
  let moves = 0;
  for (const [exported, { text }] of STATEMENTS) {
    for (const [, set] of text.matchAll(/UPDATE tasks SET([\s\S]*?)(?:\bFROM\b|\bWHERE\b)/g)) {
      if (!/\bstatus\s*=/.test(set)) continue;
      moves++;
      if (exported === 'MOVE_TASK') assert.doesNotMatch(set, /queue/, exported);
      else assert.match(set, /queue = task_queue\(/, exported);
    }
  }
  assert.ok(moves >= 7, `found ${moves} moves`);
});

test('every advisory-lock key is distinct', () => {
  const keys = Object.values(ADVISORY_LOCKS).map((key) => BigInt(key));
  assert.equal(new Set(keys).size, keys.length);
});

test('the advisory-lock keys are the ones every earlier release takes', () => {
  // Replicas of two releases run side by side during a rolling upgrade and
  // serialise only if they take the same keys: these values never change.
  assert.deepEqual(ADVISORY_LOCKS, {
    MIGRATIONS: '5713878855045203026',
    TASK_QUOTA: 0x0_0a_77,
    SCHEDULER: 0x0_5c_ed,
    SYNC_TASK_QUOTA: 0x0_5c_a7,
    EVENT_RELAY: '5713878855045203027',
  });
  // The per-project locks' keys are the first of two int4 keys.
  for (const key of [
    ADVISORY_LOCKS.TASK_QUOTA,
    ADVISORY_LOCKS.SCHEDULER,
    ADVISORY_LOCKS.SYNC_TASK_QUOTA,
  ]) {
    assert.ok(Number.isInteger(key) && key >= -(2 ** 31) && key < 2 ** 31);
  }
  for (const key of [ADVISORY_LOCKS.MIGRATIONS, ADVISORY_LOCKS.EVENT_RELAY]) {
    assert.ok(BigInt(key) >= -(2n ** 63n) && BigInt(key) < 2n ** 63n);
  }
});
