// Turns the rounds' measurements into the report: medians per server and
// path, each figure's ratio to the yardstick measured in the same round, the
// targets, and BENCHMARKS.md.

import type { PathName } from './load.js';
import type { ProfileSummary } from './profile.js';

/** The percentiles each run keeps, for the chart. */
export const CHART_PERCENTILES = [1, 10, 25, 50, 75, 90, 95, 97.5, 99, 99.5, 99.9];

export interface Measurement {
  readonly server: string;
  readonly path: PathName;
  readonly round: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly cpuMicrosPerRequest: number;
  readonly peakRssMb: number;
  /** IAM validations per distinct token the run sent (warm-up included). */
  readonly iamPerToken: number;
  readonly iamMaxPerToken: number;
  readonly errors: number;
  readonly outcomes: Record<string, number>;
  /** Latency at each of CHART_PERCENTILES. */
  readonly curve: readonly number[];
}

export interface Summary extends Omit<Measurement, 'round' | 'outcomes'> {
  readonly rounds: number;
  /** The answers other than the expected one, e.g. "3× 400 OMS.0066". */
  readonly unexpected: string;
  /** Medians of the per-round ratios to the yardstick; undefined for the yardstick. */
  readonly rpsRatio?: number;
  readonly p99Ratio?: number;
}

/** The reference every ratio is to: bench/yardstick.ts, its own schema and statement. */
export const YARDSTICK = 'yardstick';
/**
 * An explanatory row: bench/yardstick-service-sql.ts, raw Node on the
 * service's own schema and statement. Between it and the service: what the
 * framework and the service's code cost; between it and the yardstick: what
 * the service's schema and statement cost.
 */
export const YARDSTICK_SERVICE_SQL = 'yardstick (service SQL)';

