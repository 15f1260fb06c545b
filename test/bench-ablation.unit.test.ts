// `npm run bench -- --ablation` builds the service nine more times, step k
// with the first k patches of bench/ablation applied (bench/run.ts). A change
// to the service that a patch's context no longer matches breaks the ladder,
// and nothing else would notice until someone ran it: here every patch must
// apply, in order, to the source as it is, the way the bench applies them.

import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { ablationPatches, applyAblationPatch } from '../bench/ablation.js';

test('every ablation patch applies, in order, to the service as it is', () => {
  const patches = ablationPatches();
  assert.ok(patches.length > 0, 'the ladder has steps');
  // Inside the checkout (.bench is ignored by git), as the bench builds them.
  mkdirSync('.bench', { recursive: true });
  const dir = mkdtempSync(join('.bench', 'ablation-check-'));
  try {
    cpSync('src', join(dir, 'src'), { recursive: true });
    for (const patch of patches) {
      assert.doesNotThrow(
        () => applyAblationPatch(dir, patch),
        `${basename(patch)} no longer applies: make the ladder again (bench/ablation/README.md)`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
