// `npm run bench`: the stop call under load, the service side by side with
// the yardstick (bench/yardstick.ts: the leanest correct stop, on a schema of
// its own) and, to explain the gap, the service's own SQL and schema under
// raw Node (bench/yardstick-service-sql.ts), on the same machine in the same
// run; then pgbench (bench/pgbench.ts) on the two stop statements alone.
//
//   npm run bench                  5 rounds of 10 s per path and server, a
//                                  profile, then BENCHMARKS.md and the chart
//   npm run bench -- --quick       2 rounds of 2 s, no profile, written to
//                                  .bench/ (a few minutes)
//
// The load paths are bench/load.ts's; the group-stop path (bench/group-stop.ts:
// a group of 1,000 tasks stopped by 16 concurrent stops, against the service
// only) runs after them, --repetitions N times (20; 3 with --quick); then the
// pgbench path (the service's stop statement vs the yardstick's, with two
// steps of a ladder between them, --rounds rounds of --seconds, skipped with
// a word if pgbench is not installed); then
// the event-latency path (bench/event-latency.ts: a stop's 200 to a NATS
// subscriber receiving its event, under EVENT_CONCURRENCY concurrent stops;
// needs NATS with JetStream, BENCH_NATS_URL or 127.0.0.1:4222).
//
// Options: --rounds N, --seconds S, --warmup S, --paths a,b, --repetitions N, --profile /
// --no-profile, --output FILE, --baseline GIT-REV[,GIT-REV...] (also runs the service as
// built from that revision, to measure a change before and after), --floors /
// --no-floors (bench/floor.ts on the wrong-project path; on in full runs),
// --ablation (the ladder of bench/ablation/*.patch on the wrong-project path:
// where the service's time goes, part by part; see ablationSection).
// BENCH_DATABASE_URL names the database (its name must contain "bench"); it
// is created and seeded on first use and reused after. DATABASE_POOL_SIZE,
// TOKEN_CACHE_TTL_SECONDS and LOG_LEVEL are passed to both servers.

