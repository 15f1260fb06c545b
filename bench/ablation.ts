// The ablation ladder's patches (bench/ablation/*.patch) and how one is
// applied to a copy of the service: what the bench does to build each step
// (run.ts) and what test/bench-ablation.unit.test.ts does to check that the
// ladder still applies to the service as it is.

import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { relative, resolve } from 'node:path';

export const ABLATION_DIR = 'bench/ablation';

/** The patches, in the order they are applied, as absolute paths. */
export function ablationPatches(): string[] {
  return readdirSync(ABLATION_DIR)
    .filter((name) => name.endsWith('.patch'))
    .sort()
    .map((name) => resolve(ABLATION_DIR, name));
}

/**
 * Applies `patch` to the copy of the service in `dir` (inside this
 * checkout); throws, naming the patch and git's complaint, if it does not
 * apply.
 */
export function applyAblationPatch(dir: string, patch: string): void {
  try {
    execFileSync('git', ['apply', `--directory=${relative('.', dir)}`, patch], { stdio: 'pipe' });
  } catch (error) {
    throw new Error(
      `${relative('.', patch)} no longer applies; make the ladder again ` +
        `(${ABLATION_DIR}/README.md): ${String((error as { stderr?: Buffer }).stderr ?? error)}`,
    );
  }
}
