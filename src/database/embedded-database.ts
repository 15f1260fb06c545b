// The zero-configuration database: PGlite (PostgreSQL compiled to WASM) with
// its data in DATA_DIR, served on a loopback port through pglite-socket so
// the service talks to it with the same `pg` driver and SQL as to a real
// server. PGlite has exactly one session, so the service's pool must hold
// exactly one connection (see main.ts): transactions then run one after the
// other and can never interleave. It is for development only; production
// refuses to start without DATABASE_URL.

import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface EmbeddedDatabase {
  readonly url: string;
  stop(): Promise<void>;
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Two PGlite instances on one directory would corrupt it: take a pid lock. */
function lockDataDir(dir: string): () => void {
  const lockFile = join(dir, 'service.pid');
  try {
    const holder = Number(readFileSync(lockFile, 'utf8'));
    if (holder && holder !== process.pid && processIsAlive(holder)) {
      throw new Error(
        `${dir} is in use by process ${holder}; stop it or set DATA_DIR to another directory`,
      );
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  writeFileSync(lockFile, String(process.pid));
  return () => rmSync(lockFile, { force: true });
}

export async function startEmbeddedDatabase(dataDir: string): Promise<EmbeddedDatabase> {
  const dir = join(dataDir, 'pglite');
  mkdirSync(dir, { recursive: true });
  const unlock = lockDataDir(dataDir);
  try {
    const db = await PGlite.create(dir);
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0 });
    await server.start();
    const address = server['server']?.address();
    if (!address || typeof address === 'string') throw new Error('PGlite socket has no port');
    return {
      url: `postgres://postgres@127.0.0.1:${address.port}/postgres`,
      async stop() {
        await server.stop();
        await db.close();
        unlock();
      },
    };
  } catch (error) {
    unlock();
    throw error;
  }
}