import { execFileSync, execSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import pg from 'pg';
import { ablationPatches, applyAblationPatch } from './ablation.js';
import { prepareBenchDatabase, resetBenchDatabase } from './bench-database.js';
import { latencyChart } from './chart.js';
import {
  COLD_TOKEN_EVERY,
  CONNECTIONS,
  LOAD_PATHS,
  drive,
  percentile,
  type LoadPath,
  type PathName,
} from './load.js';
import {
  GROUP_STOP,
  GROUP_TASKS,
  STOPS,
  clearGroupProjects,
  groupStopRepetition,
  type GroupStopRun,
} from './group-stop.js';
import {
  EVENT_CONCURRENCY,
  EVENT_LATENCY,
  cleanUpEventLatency,
  eventLatencyRun,
  eventsEnv,
  prepareEventLatency,
  type EventLatencyRun,
} from './event-latency.js';
import { PGBENCH, PGBENCH_PATH, pgbenchAvailable, pgbenchRuns } from './pgbench.js';
import {
  COUNTED_STOPS,
  VALGRIND,
  countInstructions,
  valgrindAvailable,
  type InstructionCounts,
} from './instructions.js';
import { cpuMicros, sampleRss, startChild, type Child } from './processes.js';
import { summarizeProfile } from './profile.js';
import {
  CHART_PERCENTILES,
  FASTIFY_FLOOR,
  NEST_FLOOR,
  YARDSTICK,
  YARDSTICK_SERVICE_SQL,
  ablationSection,
  checkTargets,
  eventLatencySection,
  floorSection,
  groupStopSection,
  pgbenchSection,
  instructionsSection,
  profileSection,
  resultsTable,
  summarize,
  summarizePgbench,
  targetsList,
  type Measurement,
  type PgbenchRun,
} from './report.js';

const PROFILE_INTRO = `From \`node --cpu-prof\` of the service under the same load (a run of its own,
after the measured rounds). The profiler samples wall-clock time: with more
busy processes than cores, a thread that wakes another by writing to a socket
is often descheduled inside that call, so socket writes (\`writev\`,
\`writeLatin1String\`) also carry time spent waiting for a core. The shares
of the rest are the service's own work.`;

interface Options {
  quick: boolean;
  rounds: number;
  seconds: number;
  warmup: number;
  paths: LoadPath[];
  /** Whether the group-stop path runs, and how many times. */
  groupStop: boolean;
  repetitions: number;
  /** Whether the pgbench path runs. */
  pgbench: boolean;
  /** Whether the event-latency path runs, and how many stops it times. */
  eventLatency: boolean;
  eventStops: number;
  profile: boolean;
  output: string;
  baseline: string | undefined;
  floors: boolean;
  ablation: boolean;
}

function parseOptions(argv: string[]): Options {
  const value = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = argv.includes('--quick');
  const names = value('--paths')?.split(',');
  const paths = names ? LOAD_PATHS.filter((p) => names.includes(p.name)) : [...LOAD_PATHS];
  const groupStop = !names || names.includes(GROUP_STOP);
  const eventLatency = !names || names.includes(EVENT_LATENCY);
  const pgbench = !names || names.includes(PGBENCH_PATH);
  if (paths.length === 0 && !groupStop && !eventLatency && !pgbench) {
    throw new Error(
      `--paths: choose from ${[...LOAD_PATHS.map((p) => p.name), GROUP_STOP, PGBENCH_PATH, EVENT_LATENCY]}`,
    );
  }
  return {
    quick,
    groupStop,
    pgbench,
    eventLatency,
    eventStops: Number(value('--event-stops') ?? (quick ? 400 : 4000)),
    repetitions: Number(value('--repetitions') ?? (quick ? 3 : 20)),
    rounds: Number(value('--rounds') ?? (quick ? 2 : 5)),
    seconds: Number(value('--seconds') ?? (quick ? 2 : 10)),
    warmup: Number(value('--warmup') ?? (quick ? 1 : 2)),
    paths,
    profile: argv.includes('--profile') || (!quick && !argv.includes('--no-profile')),
    output: value('--output') ?? (quick ? '.bench/BENCHMARKS-quick.md' : 'BENCHMARKS.md'),
    baseline: value('--baseline'),
    floors: argv.includes('--floors') || (!quick && !argv.includes('--no-floors')),
    ablation: argv.includes('--ablation'),
  };
}

const log = (line: string) => console.log(line);
/** A pause after each run, so that requests still in the server finish. */
const SETTLE_MS = 500;
const databaseUrl =
  process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/oms_bench';
const passedOn = ['DATABASE_POOL_SIZE', 'TOKEN_CACHE_TTL_SECONDS', 'LOG_LEVEL'];

/** A server under test: how to start it, and its process once started. */
interface Contestant {
  readonly name: string;
  readonly args: string[];
  /** The paths it runs (all if unset). */
  readonly paths?: readonly PathName[];
  /** For an ablation step: the part of the service it takes away. */
  readonly takenAway?: string;
  child?: Child;
}

function serverEnv(iamEndpoint: string): Record<string, string> {
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: databaseUrl,
    IAM_ENDPOINT: iamEndpoint,
    // Production needs a key for task secrets; the stop never opens them.
    SECRETS_KEY: randomBytes(32).toString('base64'),
  };
  for (const name of passedOn) if (process.env[name]) env[name] = process.env[name]!;
  return env;
}

