// The demo loop's decisions (src/worker/demo-worker.ts), with a fake client
// and a clock the test sets: when it heartbeats, what it reports, and what
// it does with each answer. Over HTTP and as a process:
// worker-processes.test.ts.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DemoWorker, demoPlan, type StopSignals } from '../src/worker/demo-worker.js';
import {
  WorkerCallFailed,
  type OutcomeReport,
  type Progress,
  type WorkerProtocol,
} from '../src/worker/worker-client.js';
import type { HeartbeatAnswer, Lease } from '../src/worker/worker-view.js';
import { encodeSubjectToken as subjectToken } from '../src/events/subject-token.js';
import { taskEventsSubject } from '../src/worker/stop-events.js';

const INTERVAL_MS = 1000;
const TASK_SECONDS = 10;

type Call =
  | { call: 'lease'; max: number }
  | { call: 'heartbeat'; leaseId: string; progress: Progress }
  | { call: 'outcome'; leaseId: string; report: OutcomeReport };

/** Answers from queues the test fills; records every call. */
class FakeProtocol implements WorkerProtocol {
  readonly calls: Call[] = [];
  leases: Lease[][] = [];
  answers: (HeartbeatAnswer | Error)[] = [];
  outcomes: (Error | undefined)[] = [];

  async lease(max: number): Promise<Lease[]> {
    this.calls.push({ call: 'lease', max });
    return this.leases.shift() ?? [];
  }

  async heartbeat(leaseId: string, progress: Progress): Promise<HeartbeatAnswer> {
    this.calls.push({ call: 'heartbeat', leaseId, progress });
    const answer = this.answers.shift() ?? { command: 'continue', status: 2, expires_at: 0 };
    if (answer instanceof Error) throw answer;
    return answer;
  }

  async outcome(leaseId: string, report: OutcomeReport) {
    this.calls.push({ call: 'outcome', leaseId, report });
    const error = this.outcomes.shift();
    if (error) throw error;
    return { status: report.outcome === 'paused' ? 3 : 5 };
  }

  of<K extends Call['call']>(kind: K): Extract<Call, { call: K }>[] {
    return this.calls.filter((c): c is Extract<Call, { call: K }> => c.call === kind);
  }
}

function leaseOf(taskId: number, done = 0): Lease {
  return {
    lease_id: `lease-${taskId}`,
    task_id: taskId,
    project_id: 'p1',
    expires_at: 0,
    heartbeat_interval_ms: INTERVAL_MS,
    task: { id: taskId, status: 2, complete_size: done, total_size: 0, total_num: 0 },
    keys: { src_ak: 'SECRET-AK' },
    options: {},
  } as unknown as Lease;
}

function setUp(leases: Lease[][] = [[leaseOf(7)]], stopSignals?: StopSignals) {
  const client = new FakeProtocol();
  client.leases = leases;
  let now = 1_000_000;
  const lines: string[] = [];
  const worker = new DemoWorker({
    client,
    taskSeconds: TASK_SECONDS,
    maxTasks: 2,
    pollIntervalMs: 500,
    now: () => now,
    log: {
      info: (msg, fields) => lines.push(msg + JSON.stringify(fields ?? {})),
      warn: (msg, fields) => lines.push(msg + JSON.stringify(fields ?? {})),
    },
    stopSignals,
  });
  return {
    client,
    worker,
    lines,
    /** Sets the clock `ms` later and ticks once. */
    async at(ms: number) {
      now += ms;
      await worker.tick();
    },
  };
}

describe('demo plan', () => {
  test('the same for one task id every time, different across ids, within its bounds', () => {
    assert.deepEqual(demoPlan(42), demoPlan(42));
    const plans = Array.from({ length: 50 }, (_, id) => demoPlan(id + 1));
    assert.ok(new Set(plans.map((p) => p.totalSize)).size > 40);
    for (const { totalNum, totalSize } of plans) {
      assert.ok(totalNum >= 20 && totalNum <= 1000);
      assert.ok(totalSize >= totalNum * 256 * 1024 && Number.isSafeInteger(totalSize));
    }
  });
});

