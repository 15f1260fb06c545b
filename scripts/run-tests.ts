// `npm test`: finds or makes a PostgreSQL for the tests, builds the test
// database with the real migrations, then runs every compiled *.test.js file
// with Node's test runner, one file at a time (they share the database).
//
//   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms_test npm test
//
// Without TEST_DATABASE_URL a throwaway server is started and removed again.

import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ThrowawayPostgres } from '../test/support/throwaway-postgres.js';
import { recreateTestDatabase } from '../test/support/test-database.js';

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

async function main(): Promise<number> {
  let throwaway: ThrowawayPostgres | undefined;
  let url = process.env.TEST_DATABASE_URL;
  if (!url) {
    console.log('TEST_DATABASE_URL is not set: starting a throwaway PostgreSQL for the tests');
    throwaway = await ThrowawayPostgres.create();
    url = throwaway.url('oms_test');
  }
  try {
    const applied = await recreateTestDatabase(url);
    console.log(`Test database ready (${applied.length} migrations applied)`);
    const pattern = process.argv[2];
    const files = testFiles('dist/test').filter((file) => !pattern || file.includes(pattern));
    if (files.length === 0) {
      // Given no files, node --test would go looking for tests by itself.
      console.error(`No test file matches ${JSON.stringify(pattern)}`);
      return 1;
    }
    return await new Promise<number>((resolve) => {
      const child = spawn(
        process.execPath,
        ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
        { stdio: 'inherit', env: { ...process.env, TEST_DATABASE_URL: url } },
      );
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    });
  } finally {
    await throwaway?.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