export function median(values: readonly number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function summarize(
  all: readonly Measurement[],
  servers: readonly string[],
  paths: readonly { name: PathName; expected: string }[],
): Summary[] {
  const summaries: Summary[] = [];
  for (const path of paths) {
    const yard = all.filter((m) => m.path === path.name && m.server === YARDSTICK);
    for (const server of servers) {
      const runs = all.filter((m) => m.path === path.name && m.server === server);
      if (runs.length === 0) continue;
      const ratios = (pick: (m: Measurement) => number) =>
        server === YARDSTICK
          ? undefined
          : median(
              runs.map((m) => {
                const twin = yard.find((y) => y.round === m.round);
                return twin ? pick(m) / pick(twin) : NaN;
              }),
            );
      const unexpected = new Map<string, number>();
      for (const run of runs) {
        for (const [key, count] of Object.entries(run.outcomes)) {
          if (key !== path.expected) unexpected.set(key, (unexpected.get(key) ?? 0) + count);
        }
      }
      summaries.push({
        server,
        path: path.name,
        rounds: runs.length,
        rps: median(runs.map((m) => m.rps)),
        p50: median(runs.map((m) => m.p50)),
        p99: median(runs.map((m) => m.p99)),
        cpuMicrosPerRequest: median(runs.map((m) => m.cpuMicrosPerRequest)),
        peakRssMb: Math.max(...runs.map((m) => m.peakRssMb)),
        iamPerToken: Math.max(...runs.map((m) => m.iamPerToken)),
        iamMaxPerToken: Math.max(...runs.map((m) => m.iamMaxPerToken)),
        errors: runs.reduce((sum, m) => sum + m.errors, 0),
        unexpected: [...unexpected].map(([key, count]) => `${count}× ${key}`).join(', '),
        curve: CHART_PERCENTILES.map((_, i) => median(runs.map((m) => m.curve[i]))),
        rpsRatio: ratios((m) => m.rps),
        p99Ratio: ratios((m) => m.p99),
      });
    }
  }
  return summaries;
}

export interface Target {
  readonly what: string;
  readonly met: boolean;
  readonly measured: string;
}

/** A load path's requests/s target: at least `least` × the yardstick's. */
const RPS_TARGETS: readonly { path: PathName; label: string; least: number }[] = [
  { path: 'success', label: 'success path', least: 0.85 },
  { path: 'not-found', label: 'not-found path', least: 0.85 },
  { path: 'cold-token', label: 'cold-token path', least: 0.85 },
  { path: 'wrong-project', label: '403 path', least: 0.8 },
];
const SUCCESS_P99_MOST = 1.3;
/** At the database: the service's stop statement's tps over the yardstick's. */
const PGBENCH_TPS_LEAST = 0.85;

const ratioText = (value: number | undefined) =>
  value === undefined || !Number.isFinite(value) ? 'n/a' : `${value.toFixed(2)}×`;

/**
 * Issue 16's targets, for the server called `service`, against the
 * yardstick; with a pgbench comparison, its ratio too.
 */
export function checkTargets(
  summaries: readonly Summary[],
  service: string,
  pgbench?: PgbenchSummary,
): Target[] {
  const of = (path: PathName) => summaries.find((s) => s.server === service && s.path === path);
  const mine = summaries.filter((s) => s.server === service);
  const targets: Target[] = [];
  for (const { path, label, least } of RPS_TARGETS) {
    const measured = of(path);
    if (!measured) continue;
    targets.push({
      what: `${label}: requests/s ≥ ${least} × yardstick`,
      met: (measured.rpsRatio ?? 0) >= least,
      measured: ratioText(measured.rpsRatio),
    });
    if (path === 'success') {
      targets.push({
        what: `success path: p99 ≤ ${SUCCESS_P99_MOST} × yardstick`,
        met: (measured.p99Ratio ?? Infinity) <= SUCCESS_P99_MOST,
        measured: ratioText(measured.p99Ratio),
      });
    }
  }
  if (pgbench) {
    targets.push({
      what: `at the database (pgbench): the service's stop statement ≥ ${PGBENCH_TPS_LEAST} × the yardstick's tps`,
      met: pgbench.ratio >= PGBENCH_TPS_LEAST,
      measured: ratioText(pgbench.ratio),
    });
  }
  if (mine.length > 0) {
    const maxPerToken = Math.max(...mine.map((s) => s.iamMaxPerToken));
    const peak = Math.max(...mine.map((s) => s.peakRssMb));
    targets.push(
      {
        what: '≤ 1 IAM validation per distinct token per cache TTL',
        met: maxPerToken <= 1,
        measured: `at most ${maxPerToken} per token`,
      },
      { what: 'RSS under load ≤ 200 MB', met: peak <= 200, measured: `peak ${peak.toFixed(0)} MB` },
    );
  }
  return targets;
}

/** One pgbench run (bench/pgbench.ts): a statement, a round, its tps. */
export interface PgbenchRun {
  /** 'service' or 'yardstick': whose statement on whose schema. */
  readonly statement: string;
  readonly round: number;
  readonly tps: number;
  readonly transactions: number;
  /**
   * CPU time of the whole PostgreSQL server per transaction, in µs, if the
   * server's processes could be read (bench/processes.ts serverCpuMicros).
   */
  readonly cpuPerStop?: number;
}

export interface PgbenchSummary {
  readonly rounds: number;
  readonly serviceTps: number;
  readonly yardstickTps: number;
  /** Median of each round's service tps / yardstick tps. */
  readonly ratio: number;
  /**
   * Every statement in the order first run: its median tps, median same-round
   * ratio, and median server CPU per stop (undefined if not measured).
   */
  readonly statements: readonly {
    statement: string;
    tps: number;
    ratio: number;
    cpuPerStop: number | undefined;
  }[];
}

/** Medians of the rounds and the median same-round ratios; undefined without service and yardstick. */
export function summarizePgbench(runs: readonly PgbenchRun[]): PgbenchSummary | undefined {
  const of = (statement: string) => runs.filter((r) => r.statement === statement);
  const yardstick = of('yardstick');
  const ratioOf = (statement: string) =>
    median(
      of(statement).map((r) => {
        const twin = yardstick.find((y) => y.round === r.round);
        return twin ? r.tps / twin.tps : NaN;
      }),
    );
  const cpuOf = (statementRuns: readonly PgbenchRun[]) => {
    const measured = statementRuns.flatMap((r) =>
      r.cpuPerStop === undefined ? [] : [r.cpuPerStop],
    );
    return measured.length === statementRuns.length ? median(measured) : undefined;
  };
  const service = of('service');
  if (service.length === 0 || yardstick.length === 0) return undefined;
  const names = [...new Set(runs.map((r) => r.statement))];
  return {
    rounds: service.length,
    serviceTps: median(service.map((r) => r.tps)),
    yardstickTps: median(yardstick.map((r) => r.tps)),
    ratio: ratioOf('service'),
    statements: names.map((statement) => ({
      statement,
      tps: median(of(statement).map((r) => r.tps)),
      ratio: ratioOf(statement),
      cpuPerStop: cpuOf(of(statement)),
    })),
  };
}

/** What each pgbench statement is, and what it leaves out of the row above it. */
const PGBENCH_ROWS: Readonly<Record<string, { label: string; change: string }>> = {
  service: {
    label: 'service (MOVE_TASK on `tasks`)',
    change: 'the lease read from the row, the read-back of a status that did not move',
  },
  plain: {
    label: 'plain stop on `tasks`, audit in `task_transitions`',
    change: "the audit row's width and its two indexes",
  },
  'plain-bare-audit': {
    label: 'plain stop on `tasks`, audit in `yardstick.stops`',
    change: "the task row's width and its table's indexes and triggers (and the read-back added)",
  },
  yardstick: { label: `${YARDSTICK} (STOP on \`yardstick.tasks\`)`, change: '' },
};

const fixed = (value: number, digits: number) =>
  Number.isFinite(value) ? value.toFixed(digits) : '–';

/** A ratio to the yardstick as a table shows it: the yardstick's own is 1. */
const ratioCell = (ratio: number | undefined) =>
  ratio === undefined ? '1' : `${fixed(ratio, 2)}×`;

export function resultsTable(summaries: readonly Summary[]): string {
  const head =
    '| path | server | req/s | p50 ms | p99 ms | CPU µs/req | peak RSS MB | IAM calls per token (mean / max) | errors | req/s vs yardstick | p99 vs yardstick |\n' +
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |';
  const rows = summaries.map((s) =>
    [
      s.path,
      s.server,
      fixed(s.rps, 0),
      fixed(s.p50, 2),
      fixed(s.p99, 2),
      fixed(s.cpuMicrosPerRequest, 0),
      fixed(s.peakRssMb, 0),
      `${fixed(s.iamPerToken, 2)} / ${s.iamMaxPerToken}`,
      s.unexpected ? `${s.errors} (${s.unexpected})` : String(s.errors),
      ratioCell(s.rpsRatio),
      ratioCell(s.p99Ratio),
    ].join(' | '),
  );
  return [head, ...rows.map((row) => `| ${row} |`)].join('\n');
}

export function targetsList(targets: readonly Target[]): string {
  return targets
    .map((t) => `- ${t.met ? '✅ met' : '❌ not met'}: ${t.what} (measured: ${t.measured})`)
    .join('\n');
}

export function profileSection(title: string, summary: ProfileSummary): string {
  const pct = (share: number) => `${(share * 100).toFixed(1)} %`;
  return [
    `### ${title}`,
    '',
    `${summary.busyMs.toFixed(0)} ms of busy CPU sampled (idle left out). Self time by place:`,
    '',
    '| place | share |',
    '| --- | ---: |',
    ...summary.byPlace.map((p) => `| ${p.place} | ${pct(p.share)} |`),
    '',
    'Busiest functions (self time):',
    '',
    '| function | place | share |',
    '| --- | --- | ---: |',
    ...summary.byFunction.map((f) => `| \`${f.name}\` | ${f.place} | ${pct(f.share)} |`),
  ].join('\n');
}

export const FASTIFY_FLOOR = 'fastify floor';
export const NEST_FLOOR = 'nest floor';

/** A server's summary on the wrong-project path, where the floors and the ladder run. */
const onWrongProject = (summaries: readonly Summary[], server: string) =>
  summaries.find((s) => s.server === server && s.path === 'wrong-project');

const micros = (value: number) => `${fixed(value, 0)} µs`;

/**
 * The wrong-project path's CPU per request split into layers: Node's HTTP
 * (the yardstick does little else), what Fastify and then Nest add when they
 * do nothing, and what the service's own work adds on top of Nest. Medians
 * of rounds, so the layers are only as exact as the machine is quiet.
 */
export function floorSection(summaries: readonly Summary[], service: string): string | undefined {
  const [yardstick, fastify, nest, mine] = [YARDSTICK, FASTIFY_FLOOR, NEST_FLOOR, service].map(
    (server) => onWrongProject(summaries, server),
  );
  if (!yardstick || !fastify || !nest || !mine) return undefined;
  const row = (what: string, s: Summary, note: string) =>
    `| ${what} | ${micros(s.cpuMicrosPerRequest)} | ${ratioCell(s.rpsRatio)} | ${note} |`;
  return [
    '| server | CPU per request | req/s vs yardstick | what it does |',
    '| --- | ---: | ---: | --- |',
    row(YARDSTICK, yardstick, 'parses the path, hashes the token, finds it in its cache, refuses'),
    row(FASTIFY_FLOOR, fastify, 'routes and refuses, nothing else'),
    row(
      NEST_FLOOR,
      nest,
      'routes through a Nest controller whose handler throws, a filter answers',
    ),
    row(service, mine, 'the real thing'),
    '',
    `Nest over Fastify, doing nothing: ${micros(nest.cpuMicrosPerRequest - fastify.cpuMicrosPerRequest)} per request. ` +
      `The service over the Nest floor: ${micros(mine.cpuMicrosPerRequest - nest.cpuMicrosPerRequest)} per request ` +
      '(its guard, token cache, rate limits, path-parameter checks, access policy, error filter, access log and metrics).',
  ].join('\n');
}

/**
 * The ablation ladder on the wrong-project path (`--ablation`): the service,
 * then at each step the service with one more part taken away
 * (bench/ablation/*.patch, applied in order), and last the Nest floor. A
 * step's saving is the CPU per request it no longer spends, so the column
 * adds up to the gap between the service and the Nest floor: where the
 * service's own time goes, part by part. Medians of rounds, so a saving is
 * only as exact as the machine is quiet (a µs or two).
 */
export function ablationSection(
  summaries: readonly Summary[],
  service: string,
  steps: readonly { name: string; takenAway?: string }[],
): string | undefined {
  const mine = onWrongProject(summaries, service);
  const nest = onWrongProject(summaries, NEST_FLOOR);
  if (!mine || !nest || steps.length === 0) return undefined;
  // Rounded first, so that a saving lost in the noise reads 0, not -0.
  const saving = (from: Summary, to: Summary) =>
    micros(Math.round(from.cpuMicrosPerRequest - to.cpuMicrosPerRequest) + 0);
  const rows = [
    '| server | what it no longer does | CPU per request | saving | req/s vs yardstick |',
    '| --- | --- | ---: | ---: | ---: |',
    `| ${service} | (everything it does) | ${micros(mine.cpuMicrosPerRequest)} | | ${ratioCell(mine.rpsRatio)} |`,
  ];
  let before = mine;
  for (const step of steps) {
    const measured = onWrongProject(summaries, step.name);
    if (!measured) continue;
    rows.push(
      `| ${step.name} | ${step.takenAway ?? ''} | ${micros(measured.cpuMicrosPerRequest)} | ` +
        `${saving(before, measured)} | ${ratioCell(measured.rpsRatio)} |`,
    );
    before = measured;
  }
  rows.push(
    `| ${NEST_FLOOR} | what is left: a controller of its own module, its filter | ` +
      `${micros(nest.cpuMicrosPerRequest)} | ${saving(before, nest)} | ` +
      `${ratioCell(nest.rpsRatio)} |`,
  );
  return [
    ...rows,
    '',
    `Each step is the service with the parts of the steps above it taken away as well ` +
      `(\`npm run bench -- --ablation\`; the patches are in [\`bench/ablation/\`](bench/ablation/)). ` +
      `From the service to the Nest floor: ${micros(mine.cpuMicrosPerRequest - nest.cpuMicrosPerRequest)} per request.`,
  ].join('\n');
}

/**
 * The pgbench section: each statement's tps, medians of the rounds, and the
 * service's as a ratio to the yardstick's (median of the same-round ratios).
 */
export function pgbenchSection(runs: readonly PgbenchRun[], seconds: number): string | undefined {
  const summary = summarizePgbench(runs);
  if (!summary) return undefined;
  const ofRounds = (statement: string) =>
    runs
      .filter((r) => r.statement === statement)
      .map((r) => fixed(r.tps, 0))
      .join(', ');
  return [
    `pgbench, 16 clients, prepared protocol (\`-M prepared\`), ${summary.rounds} interleaved rounds of ${seconds} s ` +
      '(the statement that goes first moves on by one each round), each run on freshly reset tables. ' +
      "The service's statement is MOVE_TASK of [`src/tasks/task.sql.ts`](src/tasks/task.sql.ts), bound for a stop " +
      "as the service binds it and rendered into the script at run time; the yardstick's is STOP of " +
      '[`bench/yardstick-schema.ts`](bench/yardstick-schema.ts). Every transaction stops a different migrating ' +
      'task (each client walks its own range of ids); after every run the bench checks that exactly as many tasks ' +
      'were paused, each with one audit row, as pgbench counted transactions.',
    '',
    'The two rows between the service and the yardstick are steps of a ladder, not contestants: the plainest ' +
      "correct stop (the conditional UPDATE and its audit INSERT) on the service's tables, then with its audit " +
      "row in the yardstick's bare table. Each row's last column says what the next row leaves out.",
    '',
    'Server CPU per stop is the CPU time of the whole PostgreSQL server (its postmaster and every process it ' +
      'started: backends, WAL writer, checkpointer) over the run, divided by the stops: what a stop costs the ' +
      'database, which moves less than tps with what else the shared machine is doing.',
    '',
    '| statement, on its schema | tps (median) | tps by round | vs yardstick | server CPU µs per stop (median) | the next row leaves out |',
    '| --- | ---: | --- | ---: | ---: | --- |',
    ...summary.statements.map(({ statement, tps, ratio, cpuPerStop }) => {
      const row = PGBENCH_ROWS[statement] ?? { label: statement, change: '' };
      const vs = statement === 'yardstick' ? '1' : ratioCell(ratio);
      const cpu = cpuPerStop === undefined ? 'not measured' : fixed(cpuPerStop, 0);
      return `| ${row.label} | ${fixed(tps, 0)} | ${ofRounds(statement)} | ${vs} | ${cpu} | ${row.change} |`;
    }),
  ].join('\n');
}

/** One statement's count (bench/instructions.ts). */
export interface InstructionCountRow {
  readonly statement: string;
  readonly instructionsPerStop: number;
}

/** The instruction counts: the same ladder as pgbench, each row's count and its ratio to the yardstick's. */
export function instructionsSection(
  counts: readonly InstructionCountRow[],
  few: number,
  many: number,
  service?: { readonly parts: readonly PartCountRow[]; readonly serviceAgain: number },
): string | undefined {
  const yardstick = counts.find((c) => c.statement === 'yardstick');
  if (!yardstick) return undefined;
  const first = counts.find((c) => c.statement === 'service')?.instructionsPerStop;
  return [
    'The same statements, counted: the instructions a PostgreSQL backend executes per stop under ' +
      "valgrind's callgrind, on a server of the bench's own made by the same migrations (one connection " +
      `stops ${few} tasks, another ${many}, each with the statement as a named prepared statement; the ` +
      'difference over the difference in stops). A count does not move with the rest of the machine, so ' +
      'it tells apart statements a few percent apart; it leaves out the kernel and the WAL writer.',
    '',
    '| statement, on its schema | instructions per stop | yardstick / this | the next row leaves out |',
    '| --- | ---: | ---: | --- |',
    ...counts.map(({ statement, instructionsPerStop }) => {
      const row = PGBENCH_ROWS[statement] ?? { label: statement, change: '' };
      const vs =
        statement === 'yardstick'
          ? '1'
          : ratioCell(yardstick.instructionsPerStop / instructionsPerStop);
      return `| ${row.label} | ${Math.round(instructionsPerStop).toLocaleString('en')} | ${vs} | ${row.change} |`;
    }),
    ...(first !== undefined && service
      ? ['', ...partsTable(first, service.parts), '', recountLine(first, service.serviceAgain)]
      : []),
  ].join('\n');
}

/** A part of the service's stop and the count without it (bench/instructions.ts SERVICE_PARTS). */
export interface PartCountRow {
  readonly part: string;
  readonly instructionsPerStop: number;
}

/** Where the service's count goes: each part taken away in turn, and what that saved. */
function partsTable(service: number, parts: readonly PartCountRow[]): string[] {
  if (parts.length === 0) return [];
  const n = (value: number) => Math.round(value).toLocaleString('en');
  return [
    "The service's statement without each of its parts in turn (each still stops and audits " +
      "every task; a part costs the service's count less the count without it):",
    '',
    '| taken away | instructions per stop | the part costs |',
    '| --- | ---: | ---: |',
    ...parts.map(
      ({ part, instructionsPerStop }) =>
        `| ${part} | ${n(instructionsPerStop)} | ${n(service - instructionsPerStop)} |`,
    ),
  ];
}

/**
 * The service's statement counted a second time, after the rest: each count
 * starts on freshly rewritten tables, so the two should agree; if the order
 * the statements ran in moved the counts, the line says so.
 */
function recountLine(first: number, again: number): string {
  const apart = Math.abs(again - first) / first;
  const verdict =
    apart <= 0.02
      ? 'the order the statements run in does not move the counts'
      : '**more than 2 % apart: the counts depend on the order they were made in, so the ladder above is not to be trusted**';
  return (
    `The service's statement, counted again after the others: ${Math.round(again).toLocaleString('en')} ` +
    `(${(apart * 100).toFixed(1)} % from the first); ${verdict}.`
  );
}

/** One repetition of the group-stop path (bench/group-stop.ts), as the report needs it. */
export interface GroupStopTimes {
  readonly allAnsweredMs: number;
  readonly okMs: number;
  readonly createMs: number;
}

/** p50, p99, min and max of `values` (nearest rank, as for the load paths). */
export function spread(values: readonly number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  return { p50: rank(50), p99: rank(99), min: sorted[0], max: sorted[sorted.length - 1] };
}

/**
 * The group-stop path's section: the times over the repetitions. The
 * service alone: the yardstick has no group stop, so there is no ratio.
 */
export function groupStopSection(
  runs: readonly GroupStopTimes[],
  tasks: number,
  stops: number,
): string | undefined {
  if (runs.length === 0) return undefined;
  const row = (what: string, pick: (run: GroupStopTimes) => number) => {
    const s = spread(runs.map(pick));
    return `| ${what} | ${fixed(s.p50, 1)} | ${fixed(s.p99, 1)} | ${fixed(s.min, 1)} | ${fixed(s.max, 1)} |`;
  };
  return [
    `${runs.length} repetitions, each in a project of its own: a group of ${tasks.toLocaleString('en')} new tasks created through the API, ` +
      `then ${stops} \`PUT /v2/{project_id}/taskgroups/{group_id}/stop\` sent at once. ` +
      `Every repetition answered exactly one 200 and ${stops - 1} × 400 \`OMS.0066\`, and left every task of the group ` +
      'paused with exactly one `group_stop` audit row (checked in the database; the bench fails otherwise). ' +
      'The service only: there is no yardstick for a group stop, so no ratio.' +
      (runs.length < 100 ? ` With ${runs.length} repetitions the p99 is the slowest one.` : ''),
    '',
    '| from sending the stops to | p50 ms | p99 ms | min ms | max ms |',
    '| --- | ---: | ---: | ---: | ---: |',
    row(`the last of the ${stops} answers`, (run) => run.allAnsweredMs),
    row('the one 200', (run) => run.okMs),
    row(
      `(creating the group of ${tasks.toLocaleString('en')} tasks, for scale)`,
      (run) => run.createMs,
    ),
  ].join('\n');
}

/** The event-latency path's runs (bench/event-latency.ts), as the report needs them. */
export interface EventLatencyTimes {
  readonly stops: number;
  readonly afterOkMs: readonly number[];
  readonly afterSendMs: readonly number[];
}

/** The event-latency path's section: percentiles over every stop of every run. */
export function eventLatencySection(
  runs: readonly EventLatencyTimes[],
  concurrency: number,
): string | undefined {
  if (runs.length === 0) return undefined;
  const stops = runs.reduce((sum, run) => sum + run.stops, 0);
  const row = (what: string, values: number[]) => {
    const s = spread(values);
    return `| ${what} | ${fixed(s.p50, 2)} | ${fixed(s.p99, 2)} | ${fixed(s.min, 2)} | ${fixed(s.max, 2)} |`;
  };
  return [
    `${runs.length} run(s), ${stops.toLocaleString('en')} stops in all, ${concurrency} at a time, against a service ` +
      "with events on (NATS JetStream on this machine). A core NATS subscriber on the project's stop " +
      "subject records when each stop's event arrives; every stop's event arrived exactly once " +
      '(the bench fails otherwise). A time below 0 means the event came before the 200 had reached the client.',
    '',
    "| from the stop's | p50 ms | p99 ms | min ms | max ms |",
    '| --- | ---: | ---: | ---: | ---: |',
    row(
      '200 to its event',
      runs.flatMap((run) => [...run.afterOkMs]),
    ),
    row(
      'sending to its event',
      runs.flatMap((run) => [...run.afterSendMs]),
    ),
  ].join('\n');
}
