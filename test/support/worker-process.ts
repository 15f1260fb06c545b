// A worker process of the data plane, `node dist/scripts/worker.js`, as an
// operator runs it (scripts/worker.ts), for the tests that kill it or run
// several. Its stdout and stderr are kept.

import { spawn, type ChildProcess } from 'node:child_process';
import { waitUntil } from './wait-until.js';

export interface WorkerProcess {
  readonly child: ChildProcess;
  output(): string;
  /** The exit code, or the signal's name when killed by one. */
  readonly exited: Promise<number | string>;
  /** Its JSON lines so far. */
  lines(): Record<string, unknown>[];
}

export async function startWorkerProcess(env: Record<string, string>): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['dist/scripts/worker.js'], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const worker: WorkerProcess = {
    child,
    output: () => output,
    exited,
    lines: () =>
      output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
  await waitUntil(
    () => `the worker did not start; its output:\n${output}`,
    () => {
      if (child.exitCode !== null) throw new Error(`the worker exited; its output:\n${output}`);
      return / started"/.test(output);
    },
    { timeoutMs: 30_000, everyMs: 20 },
  );
  return worker;
}

export async function killWorkerProcess(worker: WorkerProcess): Promise<void> {
  if (worker.child.exitCode === null && worker.child.signalCode === null) {
    worker.child.kill('SIGKILL');
  }
  await worker.exited;
}
