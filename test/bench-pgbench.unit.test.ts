// The pgbench scripts: the service's statement must be the one in
// src/tasks/task.sql.ts, bound for a stop from the state table, and every
// transaction of a client must name the next task of its own range. And
// the meter of the server's CPU that the pgbench runs report.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { PGBENCH_STATEMENTS, pgbenchScript, pgbenchScripts } from '../bench/pgbench.js';
import { parentPid, serverCpuMicros } from '../bench/processes.js';
import { STOP } from '../bench/yardstick-schema.js';
import { TASK_ACTIONS } from '../src/tasks/task-state.js';
import { MOVE_TASK } from '../src/tasks/task.sql.js';

/** The statement of a script, with its pgbench variables back as the $n they stand for. */
const statementOf = (text: string) => text.split('\n').slice(2).join('\n').trim();

test('a client walks its own range: n counts its transactions, id = client × range + n', () => {
  const { text, defines } = pgbenchScript('SELECT $1, $2, $3', ['\0task id', '\0project id', 'x']);
  assert.deepEqual(text.split('\n').slice(0, 2), [
    '\\set n :n + 1',
    '\\set id :client_id * :range + :n',
  ]);
  assert.equal(defines.n, '0');
  assert.equal(Number(defines.range) * 16, 1_000_000);
  assert.match(text, /SELECT :id, \('bench-project-' \|\| lpad\(\(\(:id - 1\) \/ 10000\)::text/);
  assert.match(text, /, :p3;\n$/);
  assert.equal(defines.p3, 'x');
});

test("the service's script is MOVE_TASK's text, its values those of the stop's row", () => {
  const { text, defines } = pgbenchScripts().service;
  assert.doesNotMatch(text, /\$\d/);
  // Put the variables back as $n: the text is MOVE_TASK's, not a copy of it.
  const restored = statementOf(text)
    .replace(/:p(\d+)/g, '$$$1')
    .replaceAll(/\('bench-project-' \|\| lpad\(\(\(:id - 1\) \/ 10000\)::text, 3, '0'\)\)/g, '$$2')
    .replaceAll(':id', '$$1');
  assert.equal(restored, `${MOVE_TASK.text.trim()};`);
  // The task and its project change with every transaction: never a constant.
  const values = Object.values(defines);
  assert.ok(!values.some((value) => value.includes('\0')));
  assert.match(text, /project_id = \('bench-project-' \|\| lpad\(\(\(:id - 1\)/);
  const stop = TASK_ACTIONS.stop;
  assert.ok(values.includes(String(stop.from[0])));
  assert.ok(values.includes(String(stop.to)));
  assert.ok(values.includes('stop'));
});

test("the yardstick's script is STOP's text", () => {
  const { text, defines } = pgbenchScripts().yardstick;
  const restored = statementOf(text)
    .replace(/:p(\d+)/g, '$$$1')
    .replaceAll(/\('bench-project-' \|\| lpad\(\(\(:id - 1\) \/ 10000\)::text, 3, '0'\)\)/g, '$$2')
    .replaceAll(':id', '$$1');
  assert.equal(restored, `${STOP.text.trim()};`);
  assert.deepEqual(Object.keys(defines).sort(), ['n', 'p3', 'p4', 'range']);
});

test("the ladder's steps stop the task as the yardstick does, on the service's tasks table", () => {
  const scripts = pgbenchScripts();
  assert.deepEqual(Object.keys(scripts), [...PGBENCH_STATEMENTS]);
  for (const step of ['plain', 'plain-bare-audit'] as const) {
    const text = statementOf(scripts[step].text);
    assert.match(
      text,
      /UPDATE tasks SET status = 3, updated_at = now\(\)\n  WHERE id = :id AND project_id = \(/,
    );
    assert.match(text, /AND status = 2\n/);
    assert.doesNotMatch(text, /FOR UPDATE|task_leases/);
  }
  assert.match(scripts.plain.text, /INSERT INTO task_transitions/);
  assert.match(scripts['plain-bare-audit'].text, /INSERT INTO yardstick\.stops/);
});

test('a value pgbench cannot carry, or a $n without a value, stops the bench', () => {
  assert.throws(() => pgbenchScript('SELECT $1', [null]), /cannot pass null/);
  assert.throws(() => pgbenchScript('SELECT $2', ['a']), /\$2 has no value/);
  assert.throws(() => pgbenchScript('SELECT 1; SELECT $1', ['a']), /no ";"/);
});

test("a server's CPU counts its children's, those running and those that have ended", async () => {
  // This test process stands in for a postmaster: the child it starts burns
  // about 300 ms of CPU and ends, and the count must have grown by that much.
  const before = serverCpuMicros(process.pid)!;
  assert.ok(before > 0);
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [
      '-e',
      'const end = process.cpuUsage().user + 300000; while (process.cpuUsage().user < end);',
    ]);
    child.on('error', reject);
    child.on('exit', () => resolve());
  });
  const grown = serverCpuMicros(process.pid)! - before;
  assert.ok(grown >= 250_000, `grew ${grown} µs`);
  assert.equal(parentPid(process.pid), process.ppid);
  assert.equal(serverCpuMicros(2 ** 22 + 1), undefined, 'no such process');
});
