// The bench's child processes (service, yardstick, IAM double) and what
// Linux tells about them in /proc: CPU time used and resident memory.

import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly port: number;
  stop(): Promise<void>;
}

/** Starts `node <args>` and waits for its "Listening on host:port" line. */
export async function startChild(
  name: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<Child> {
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The output is kept until the "Listening" line, to find it (and to show
  // it if the start fails); after it, it is read and dropped. The service
  // writes an access line per request, and this process, which also drives
  // the load, should spend as little as it can on them.
  const KEEP = 64 * 1024;
  let output = '';
  let started = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => fail(`no "Listening" line within ${timeoutMs} ms`), timeoutMs);
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${name}: ${why}; output:\n${output}`));
    };
    const read = (chunk: Buffer) => {
      if (started) return;
      output = (output + chunk).slice(-KEEP);
      const match = /Listening on [^:\s]+:(\d+)/.exec(output);
      if (match) {
        started = true;
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => fail(`exited with ${code}`));
  });
  return {
    name,
    process: child,
    port,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Clock ticks per second of /proc/<pid>/stat; 100 on every Linux we run on. */
const CLOCK_TICKS = 100;

/** User + system CPU time of a process so far, in microseconds. */
export function cpuMicros(pid: number): number {
  const fields = statFields(pid);
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
  return (ticks * 1e6) / CLOCK_TICKS;
}

function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; fields are counted after it.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/**
 * CPU time (user + system) a PostgreSQL server has used so far, in
 * microseconds: its postmaster's own and that of every process it has
 * started, those still running (backends, WAL writer, checkpointer) and
 * those that have ended (each pgbench connection's backend ends with it and
 * its time goes to the postmaster's count of waited-for children).
 * `postmaster` is its pid; undefined if /proc does not show it (another
 * machine, another user).
 */
export function serverCpuMicros(postmaster: number): number | undefined {
  try {
    const own = statFields(postmaster);
    // utime, stime, cutime, cstime
    let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const fields = statFields(Number(entry));
        if (Number(fields[1]) === postmaster) ticks += Number(fields[11]) + Number(fields[12]);
      } catch {
        // ended since the listing
      }
    }
    return (ticks * 1e6) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** The pid of a process's parent, from /proc; undefined if it cannot be read. */
export function parentPid(pid: number): number | undefined {
  try {
    return Number(statFields(pid)[1]);
  } catch {
    return undefined;
  }
}

/** Resident memory now, in bytes. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return kb ? Number(kb[1]) * 1024 : 0;
}

/** Samples a process's RSS until stopped; returns the peak seen. */
export function sampleRss(pid: number, everyMs = 100): { stop(): number } {
  let peak = rssBytes(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssBytes(pid));
    } catch {
      // the process is gone; keep the peak seen so far
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}
