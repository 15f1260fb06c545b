// The bench's arithmetic: what BENCHMARKS.md quotes must be the medians of
// the rounds, and each ratio the median of the same-round ratios, with every
// unexpected answer counted.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GROUP_TASKS, groupStopProblems, type StopAnswer } from '../bench/group-stop.js';
import { percentile } from '../bench/load.js';
import {
  CHART_PERCENTILES,
  checkTargets,
  groupStopSection,
  instructionsSection,
  median,
  pgbenchSection,
  spread,
  summarize,
  summarizePgbench,
  type Measurement,
  type PgbenchRun,
} from '../bench/report.js';

function run(server: string, round: number, rps: number, p99: number, extra = {}): Measurement {
  return {
    server,
    path: 'success',
    round,
    rps,
    p50: p99 / 2,
    p99,
    cpuMicrosPerRequest: 100,
    peakRssMb: 100 + round,
    iamPerToken: 1,
    iamMaxPerToken: 1,
    errors: 0,
    outcomes: { '200': 1000 },
    curve: CHART_PERCENTILES.map(() => p99),
    ...extra,
  };
}

const SUCCESS = [{ name: 'success' as const, expected: '200' }];

test('median of odd and even counts, ignoring NaN', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([NaN, 5]), 5);
  assert.ok(Number.isNaN(median([])));
});

test('percentile picks the nearest rank of sorted values', () => {
  const values = Float64Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(values, 50), 50);
  assert.equal(percentile(values, 99), 99);
  assert.equal(percentile(values, 100), 100);
  assert.equal(percentile(Float64Array.of(7), 99), 7);
});

test('ratios are medians of same-round ratios, not ratios of medians', () => {
  // The machine slows down in round 2 for both: the same-round ratio is
  // steady at 0.9 while the ratio of medians would not be.
  const all = [
    run('service', 1, 900, 11),
    run('yardstick', 1, 1000, 10),
    run('service', 2, 450, 22),
    run('yardstick', 2, 500, 20),
    run('service', 3, 1800, 5.5),
    run('yardstick', 3, 2000, 5),
  ];
  const [service, yardstick] = summarize(all, ['service', 'yardstick'], SUCCESS);
  assert.equal(service.rps, 900);
  assert.equal(service.rpsRatio, 0.9);
  assert.ok(Math.abs(service.p99Ratio! - 1.1) < 1e-9);
  assert.equal(service.peakRssMb, 103);
  assert.equal(yardstick.rpsRatio, undefined);
});

test('answers other than the expected one are errors, named in the summary', () => {
  const all = [
    run('service', 1, 900, 10, { errors: 3, outcomes: { '200': 997, '400 OMS.0066': 3 } }),
    run('yardstick', 1, 1000, 10),
  ];
  const [service] = summarize(all, ['service', 'yardstick'], SUCCESS);
  assert.equal(service.errors, 3);
  assert.equal(service.unexpected, '3× 400 OMS.0066');
});

test('targets: met and missed', () => {
  const all = [
    run('service', 1, 900, 14, { peakRssMb: 250, iamMaxPerToken: 2 }),
    run('yardstick', 1, 1000, 10),
  ];
  const targets = checkTargets(summarize(all, ['service', 'yardstick'], SUCCESS), 'service');
  assert.deepEqual(
    targets.map((t) => t.met),
    [true, false, false, false],
  );
  assert.match(targets[1].measured, /1\.40×/);
});

test("targets: each path's own threshold against the yardstick, and pgbench's", () => {
  const paths = [
    { name: 'success' as const, expected: '200' },
    { name: 'not-found' as const, expected: '400 OMS.1009' },
    { name: 'cold-token' as const, expected: '200' },
    { name: 'wrong-project' as const, expected: '403 OMS.0206' },
  ];
  const pair = (path: (typeof paths)[number]['name'], ratio: number) => [
    run('service', 1, 1000 * ratio, 10, { path }),
    run('yardstick', 1, 1000, 10, { path }),
  ];
  const all = [
    ...pair('success', 0.86),
    ...pair('not-found', 0.84),
    ...pair('cold-token', 0.85),
    // 0.8 is enough on the 403 path, where 0.85 is asked elsewhere.
    ...pair('wrong-project', 0.81),
  ];
  const pgbench = summarizePgbench([
    { statement: 'service', round: 1, tps: 840, transactions: 1680 },
    { statement: 'yardstick', round: 1, tps: 1000, transactions: 2000, cpuPerStop: 100 },
  ]);
  const targets = checkTargets(summarize(all, ['service', 'yardstick'], paths), 'service', pgbench);
  assert.deepEqual(
    targets.map((t) => [t.what.split(':')[0], t.met]),
    [
      ['success path', true],
      ['success path', true],
      ['not-found path', false],
      ['cold-token path', true],
      ['403 path', true],
      ['at the database (pgbench)', false],
      ['≤ 1 IAM validation per distinct token per cache TTL', true],
      ['RSS under load ≤ 200 MB', true],
    ],
  );
  assert.match(targets[4].what, /≥ 0\.8 ×/);
  assert.match(targets[5].measured, /0\.84×/);
});

