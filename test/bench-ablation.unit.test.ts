// `npm run bench -- --ablation` builds the service nine more times, step k
// with the first k patches of bench/ablation applied (bench/run.ts). A change
// to the service that a patch's context no longer matches breaks the ladder,
// and nothing else would notice until someone ran it: here every patch must
// apply, in order, to the source as it is, the way the bench applies them.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, mkdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const ABLATION_DIR = resolve('bench/ablation');

test('every ablation patch applies, in order, to the service as it is', () => {
  const patches = readdirSync(ABLATION_DIR)
    .filter((name) => name.endsWith('.patch'))
    .sort();
  assert.ok(patches.length > 0, 'the ladder has steps');
  // Inside the checkout (.bench is ignored by git), as the bench builds them.
  mkdirSync('.bench', { recursive: true });
  const dir = mkdtempSync(join('.bench', 'ablation-check-'));
  try {
    cpSync('src', join(dir, 'src'), { recursive: true });
    for (const patch of patches) {
      assert.doesNotThrow(
        () =>
          execFileSync(
            'git',
            ['apply', `--directory=${relative('.', dir)}`, join(ABLATION_DIR, patch)],
            {
              stdio: 'pipe',
            },
          ),
        `${patch} no longer applies: make the ladder again (bench/ablation/README.md)`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
