// The service as an operator runs it, `node dist/src/main.js`, in a process
// of its own that a test can starve, SIGTERM or SIGKILL. Its stdout and
// stderr are kept, for the tests that read the logs.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { waitUntil } from './wait-until.js';

/** The key production mode needs for task secrets; tests search logs for it too. */
export const TEST_SECRETS_KEY = randomBytes(32).toString('base64');

export interface ServiceProcess {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** The exit code, or the signal's name when killed by one. */
  exited: Promise<number | string>;
  /** The port it listens on, once its "Listening" line is out. */
  port: Promise<number>;
}

export function startServiceProcess(env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      // Production needs a key; development must be shown to make its own.
      ...(env.NODE_ENV === 'production' && { SECRETS_KEY: TEST_SECRETS_KEY }),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const port = waitUntil(
    () => `the service did not start; its output:\n${output}`,
    () => {
      const match = /Listening on [^:]+:(\d+)/.exec(output);
      if (match) return Number(match[1]);
      if (child.exitCode !== null) throw new Error(`the service exited; its output:\n${output}`);
      return undefined;
    },
    { timeoutMs: 60_000, everyMs: 50 },
  );
  port.catch(() => undefined); // a test that never asks for the port must not crash on it
  return { child, output: () => output, exited, port };
}

/** Waits until `find` sees what it looks for in the output, or fails showing the output. */
export async function waitForOutput<T>(
  what: string,
  service: ServiceProcess,
  find: () => T | undefined,
  ms = 60_000,
): Promise<T> {
  return waitUntil(
    () => `no ${what}; output so far:\n${service.output()}`,
    () => {
      const found = find();
      if (found !== undefined) return found;
      if (service.child.exitCode !== null) {
        throw new Error(`no ${what}, and the service exited; its output:\n${service.output()}`);
      }
      return undefined;
    },
    { timeoutMs: ms, everyMs: 50 },
  );
}

/** Kills the process if it is still running (for finally blocks). */
export async function killServiceProcess(service: ServiceProcess): Promise<void> {
  if (service.child.exitCode === null && service.child.signalCode === null) {
    service.child.kill('SIGKILL');
  }
  await service.exited;
}

/** What the development banner hands a newcomer: its export lines, read as a shell would. */
export interface Banner {
  TOKEN: string;
  READER: string;
  B: string;
  AK: string;
  SK: string;
  PROJECT: string;
  /** The demo task its curl pauses. */
  taskId: string;
  /** The lines to paste, exports and curl, as printed. */
  script: string;
}

export function developmentBanner(output: string): Banner | undefined {
  const curl = /^ {2}curl -i -X POST \$B\/(\d+)\/stop -H "X-Auth-Token: \$TOKEN"$/m.exec(output);
  if (!curl) return undefined;
  const exports = [...output.matchAll(/^ {2}export (.+)$/gm)];
  const vars = Object.fromEntries(
    exports.flatMap((line) => line[1].split(' ').map((pair) => pair.split('=', 2))),
  );
  const script = [...exports.map((line) => line[0]), curl[0]].join('\n');
  return { ...vars, taskId: curl[1], script } as Banner;
}