test('pgbench: tps medians of rounds, the ratio the median of same-round ratios', () => {
  // The same-round ratios are 0.7, 0.5 and 0.6: their median is 0.6, while
  // the ratio of the medians (700 / 1000) would be 0.7.
  const runs: PgbenchRun[] = [
    { statement: 'service', round: 1, tps: 700, transactions: 1400, cpuPerStop: 300 },
    { statement: 'yardstick', round: 1, tps: 1000, transactions: 2000, cpuPerStop: 100 },
    { statement: 'yardstick', round: 2, tps: 400, transactions: 800, cpuPerStop: 120 },
    { statement: 'service', round: 2, tps: 200, transactions: 400, cpuPerStop: 500 },
    { statement: 'service', round: 3, tps: 1200, transactions: 2400, cpuPerStop: 400 },
    { statement: 'yardstick', round: 3, tps: 2000, transactions: 4000, cpuPerStop: 110 },
    // A step of the ladder: 0.8, 0.75 and 0.9 of the yardstick's; its CPU
    // measured in only one round, so not reported.
    { statement: 'plain', round: 1, tps: 800, transactions: 1600, cpuPerStop: 250 },
    { statement: 'plain', round: 2, tps: 300, transactions: 600 },
    { statement: 'plain', round: 3, tps: 1800, transactions: 3600 },
  ];
  const summary = summarizePgbench(runs)!;
  assert.equal(summary.rounds, 3);
  assert.equal(summary.serviceTps, 700);
  assert.equal(summary.yardstickTps, 1000);
  assert.ok(Math.abs(summary.ratio - 0.6) < 1e-9);
  const section = pgbenchSection(runs, 10)!;
  assert.deepEqual(
    summary.statements.map((row) => row.statement),
    ['service', 'yardstick', 'plain'],
  );
  assert.ok(Math.abs(summary.statements[2].ratio - 0.8) < 1e-9);
  assert.match(
    section,
    /\| service \(MOVE_TASK on `tasks`\) \| 700 \| 700, 200, 1200 \| 0\.60× \| 400 \| the lease read from the row, the read-back/,
  );
  assert.match(
    section,
    /\| plain stop on `tasks`, audit in `task_transitions` \| 800 \| 800, 300, 1800 \| 0\.80× \| not measured \|/,
  );
  assert.match(
    section,
    /\| yardstick \(STOP on `yardstick\.tasks`\) \| 1000 \| 1000, 400, 2000 \| 1 \| 110 \|/,
  );
  assert.equal(summarizePgbench(runs.filter((r) => r.statement === 'service')), undefined);
  assert.equal(pgbenchSection([], 10), undefined);
});

test('instruction counts: each row against the yardstick, as yardstick / this, the counts rounded', () => {
  const section = instructionsSection(
    [
      { statement: 'service', instructionsPerStop: 300_000.4 },
      { statement: 'plain', instructionsPerStop: 200_000 },
      { statement: 'yardstick', instructionsPerStop: 150_000 },
    ],
    100,
    600,
  )!;
  assert.match(section, /one connection stops 100 tasks, another 600/);
  assert.match(section, /\| service \(MOVE_TASK on `tasks`\) \| 300,000 \| 0\.50× \|/);
  assert.match(
    section,
    /\| plain stop on `tasks`, audit in `task_transitions` \| 200,000 \| 0\.75× \|/,
  );
  assert.match(section, /\| yardstick \(STOP on `yardstick\.tasks`\) \| 150,000 \| 1 \|/);
  assert.equal(
    instructionsSection([{ statement: 'service', instructionsPerStop: 1 }], 100, 600),
    undefined,
    'no count without the yardstick',
  );
});