describe('the loop', () => {
  test('leases, heartbeats every interval with progress at a steady pace, succeeds at the end', async () => {
    const { client, worker, at } = setUp();
    await at(0);
    assert.deepEqual(client.calls, [{ call: 'lease', max: 2 }]);
    assert.deepEqual(worker.taskIds, [7]);

    await at(INTERVAL_MS - 1);
    assert.equal(client.of('heartbeat').length, 0, 'not before the interval');
    await at(1);
    const plan = demoPlan(7);
    const [first] = client.of('heartbeat');
    assert.equal(first.leaseId, 'lease-7');
    assert.equal(first.progress.total_size, plan.totalSize);
    assert.equal(first.progress.total_num, plan.totalNum);
    assert.equal(first.progress.complete_size, Math.ceil(plan.totalSize / TASK_SECONDS));
    assert.equal(first.progress.left_time, TASK_SECONDS - 1);

    for (let second = 2; second <= TASK_SECONDS; second++) await at(INTERVAL_MS);
    const outcomes = client.of('outcome');
    assert.equal(outcomes.length, 1);
    assert.equal(outcomes[0].report.outcome, 'succeeded');
    assert.equal(outcomes[0].report.complete_size, plan.totalSize);
    assert.equal(outcomes[0].report.successful_num, plan.totalNum);
    assert.deepEqual(worker.taskIds, [], 'dropped once it succeeded');
    const sizes = client.of('heartbeat').map((c) => c.progress.complete_size!);
    assert.deepEqual(
      sizes,
      [...sizes].sort((a, b) => a - b),
      'progress only grows',
    );
  });

  test('pause: reports paused at once with its progress, then drops the task', async () => {
    const { client, worker, at } = setUp();
    await at(0);
    client.answers.push({ command: 'pause', status: 7 });
    await at(3 * INTERVAL_MS);
    const [report] = client.of('outcome').map((c) => c.report);
    assert.equal(report.outcome, 'paused');
    assert.equal(report.complete_size, Math.ceil((demoPlan(7).totalSize * 3) / TASK_SECONDS));
    assert.deepEqual(worker.taskIds, []);
    await at(10 * INTERVAL_MS);
    assert.equal(client.of('heartbeat').length, 1, 'no heartbeat after the drop');
  });

  test('abort: drops the task without an outcome', async () => {
    const { client, worker, at } = setUp();
    await at(0);
    client.answers.push({ command: 'abort', reason: 'lease_lost' });
    await at(INTERVAL_MS);
    assert.deepEqual(worker.taskIds, []);
    assert.equal(client.of('outcome').length, 0);
  });

  test('a lease after a pause goes on from the progress the service kept', async () => {
    const plan = demoPlan(9);
    const kept = Math.floor(plan.totalSize * 0.6);
    const { client, at } = setUp([[leaseOf(9, kept)]]);
    await at(0);
    await at(INTERVAL_MS);
    const [beat] = client.of('heartbeat');
    assert.equal(beat.progress.complete_size, kept + Math.ceil(plan.totalSize / TASK_SECONDS));
    // 40% left at 10% a second: done at the 4th second, not the 10th.
    for (let second = 2; second <= 4; second++) await at(INTERVAL_MS);
    assert.equal(client.of('outcome')[0]?.report.outcome, 'succeeded');
  });

  test('a success refused for the status (stopped as it finished) keeps the task; the next heartbeat pauses it', async () => {
    const { client, worker, at } = setUp([[leaseOf(7, demoPlan(7).totalSize)]]);
    await at(0);
    client.outcomes.push(
      new WorkerCallFailed('outcome', 400, 'OMS.0066', 'OMS.0066 not migrating'),
    );
    await at(INTERVAL_MS);
    assert.deepEqual(worker.taskIds, [7]);
    client.answers.push({ command: 'pause', status: 7 });
    await at(INTERVAL_MS);
    assert.deepEqual(
      client.of('outcome').map((c) => c.report.outcome),
      ['succeeded', 'paused'],
    );
    assert.deepEqual(worker.taskIds, []);
  });

  test('an outcome refused because the lease is gone (403) drops the task', async () => {
    const { client, worker, at } = setUp();
    await at(0);
    client.answers.push({ command: 'pause', status: 7 });
    client.outcomes.push(new WorkerCallFailed('outcome', 403, 'OMS.0206', 'OMS.0206'));
    await at(INTERVAL_MS);
    assert.deepEqual(worker.taskIds, []);
  });

  test('an unanswered heartbeat is retried at the next interval; the task is kept', async () => {
    const { client, worker, at, lines } = setUp();
    await at(0);
    client.answers.push(new WorkerCallFailed('heartbeat', undefined, undefined, 'no answer'));
    await at(INTERVAL_MS);
    assert.deepEqual(worker.taskIds, [7]);
    await at(INTERVAL_MS - 1);
    assert.equal(client.of('heartbeat').length, 1);
    await at(1);
    assert.equal(client.of('heartbeat').length, 2);
    assert.ok(!lines.join('\n').includes('SECRET-AK'), 'the keys are never logged');
  });

  test('asks for no more than it has room for, and not more often than the poll interval', async () => {
    const { client, at } = setUp([[leaseOf(1)], []]);
    await at(0);
    await at(499);
    assert.equal(client.of('lease').length, 1);
    await at(1);
    assert.deepEqual(
      client.of('lease').map((c) => c.max),
      [2, 1],
    );
  });

  test('a stop heard (events) heartbeats at once, and the pause is reported', async () => {
    let onStop: (() => void) | undefined;
    let unwatched = 0;
    const signals: StopSignals = {
      watch(projectId, taskId, callback) {
        assert.deepEqual([projectId, taskId], ['p1', 7]);
        onStop = callback;
        return () => unwatched++;
      },
    };
    const { client, worker, at } = setUp([[leaseOf(7)]], signals);
    await at(0);
    client.answers.push({ command: 'pause', status: 7 });
    onStop!();
    await at(1); // well before the interval
    assert.equal(client.of('outcome')[0]?.report.outcome, 'paused');
    assert.deepEqual(worker.taskIds, []);
    assert.equal(unwatched, 1, 'the watch ends with the task');
  });
});

describe('stop events', () => {
  test("a task's subject, each id encoded as the relay encodes it", () => {
    assert.equal(taskEventsSubject('', 'p_1-A', 7), 'oms.task.p_1-A.7.*');
    assert.equal(taskEventsSubject('ci.run', 'a.b c', 7), 'ci.run.oms.task.a%2Eb%20c.7.*');
    assert.equal(subjectToken('ü*>%'), '%C3%BC%2A%3E%25');
    assert.equal(subjectToken(''), '%');
  });
});
