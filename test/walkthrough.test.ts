// docs/walkthrough.md, run as a newcomer runs it: a fresh `npm start` (an
// empty data directory, development mode), the banner's export lines, then
// every ```bash block of the page in order, each in bash with only those
// variables set. What each block prints must be the ```text block after it,
// where `…` stands for anything within a line (request ids).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  developmentBanner,
  killServiceProcess,
  startServiceProcess,
  waitForOutput,
  type Banner,
  type ServiceProcess,
} from './support/service-process.js';

const PAGE = 'docs/walkthrough.md';

interface Step {
  /** The heading the step stands under, for the failure message. */
  readonly section: string;
  readonly script: string;
  readonly expected: string;
}

/** The page's steps: each bash block and the text block right after it. */
export function walkthroughSteps(markdown: string): Step[] {
  const steps: Step[] = [];
  let section = '';
  const blocks = markdown.matchAll(/^## (.+)$|^```(bash|text)\n([\s\S]*?)^```$/gm);
  let pending: { section: string; script: string } | undefined;
  for (const [, heading, kind, body] of blocks) {
    if (heading !== undefined) {
      section = heading;
    } else if (kind === 'bash') {
      assert.equal(pending, undefined, `${section}: a bash block without its answer`);
      pending = { section, script: body };
    } else {
      assert.ok(pending, `${section}: an answer without its command`);
      steps.push({ ...pending, expected: body });
      pending = undefined;
    }
  }
  assert.equal(pending, undefined, 'the last bash block has no answer');
  return steps;
}

/**
 * Whether `actual` is `expected` line by line, `…` matching anything within
 * a line. Blank lines do not count: an empty body leaves one before `HTTP`.
 */
function matches(actual: string, expected: string): boolean {
  const lines = (text: string) => text.split('\n').filter((line) => line.trim() !== '');
  const [got, want] = [lines(actual), lines(expected)];
  return (
    got.length === want.length &&
    want.every((line, i) => {
      const pattern = line
        .split('…')
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*?');
      return new RegExp(`^${pattern}$`).test(got[i]);
    })
  );
}

let service: ServiceProcess;
let banner: Banner;
let dataDir: string;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'oms-walkthrough-'));
  service = startServiceProcess({ DATA_DIR: dataDir });
  banner = await waitForOutput('the banner', service, () => developmentBanner(service.output()));
});
after(async () => {
  await killServiceProcess(service);
  rmSync(dataDir, { recursive: true, force: true });
});

test('the walkthrough has steps, and each has its answer', () => {
  assert.ok(walkthroughSteps(readFileSync(PAGE, 'utf8')).length >= 10);
});

test('docs/walkthrough.md, top to bottom, answers what it shows', () => {
  const exports = banner.script.split('\n').filter((line) => line.trimStart().startsWith('export'));
  for (const step of walkthroughSteps(readFileSync(PAGE, 'utf8'))) {
    const run = spawnSync('bash', ['-e', '-c', [...exports, step.script].join('\n')], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
      timeout: 30_000,
    });
    assert.equal(run.status, 0, `"${step.section}" failed: ${run.stderr}`);
    assert.ok(
      matches(run.stdout, step.expected),
      `"${step.section}" answered\n${run.stdout}\ninstead of\n${step.expected}`,
    );
  }
});
