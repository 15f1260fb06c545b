// The service as an operator runs it: `node dist/src/main.js` in a process
// of its own, with only the environment given (and PATH), on a free port.

import { spawn, type ChildProcess } from 'node:child_process';

export interface Service {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

export function startService(env: Record<string, string>): Service {
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

export async function waitFor<T>(
  what: string,
  service: Service,
  find: () => T | undefined,
  ms = 60_000,
) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const found = find();
    if (found !== undefined) return found;
    if (service.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no ${what}; output so far:\n${service.output()}`);
}

export function listeningPort(service: Service): Promise<number> {
  return waitFor('"Listening" line', service, () => {
    const match = /Listening on [^:]+:(\d+)/.exec(service.output());
    return match ? Number(match[1]) : undefined;
  });
}
