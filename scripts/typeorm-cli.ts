// `npm run migration:*`: TypeORM's own CLI, pointed at the compiled data
// source. The CLI cannot load our TypeScript (ESM, NodeNext imports ending in
// .js) without a loader, so the npm scripts build first and this runs the CLI
// on dist/ with plain node.
//
//   npm run migration:show
//   npm run migration:generate -- migrations/add-thing
//   npm run migration:generate -- migrations/check --check
//
// Relative paths are taken from the repository root: npm runs scripts there.

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// This file runs as dist/scripts/typeorm-cli.js; locating things from here
// rather than from the working directory keeps `node dist/scripts/...` usable
// from anywhere.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dataSource = resolve(root, 'dist/src/database/data-source.js');
// Resolved the way Node resolves packages, so a hoisted or linked
// node_modules is found too.
const typeormCli = createRequire(import.meta.url).resolve('typeorm/cli.js');

const args = process.argv.slice(2);
if (args.length === 0) {
  console.error('usage: node dist/scripts/typeorm-cli.js <typeorm command> [arguments]');
  process.exit(2);
}

const child = spawn(process.execPath, [typeormCli, ...args, '-d', dataSource], {
  stdio: 'inherit',
});

// Without these handlers a SIGTERM (from CI, say) would kill only this
// wrapper and leave the CLI running a migration unobserved; passing it on lets
// the CLI stop and its exit status reach our caller.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => child.kill(signal));
}

child.on('error', (error) => {
  console.error(`Could not start the TypeORM CLI (${typeormCli}): ${error.message}`);
  process.exit(1);
});

child.on('exit', (code, signal) => {
  const generated =
    code === 0 &&
    args[0] === 'migration:generate' &&
    !args.some((arg) => /^--(check|ch|dryrun|dr)(=|$)/.test(arg));
  if (generated) {
    // Migrations are listed by hand (see migrations/index.ts), so
    // a generated file does nothing until it is added there.
    console.log('Now add the new migration to MIGRATIONS in migrations/index.ts.');
  }
  // A child killed by a signal reports it the way a shell would (128 + n).
  process.exit(code ?? 128 + (signal ? constants.signals[signal] : 0));
});
