// Concurrent stops against a service under test, each recorded, and the
// ledger that a fault must not break: a 200 is a task at Paused with exactly
// one audit row naming that request; no task moved without its audit row;
// an audit row belongs to a request that got 200, or an answer that could not
// say (a 503 whose connection to the database broke after the commit, or no
// answer at all from a killed process).

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { TaskStatus } from '../../src/tasks/task-state.js';
import { assertOmsError } from './stop-checks.js';
import { waitUntil } from './wait-until.js';

export interface StopOutcome {
  taskId: string;
  requestId: string;
  startedAt: number;
  endedAt: number;
  /** 0 when no HTTP answer came (connection error or client timeout). */
  status: number;
  headers: Record<string, string>;
  text: string;
  error?: string;
}

export interface StopLoadOptions {
  baseUrl: string;
  projectId: string;
  token: string;
  /** Tasks to stop, in order; the load ends when they run out. */
  taskIds: readonly string[];
  concurrency: number;
  /** The client gives up after this long: a hang is an outcome, not a stall. */
  timeoutMs: number;
  /** Every n-th request repeats a task sent a moment ago (maybe still in flight). */
  duplicateEvery: number;
  requestIdPrefix: string;
  /** A worker whose request failed waits this long, as a client backing off would. */
  backoffMs: number;
}

export class StopLoad {
  readonly outcomes: StopOutcome[] = [];
  private next = 0;
  private sent = 0;
  private halted = false;
  private readonly workers: Promise<void>[] = [];

  constructor(private readonly options: StopLoadOptions) {}

  start(): this {
    for (let i = 0; i < this.options.concurrency; i++) this.workers.push(this.work());
    return this;
  }

  /** Sends no new request; resolves once those in flight are answered or given up. */
  async halt(): Promise<StopOutcome[]> {
    this.halted = true;
    await Promise.all(this.workers);
    return this.outcomes;
  }

  /** Resolves once every task has been sent and answered (or given up). */
  async finished(): Promise<StopOutcome[]> {
    await Promise.all(this.workers);
    return this.outcomes;
  }

  /** Resolves once `predicate` holds for `count` outcomes (or the load ended). */
  async waitFor(predicate: (o: StopOutcome) => boolean, count: number, ms = 30_000) {
    await waitUntil(
      `${count} outcomes`,
      () => {
        if (this.outcomes.filter(predicate).length >= count) return true;
        if (this.next >= this.options.taskIds.length) {
          throw new Error(`the load ran out of tasks; answers: ${this.answerCounts()}`);
        }
        return false;
      },
      { timeoutMs: ms },
    );
  }

