// `npm test`: finds or makes a PostgreSQL for the tests, migrates one
// template database with the real migrations, clones it once per test file,
// then runs every compiled *.test.js file with Node's test runner, as many
// files at a time as there are cores. Each file's helpers find their own
// database from the file's name (see testDatabaseUrl() in
// test/support/test-app.ts), so no file sees another's rows. The clones and
// the template are dropped at the end, whatever happened.
//
//   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms_test npm test [-- name-part]
//     template oms_test_template, clones oms_test_<file stem>
//   TEST_CONCURRENCY=1 npm test        one file at a time
//   npm run test:unit [-- name-part]   only *.unit.test.ts files: no database at all
//
// Without TEST_DATABASE_URL a throwaway server is started and removed again.
//
// One runner for every file, rather than one per file, keeps Node's own
// spec output and closing summary (`ℹ pass N`, `ℹ fail N`), which CI reads.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { ThrowawayPostgres } from '../test/support/throwaway-postgres.js';
import {
  assertTestDatabase,
  cloneTestDatabase,
  dropTestDatabase,
  fileDatabaseUrl,
  recreateTestDatabase,
  templateDatabaseUrl,
} from '../test/support/test-database.js';

/** CREATE and DROP DATABASE at once on the server; drops coalesce their checkpoints. */
const DATABASE_JOBS = 8;

/** Compiled test files whose source still exists (tsc never deletes output). */
function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return testFiles(path);
      const source = relative('dist', path).replace(/\.js$/, '.ts');
      return entry.name.endsWith('.test.js') && existsSync(source) ? [path] : [];
    })
    .sort();
}

let cleanupFailed = false;

const isUnitFile = (file: string) => file.endsWith('.unit.test.js');

function concurrency(): number {
  const value = process.env.TEST_CONCURRENCY;
  if (value === undefined || value === '') return availableParallelism();
  if (!/^[1-9][0-9]*$/.test(value)) {
    throw new Error(`TEST_CONCURRENCY=${JSON.stringify(value)}: expected a positive integer`);
  }
  return Number(value);
}

/** Runs `job` on every item, at most `limit` at a time; fails after all have settled. */
async function eachLimited<T>(items: T[], limit: number, job: (item: T) => Promise<void>) {
  const queue = [...items];
  const errors: unknown[] = [];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      await job(item).catch((error: unknown) => errors.push(error));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length > 0) throw errors[0];
}

/** One database per file that needs one; two files whose names sanitise alike are refused. */
function databasesFor(baseUrl: string, files: string[]): string[] {
  const owners = new Map<string, string>([[templateDatabaseUrl(baseUrl), 'the template']]);
  for (const file of files) {
    const url = fileDatabaseUrl(baseUrl, file);
    const other = owners.get(url);
    if (other)
      throw new Error(`${file} and ${other} would share database ${assertTestDatabase(url)}`);
    owners.set(url, file);
  }
  return [...owners.keys()].slice(1);
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const unitOnly = args.includes('--unit');
  const pattern = args.find((arg) => !arg.startsWith('--'));
  const files = testFiles('dist/test').filter(
    (file) => (!unitOnly || isUnitFile(file)) && (!pattern || file.includes(pattern)),
  );
  if (files.length === 0) {
    // Given no files, node --test would go looking for tests by itself.
    console.error(`No test file matches ${JSON.stringify(pattern)}`);
    return 1;
  }
  const jobs = concurrency();
  const env = { ...process.env };
  delete env.TEST_DATABASE_URL; // a unit test that reaches for a database fails at once
  const dbFiles = files.filter((file) => !isUnitFile(file));
  if (dbFiles.length === 0) return runNodeTests(files, jobs, env);

  let throwaway: ThrowawayPostgres | undefined;
  let baseUrl = process.env.TEST_DATABASE_URL;
  if (!baseUrl) {
    console.log('TEST_DATABASE_URL is not set: starting a throwaway PostgreSQL for the tests');
    throwaway = await ThrowawayPostgres.create();
    baseUrl = throwaway.url('oms_test');
  }
  const templateUrl = templateDatabaseUrl(baseUrl);
  let clones: string[] = [];
  try {
    clones = databasesFor(baseUrl, dbFiles);
    const started = Date.now();
    const applied = await recreateTestDatabase(templateUrl);
    await eachLimited(clones, DATABASE_JOBS, (url) => cloneTestDatabase(templateUrl, url));
    console.log(
      `Test databases ready in ${Date.now() - started} ms: ${assertTestDatabase(templateUrl)} ` +
        `(${applied.length} migrations applied), cloned for ${clones.length} files; ` +
        `${jobs} file(s) at a time`,
    );
    return await runNodeTests(files, jobs, { ...env, TEST_DATABASE_URL: baseUrl });
  } finally {
    if (throwaway) {
      await throwaway.destroy();
    } else {
      await eachLimited([...clones, templateUrl], DATABASE_JOBS, dropTestDatabase).catch(
        (error: unknown) => {
          // Left behind on a shared server: the run must say so, and fail.
          console.error('Could not drop every test database:', error);
          cleanupFailed = true;
        },
      );
    }
  }
}

// Ctrl-C or a SIGTERM goes to the runner, and the databases are still
// dropped; one that comes while they are being made stops the run there.
let interrupted: NodeJS.Signals | undefined;
let runner: ChildProcess | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    interrupted = signal;
    runner?.kill(signal);
  });
}

/** Node's test runner on `files`; resolves with its exit code. */
function runNodeTests(files: string[], jobs: number, env: NodeJS.ProcessEnv): Promise<number> {
  if (interrupted) return Promise.resolve(1);
  return new Promise<number>((resolve) => {
    runner = spawn(
      process.execPath,
      ['--test', `--test-concurrency=${jobs}`, '--test-reporter=spec', ...files],
      { stdio: 'inherit', env },
    );
    runner.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

main().then(
  (code) => process.exit(cleanupFailed ? 1 : code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