test("instruction counts: the parts of the service's stop with their cost, and the service counted again, a recount more than 2 % away called out", () => {
  const ladder = [
    { statement: 'service', instructionsPerStop: 300_000 },
    { statement: 'yardstick', instructionsPerStop: 150_000 },
  ];
  const parts = [
    { part: 'the lease read', instructionsPerStop: 280_400 },
    { part: 'the read-back', instructionsPerStop: 290_000 },
  ];
  const agreeing = instructionsSection(ladder, 100, 600, { parts, serviceAgain: 303_000 })!;
  assert.match(agreeing, /\| the lease read \| 280,400 \| 19,600 \|/);
  assert.match(agreeing, /\| the read-back \| 290,000 \| 10,000 \|/);
  assert.match(agreeing, /counted again after the others: 303,000 \(1\.0 % from the first\)/);
  assert.match(agreeing, /does not move the counts/);
  assert.doesNotMatch(agreeing, /not to be trusted/);
  const apart = instructionsSection(ladder, 100, 600, { parts: [], serviceAgain: 280_000 })!;
  assert.match(apart, /280,000 \(6\.7 % from the first\)/);
  assert.match(apart, /not to be trusted/);
  assert.doesNotMatch(apart, /taken away/, 'no parts table without parts');
  const ladderOnly = instructionsSection(ladder, 100, 600)!;
  assert.doesNotMatch(ladderOnly, /counted again|taken away/);
});

const ONE_200: StopAnswer[] = [
  { status: 200 },
  ...Array.from({ length: 15 }, () => ({ status: 400, code: 'OMS.0066' })),
];
const ALL_PAUSED = {
  tasks: GROUP_TASKS,
  paused: GROUP_TASKS,
  auditRows: GROUP_TASKS,
  auditedTasks: GROUP_TASKS,
};

test('group stop: one 200, fifteen OMS.0066, every task paused with one audit row is the only pass', () => {
  assert.deepEqual(groupStopProblems(ONE_200, ALL_PAUSED), []);
  const two200 = [{ status: 200 }, ...ONE_200.slice(1)];
  two200[1] = { status: 200 };
  assert.match(groupStopProblems(two200, ALL_PAUSED).join(), /2 stops answered 200/);
  const other = [...ONE_200.slice(0, 15), { status: 500 }];
  assert.match(groupStopProblems(other, ALL_PAUSED).join(), /other than .*: 500/);
  const wrongCode = [...ONE_200.slice(0, 15), { status: 400, code: 'OMS.0064' }];
  assert.match(groupStopProblems(wrongCode, ALL_PAUSED).join(), /400 OMS\.0064/);
  assert.match(
    groupStopProblems(ONE_200, { ...ALL_PAUSED, paused: 999 }).join(),
    /999 of 1000 tasks paused/,
  );
  assert.match(
    groupStopProblems(ONE_200, { ...ALL_PAUSED, auditRows: 1001 }).join(),
    /1001 group_stop audit rows/,
  );
  assert.match(
    groupStopProblems(ONE_200, { ...ALL_PAUSED, tasks: 999, paused: 999 }).join(),
    /the group has 999 tasks/,
  );
});

test('group stop figures: nearest-rank p50 and p99, min and max over the repetitions', () => {
  assert.deepEqual(spread([30, 10, 20]), { p50: 20, p99: 30, min: 10, max: 30 });
  const hundred = spread(Array.from({ length: 100 }, (_, i) => 100 - i));
  assert.equal(hundred.p50, 50);
  assert.equal(hundred.p99, 99);
  const section = groupStopSection(
    [
      { allAnsweredMs: 120, okMs: 100, createMs: 900 },
      { allAnsweredMs: 80, okMs: 60, createMs: 700 },
      { allAnsweredMs: 100, okMs: 90, createMs: 800 },
    ],
    1000,
    16,
  )!;
  assert.match(section, /\| the last of the 16 answers \| 100\.0 \| 120\.0 \| 80\.0 \| 120\.0 \|/);
  assert.match(section, /\| the one 200 \| 90\.0 \| 100\.0 \| 60\.0 \| 100\.0 \|/);
  assert.match(section, /no yardstick/);
  assert.equal(groupStopSection([], 1000, 16), undefined);
});