  /** How many of each answer came (status and OMS code), for a failure's message. */
  private answerCounts(): string {
    const counts = new Map<string, number>();
    for (const o of this.outcomes) {
      const code = /"error_code":"([^"]+)"/.exec(o.text)?.[1] ?? o.error ?? '';
      const key = `${o.status} ${code}`.trim();
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return JSON.stringify(Object.fromEntries(counts));
  }

  private pick(): string | undefined {
    const { taskIds, duplicateEvery } = this.options;
    this.sent++;
    if (this.next > 0 && this.sent % duplicateEvery === 0) {
      const recent = Math.max(0, this.next - 1 - (this.sent % 4));
      return taskIds[recent];
    }
    return this.next < taskIds.length ? taskIds[this.next++] : undefined;
  }

  private async work(): Promise<void> {
    while (!this.halted) {
      const taskId = this.pick();
      if (taskId === undefined) return;
      const outcome = await this.send(taskId, `${this.options.requestIdPrefix}-${this.sent}`);
      this.outcomes.push(outcome);
      if (outcome.status === 0 || outcome.status >= 500) await sleep(this.options.backoffMs);
    }
  }

  private async send(taskId: string, requestId: string): Promise<StopOutcome> {
    const { baseUrl, projectId, token, timeoutMs } = this.options;
    const startedAt = Date.now();
    try {
      const res = await fetch(`${baseUrl}/v2/${projectId}/tasks/${taskId}/stop`, {
        method: 'POST',
        headers: { 'X-Auth-Token': token, 'X-Request-Id': requestId },
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text();
      return {
        taskId,
        requestId,
        startedAt,
        endedAt: Date.now(),
        status: res.status,
        headers: Object.fromEntries(res.headers),
        text,
      };
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      const name = (error as Error).name;
      return {
        taskId,
        requestId,
        startedAt,
        endedAt: Date.now(),
        status: 0,
        headers: {},
        text: '',
        error: name === 'TimeoutError' ? 'timeout' : (cause ?? String(error)),
      };
    }
  }
}

/** Seeds `count` migrating tasks in `projectId`; returns their ids in order. */
export async function seedMigratingTasks(
  db: pg.ClientBase | pg.Pool,
  projectId: string,
  count: number,
): Promise<string[]> {
  const { rows } = await db.query(
    `INSERT INTO tasks (project_id, name, status)
     SELECT $1, 'load-' || n, $2 FROM generate_series(1, $3) AS n RETURNING id`,
    [projectId, TaskStatus.Migrating, count],
  );
  return rows.map((row: { id: string }) => row.id).sort((a, b) => Number(a) - Number(b));
}

export interface LedgerCounts {
  requests: number;
  ok: number;
  alreadyPaused: number;
  unavailable: number;
  /** 503s whose move had committed all the same (the audit row names them). */
  unavailableButCommitted: number;
  unanswered: number;
  unansweredButCommitted: number;
  paused: number;
}

/**
 * Checks the ledger of a run against the database. `allowUnanswered`: a
 * killed service leaves requests with no answer; otherwise every request
 * must have had one.
 */
export async function checkLedger(
  db: pg.ClientBase | pg.Pool,
  projectId: string,
  userId: string,
  outcomes: readonly StopOutcome[],
  { allowUnanswered = false } = {},
): Promise<LedgerCounts> {
  const tasks = await db.query<{ id: string; status: number }>(
    'SELECT id, status FROM tasks WHERE project_id = $1',
    [projectId],
  );
  const audit = await db.query<{
    task_id: string;
    from_status: number;
    to_status: number;
    user_id: string;
    request_id: string;
  }>('SELECT * FROM task_transitions WHERE project_id = $1', [projectId]);

  const byRequest = new Map(outcomes.map((o) => [o.requestId, o]));
  assert.equal(byRequest.size, outcomes.length, 'request ids must be unique');
  const auditByTask = new Map<string, (typeof audit.rows)[number]>();
  for (const row of audit.rows) {
    assert.ok(!auditByTask.has(row.task_id), `task ${row.task_id} has two audit rows`);
    auditByTask.set(row.task_id, row);
    assert.deepEqual(
      [row.from_status, row.to_status, row.user_id],
      [TaskStatus.Migrating, TaskStatus.Paused, userId],
    );
  }
  for (const task of tasks.rows) {
    if (auditByTask.has(task.id)) {
      assert.equal(task.status, TaskStatus.Paused, `task ${task.id} has an audit row, not paused`);
    } else {
      assert.equal(task.status, TaskStatus.Migrating, `task ${task.id} moved without audit row`);
    }
  }

  const counts: LedgerCounts = {
    requests: outcomes.length,
    ok: 0,
    alreadyPaused: 0,
    unavailable: 0,
    unavailableButCommitted: 0,
    unanswered: 0,
    unansweredButCommitted: 0,
    paused: audit.rows.length,
  };
  for (const row of audit.rows) {
    const by = byRequest.get(row.request_id);
    assert.ok(by, `audit row of task ${row.task_id} names request ${row.request_id}, never sent`);
    assert.equal(by.taskId, row.task_id);
    assert.ok(by.status !== 200 || by.text === '', 'a 200 with a body');
    if (by.status === 503) counts.unavailableButCommitted++;
    else if (by.status === 0) counts.unansweredButCommitted++;
    else
      assert.equal(by.status, 200, `request ${by.requestId} moved task ${by.taskId}: ${by.text}`);
  }
  for (const o of outcomes) {
    if (o.status === 0) {
      assert.ok(allowUnanswered, `request ${o.requestId} got no answer: ${o.error}`);
      counts.unanswered++;
    } else if (o.status === 200) {
      counts.ok++;
      const row = auditByTask.get(o.taskId);
      assert.equal(row?.request_id, o.requestId, `a 200 for ${o.taskId} without its audit row`);
    } else if (o.status === 503) {
      counts.unavailable++;
      assertOmsError(o, 503, 'OMS.2004');
    } else {
      // The only refusal a run of valid stops may see: a repeat of a paused task.
      assertOmsError(o, 400, 'OMS.0066');
      assert.ok(auditByTask.has(o.taskId), `OMS.0066 for task ${o.taskId}, which is not paused`);
      counts.alreadyPaused++;
    }
  }
  return counts;
}