/** Builds the service as it was at `commit`, with `patches` applied, in `dir`. */
function buildService(commit: string, dir: string, patches: readonly string[] = []): void {
  if (existsSync(join(dir, 'dist/src/main.js'))) return;
  log(`Building the service at ${commit} in ${relative('.', dir)}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execSync(`git archive ${commit} | tar -x -C ${JSON.stringify(dir)}`);
  for (const patch of patches) {
    try {
      applyAblationPatch(dir, patch);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`${commit}: ${(error as Error).message}`);
    }
  }
  symlinkSync(resolve('node_modules'), join(dir, 'node_modules'));
  execFileSync(process.execPath, [resolve('node_modules/typescript/bin/tsc'), '-p', dir]);
}

const shortCommit = (rev: string) =>
  execFileSync('git', ['rev-parse', '--short', rev], { encoding: 'utf8' }).trim();

/** Builds the service as it was at `rev`, beside this checkout, for a before/after. */
function buildBaseline(rev: string): string {
  const commit = shortCommit(rev);
  buildService(commit, resolve('.bench', `baseline-${commit}`));
  return commit;
}

/**
 * The ablation ladder: step k is the committed service with the first k
 * patches of bench/ablation applied, each taking one more part away. A
 * patch's subject ("ablation: the guard") names the part.
 */
function ablationLadder(): Contestant[] {
  const commit = shortCommit('HEAD');
  const patches = ablationPatches();
  return patches.map((patch, i) => {
    const applied = patches.slice(0, i + 1);
    const digest = createHash('sha256');
    for (const file of applied) digest.update(readFileSync(file));
    const dir = resolve(
      '.bench',
      `ablation-${commit}-${i + 1}-${digest.digest('hex').slice(0, 8)}`,
    );
    buildService(commit, dir, applied);
    const subject = /^Subject: (?:\[PATCH[^\]]*\] )?ablation: (.+)$/m.exec(
      readFileSync(patch, 'utf8'),
    );
    const takenAway = subject?.[1] ?? basename(patch, '.patch');
    return {
      name: `step ${i + 1}`,
      takenAway,
      args: [join(dir, 'dist/src/main.js')],
      paths: ['wrong-project'],
    };
  });
}

async function iamCall(child: Child, method: string, path: string) {
  const response = await fetch(`http://127.0.0.1:${child.port}${path}`, { method });
  return (await response.json()) as {
    validations: number;
    distinctTokens: number;
    maxPerToken: number;
  };
}

async function measure(
  server: Contestant,
  path: LoadPath,
  round: number,
  options: Options,
  iam: Child,
): Promise<Measurement> {
  const child = server.child!;
  const pid = child.process.pid!;
  const url = `http://127.0.0.1:${child.port}`;
  if (path.pausesTasks) await resetBenchDatabase(databaseUrl);
  await iamCall(iam, 'POST', '/reset');
  // Tokens are new for every run, so that each run's IAM count stands alone.
  const tag = `r${round}-${server.name.replace(/\W/g, '')}-${path.name}`;
  const warm = await drive(url, path, tag, options.warmup);
  const cpuBefore = cpuMicros(pid);
  const rss = sampleRss(pid);
  const run = await drive(url, path, tag, options.seconds, warm.next);
  const cpu = cpuMicros(pid) - cpuBefore;
  const peakRss = rss.stop();
  const iamStats = await iamCall(iam, 'GET', '/stats');
  // autocannon stops sending, but the server still finishes what it took in
  // (after an IAM answer, perhaps): let it, before anything else measures or
  // resets the tasks those requests would pause.
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  return {
    server: server.name,
    path: path.name,
    round,
    rps: run.requests / run.seconds,
    p50: percentile(run.latencies, 50),
    p99: percentile(run.latencies, 99),
    cpuMicrosPerRequest: cpu / Math.max(1, run.requests),
    peakRssMb: peakRss / 2 ** 20,
    iamPerToken: iamStats.validations / Math.max(1, iamStats.distinctTokens),
    iamMaxPerToken: iamStats.maxPerToken,
    errors: run.errors,
    outcomes: run.outcomes,
    curve: CHART_PERCENTILES.map((p) => percentile(run.latencies, p)),
  };
}

/** Runs the service under --cpu-prof on one path and summarises the profile. */
async function profileService(path: LoadPath, options: Options, iam: Child, args: string[]) {
  const dir = resolve('.bench/profiles', `${Date.now()}-${path.name}`);
  mkdirSync(dir, { recursive: true });
  const child = await startChild(
    'service (profiled)',
    ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...args],
    serverEnv(`http://127.0.0.1:${iam.port}/v3`),
  );
  let loadStarted = Date.now();
  try {
    if (path.pausesTasks) await resetBenchDatabase(databaseUrl);
    const url = `http://127.0.0.1:${child.port}`;
    const warm = await drive(url, path, `profile-${path.name}`, options.warmup);
    loadStarted = Date.now();
    await drive(url, path, `profile-${path.name}`, options.seconds, warm.next);
  } finally {
    await child.stop();
  }
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no CPU profile was written in ${dir}`);
  const summary = summarizeProfile(join(dir, file), Date.now() - loadStarted);
  return { file: join(dir, file), summary };
}

/**
 * The group-stop path (bench/group-stop.ts), on a service process of its
 * own, started after the load paths so that nothing of theirs is still in
 * it. Its groups are deleted before and after, so the load paths' database
 * stays as they expect it.
 */
async function runGroupStop(
  args: string[],
  env: Record<string, string>,
  repetitions: number,
): Promise<GroupStopRun[]> {
  log(`${GROUP_STOP}: ${repetitions} repetitions, ${GROUP_TASKS} tasks, ${STOPS} concurrent stops`);
  await clearGroupProjects(databaseUrl);
  const child = await startChild('service (group stop)', args, env);
  const runs: GroupStopRun[] = [];
  try {
    const tag = Date.now().toString(36);
    for (let repetition = 1; repetition <= repetitions; repetition++) {
      const run = await groupStopRepetition(
        `http://127.0.0.1:${child.port}`,
        databaseUrl,
        repetition,
        tag,
      );
      runs.push(run);
      log(
        `repetition ${repetition} ${GROUP_STOP}  all ${STOPS} answered ${run.allAnsweredMs.toFixed(1)} ms  ` +
          `the 200 ${run.okMs.toFixed(1)} ms  (create ${run.createMs.toFixed(0)} ms)`,
      );
    }
  } finally {
    await child.stop();
    await clearGroupProjects(databaseUrl);
  }
  return runs;
}

/**
 * The event-latency path (bench/event-latency.ts), on a service process of
 * its own with events on, under streams that are removed afterwards.
 */
async function runEventLatency(
  args: string[],
  env: Record<string, string>,
  stops: number,
): Promise<EventLatencyRun[]> {
  log(`${EVENT_LATENCY}: ${stops} stops, ${EVENT_CONCURRENCY} at a time, events on`);
  await prepareEventLatency(databaseUrl);
  const events = eventsEnv();
  const child = await startChild('service (events)', args, { ...env, ...events.env });
  try {
    const tag = Date.now().toString(36);
    const run = await eventLatencyRun(
      `http://127.0.0.1:${child.port}`,
      databaseUrl,
      events.subjectPrefix,
      stops,
      tag,
    );
    const sorted = Float64Array.from(run.afterOkMs).sort();
    log(
      `${EVENT_LATENCY}  200 to event p50 ${percentile(sorted, 50).toFixed(2)} ms  ` +
        `p99 ${percentile(sorted, 99).toFixed(2)} ms`,
    );
    return [run];
  } finally {
    await child.stop();
    await cleanUpEventLatency(databaseUrl, events.streamPrefix);
  }
}

async function postgresVersion(): Promise<string> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query('SHOW server_version');
    return `PostgreSQL ${rows[0].server_version}`;
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const started = new Date();
  const loadBefore = loadavg();
  await prepareBenchDatabase(databaseUrl, log);

  const contestants: Contestant[] = [
    { name: 'service', args: ['dist/src/main.js'] },
    { name: YARDSTICK, args: ['dist/bench/yardstick.js'] },
    { name: YARDSTICK_SERVICE_SQL, args: ['dist/bench/yardstick-service-sql.js'] },
  ];
  const baselines = (options.baseline?.split(',') ?? []).map((rev): Contestant => {
    const commit = buildBaseline(rev);
    return {
      name: `service@${commit}`,
      args: [join('.bench', `baseline-${commit}`, 'dist/src/main.js')],
    };
  });
  contestants.push(...baselines);

  const refusing = options.paths.some((p) => p.name === 'wrong-project');
  const ladder = options.ablation && refusing ? ablationLadder() : [];
  contestants.push(...ladder);
  if ((options.floors || ladder.length > 0) && refusing) {
    for (const [name, framework] of [
      [FASTIFY_FLOOR, 'fastify'],
      [NEST_FLOOR, 'nest'],
    ]) {
      contestants.push({
        name,
        args: ['dist/bench/floor.js', framework],
        paths: ['wrong-project'],
      });
    }
  }

  const iam = await startChild('IAM double', ['dist/bench/iam-double.js'], {
    IAM_DELAY_MS: process.env.IAM_DELAY_MS ?? '15',
  });
  const measurements: Measurement[] = [];
  const groupStops: GroupStopRun[] = [];
  const eventRuns: EventLatencyRun[] = [];
  const pgbenchRounds: PgbenchRun[] = [];
  let instructionCounts: InstructionCounts | undefined;
  let pgbenchMissing = false;
  const profiles: string[] = [];
  const loadRounds = options.paths.length > 0 ? options.rounds : 0;
  try {
    const env = serverEnv(`http://127.0.0.1:${iam.port}/v3`);
    if (loadRounds > 0) {
      for (const contestant of contestants) {
        contestant.child = await startChild(contestant.name, contestant.args, env);
      }
      log(
        `${options.rounds} rounds × ${options.paths.length} paths × ${contestants.length} servers, ` +
          `${options.seconds} s each after ${options.warmup} s of warm-up, ${CONNECTIONS} connections`,
      );
    }
    for (let round = 1; round <= loadRounds; round++) {
      for (const path of options.paths) {
        // Interleaved: who goes first changes every round.
        const order = contestants.map((_, i) => contestants[(i + round - 1) % contestants.length]);
        for (const contestant of order) {
          if (contestant.paths && !contestant.paths.includes(path.name)) continue;
          const m = await measure(contestant, path, round, options, iam);
          measurements.push(m);
          log(
            `round ${round} ${path.name.padEnd(13)} ${contestant.name.padEnd(23)} ` +
              `${m.rps.toFixed(0).padStart(6)} req/s  p50 ${m.p50.toFixed(2)} ms  ` +
              `p99 ${m.p99.toFixed(2)} ms  ${m.cpuMicrosPerRequest.toFixed(0)} µs CPU/req  ` +
              `RSS ${m.peakRssMb.toFixed(0)} MB  IAM ${m.iamMaxPerToken}/token` +
              (m.errors ? `  ERRORS ${m.errors} ${JSON.stringify(m.outcomes)}` : ''),
          );
        }
      }
    }
    for (const contestant of contestants) await contestant.child?.stop();
    if (options.groupStop) {
      groupStops.push(...(await runGroupStop(contestants[0].args, env, options.repetitions)));
    }
    if (options.pgbench && pgbenchAvailable()) {
      log(
        `pgbench: ${options.rounds} rounds of ${options.seconds} s, the service's stop statement, ` +
          "two steps towards the yardstick's, and the yardstick's",
      );
      pgbenchRounds.push(...(await pgbenchRuns(databaseUrl, options.rounds, options.seconds, log)));
      if (valgrindAvailable()) {
        log("Instructions: the same statements under callgrind, on a server of the bench's own");
        instructionCounts = await countInstructions(log);
      } else {
        log(`Instructions: ${VALGRIND} is not installed; the count is skipped`);
      }
    } else if (options.pgbench) {
      pgbenchMissing = true;
      log(`pgbench: ${PGBENCH} is not installed; the database comparison is skipped`);
    }
    if (options.eventLatency) {
      eventRuns.push(...(await runEventLatency(contestants[0].args, env, options.eventStops)));
    }
    if (options.profile && loadRounds > 0) {
      for (const name of ['success', 'wrong-project'] as const) {
        const path = LOAD_PATHS.find((p) => p.name === name)!;
        log(`Profiling the service on the ${name} path`);
        const { file, summary } = await profileService(path, options, iam, contestants[0].args);
        profiles.push(profileSection(`Service, ${name} path (${relative('.', file)})`, summary));
      }
    }
  } finally {
    for (const contestant of contestants) await contestant.child?.stop();
    await iam.stop();
  }

  const names = contestants.map((c) => c.name);
  const everyServer = summarize(measurements, names, options.paths);
  // The ladder's steps have their own section, not a place in the table and chart.
  const summaries = everyServer.filter((s) => !ladder.some((step) => step.name === s.server));
  const pgbenchSummary = summarizePgbench(pgbenchRounds);
  const targets = checkTargets(summaries, 'service', pgbenchSummary);
  const floors = floorSection(summaries, 'service');
  const ablation = ablationSection(everyServer, 'service', ladder);
  const table = resultsTable(summaries);
  const groupStop = groupStopSection(groupStops, GROUP_TASKS, STOPS);
  if (loadRounds > 0) log(`\n${table}\n\n${targetsList(targets)}`);
  if (groupStop) log(`\n${groupStop}`);
  const pgbenchText = options.pgbench
    ? pgbenchMissing
      ? `Not measured: \`${PGBENCH}\` (the PostgreSQL client's pgbench) is not installed on this machine.`
      : pgbenchSection(pgbenchRounds, options.seconds)
    : undefined;
  const counted = instructionsSection(
    instructionCounts?.ladder ?? [],
    COUNTED_STOPS.few,
    COUNTED_STOPS.many,
    instructionCounts,
  );
  const database = [pgbenchText, counted].filter(Boolean).join('\n\n') || undefined;
  if (database) log(`\n${database}`);
  if (pgbenchSummary && loadRounds === 0) log(`\n${targetsList(targets)}`);
  const eventLatency = eventLatencySection(eventRuns, EVENT_CONCURRENCY);
  if (eventLatency) log(`\n${eventLatency}`);

  const chartFile = join(dirname(options.output), 'benchmarks', 'latency.svg');
  // A run of the group-stop path alone leaves the chart of the load paths as it was.
  if (loadRounds > 0) {
    mkdirSync(dirname(chartFile), { recursive: true });
    writeFileSync(
      chartFile,
      latencyChart(
        `Stop under load: latency percentiles, medians of ${options.rounds} rounds`,
        CHART_PERCENTILES,
        options.paths.map((path) => ({
          title: `${path.name} (${path.expected})`,
          curves: summaries
            .filter((s) => s.path === path.name)
            .map((s) => ({ label: s.server, values: s.curve })),
        })),
      ),
    );
  }

  const cpu = cpus();
  const machine = [
    `- Date: ${started.toISOString()} (${options.quick ? 'quick mode' : 'full run'})`,
    `- CPU: ${cpu.length} × ${cpu[0]?.model ?? 'unknown'}; memory ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Linux ${release()}`,
    `- Node.js ${process.version}; ${await postgresVersion()} on the same machine`,
    `- Load average (1 min) before / after: ${loadBefore[0].toFixed(2)} / ${loadavg()[0].toFixed(2)} — the machine is shared, so only ratios within one run mean much`,
  ].join('\n');
  const markdown = `# Benchmarks

The stop call (\`POST /v2/{project_id}/tasks/{task_id}/stop\`) under load,
the service side by side with the **yardstick**
([\`bench/yardstick.ts\`](bench/yardstick.ts)): the leanest correct stop,
written from the job with nothing but \`node:http\` and \`pg\`, on a schema of
its own designed for the stop (a narrow table whose stop is a HOT update; the
conditional UPDATE and its audit INSERT as one named statement), a token
cache and a pool of 16. Every ratio is to it, in the same round of the same
run. The row **${YARDSTICK_SERVICE_SQL}**
([\`bench/yardstick-service-sql.ts\`](bench/yardstick-service-sql.ts))
explains the gap: raw Node again, but with the service's own statement on the
service's own schema, so the service against it is the framework and the
service's code, and it against the yardstick is the service's schema and
statement. The [database section](#the-stop-statements-alone-pgbench)
measures the two statements with pgbench, without Node. Generated by
\`npm run bench\` ([\`bench/\`](bench/)); see the README for how to run it.

## Machine

${machine}

## Method

- Database: ${(1_000_000).toLocaleString('en')} migrating tasks in 100 projects, seeded with
  \`generate_series\` after the real migrations; tasks are reset to migrating
  before every run of a path that pauses them.
- The servers run as child processes with \`NODE_ENV=production\`, ${
    process.env.DATABASE_POOL_SIZE
      ? `a pool of ${process.env.DATABASE_POOL_SIZE} connections each`
      : 'their default pools (the service and the service-SQL yardstick 10 connections, the yardstick 16)'
  }, and validate tokens against an
  IAM double (its own process) that answers after ${process.env.IAM_DELAY_MS ?? 15} ms.
- autocannon, ${CONNECTIONS} connections, ${options.seconds} s per run after ${options.warmup} s of warm-up;
  ${options.rounds} rounds, the order of the servers rotating every round.${
    options.baseline
      ? `\n- ${baselines.map((c) => `\`${c.name}\``).join(', ')}: the service as built from that commit,\n  to show a change before and after in the same run.`
      : ''
  }
  Figures are medians of the rounds; ratios are medians of each round's ratio.
- Paths:
${[
  ...options.paths.map((p) => `  - **${p.name}** (expects ${p.expected}): ${p.description}`),
  ...(options.groupStop
    ? [
        `  - **${GROUP_STOP}** (the service only): ${options.repetitions} times, a group of ${GROUP_TASKS.toLocaleString('en')} tasks stopped by ${STOPS} concurrent \`PUT\` stops (its own section below)`,
      ]
    : []),
  ...(options.pgbench
    ? [
        `  - **${PGBENCH_PATH}** (the database alone): the service's stop statement on its schema and the yardstick's on its own, ${options.rounds} rounds of ${options.seconds} s (its own section below)`,
      ]
    : []),
  ...(options.eventLatency
    ? [
        `  - **${EVENT_LATENCY}** (the service only, events on): ${options.eventStops.toLocaleString('en')} stops, ${EVENT_CONCURRENCY} at a time; from each 200 to a NATS subscriber receiving its event (its own section below)`,
      ]
    : []),
].join('\n')}
- CPU µs/req: user + system time of the server process (\`/proc/<pid>/stat\`)
  over the run, per answered request. Peak RSS: sampled every 100 ms.
  IAM calls per token: validations the IAM double counted per distinct token
  (a run lasts far less than the cache TTL, so 1 is the most allowed).
- Errors: answers other than the path's expected one, and connection errors.
  A new token is used every ${COLD_TOKEN_EVERY} requests on the cache-cold path.${
    floors
      ? `\n- Floors, on the wrong-project path only: [\`bench/floor.ts\`](bench/floor.ts)
  answers the same 403 (body and \`X-Request-Id\`) with Fastify alone, and with
  a Nest 12 controller on Fastify whose handler throws into a filter; nothing
  else (no token, cache, log or metrics). They show what the frameworks cost
  before the service does any work of its own.`
      : ''
  }

${
  loadRounds > 0
    ? `## Results

${table}

## Targets

${targetsList(targets)}
`
    : pgbenchSummary
      ? `## Targets

${targetsList(targets)}
`
      : ''
}${database ? `\n## The stop statements alone (pgbench)\n\n${database}\n` : ''}${groupStop ? `\n## Group stop, ${GROUP_TASKS.toLocaleString('en')} tasks, ${STOPS} concurrent stops\n\n${groupStop}\n` : ''}${eventLatency ? `\n## A stop's event, from the 200 to a subscriber\n\n${eventLatency}\n` : ''}${floors ? `\n## The framework floor (wrong-project path)\n\n${floors}\n` : ''}${ablation ? `\n## Where the time goes, part by part (wrong-project path)\n\n${ablation}\n` : ''}
${
  loadRounds > 0
    ? `## Latency

![Latency percentiles, service vs yardstick](${relative(dirname(options.output), chartFile)})
`
    : ''
}${profiles.length ? `\n## Where the service's time goes\n\n${PROFILE_INTRO}\n\n${profiles.join('\n\n')}\n` : ''}
${
  loadRounds > 0
    ? `<details><summary>Every round</summary>

| round | path | server | req/s | p50 ms | p99 ms | CPU µs/req | RSS MB | errors |
| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |
${measurements
  .map(
    (m) =>
      `| ${m.round} | ${m.path} | ${m.server} | ${m.rps.toFixed(0)} | ${m.p50.toFixed(2)} | ${m.p99.toFixed(2)} | ${m.cpuMicrosPerRequest.toFixed(0)} | ${m.peakRssMb.toFixed(0)} | ${m.errors} |`,
  )
  .join('\n')}

</details>
`
    : ''
}`;
  mkdirSync(dirname(options.output), { recursive: true });
  writeFileSync(options.output, markdown);
  log(`\nWrote ${options.output}${loadRounds > 0 ? ` and ${chartFile}` : ''}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
