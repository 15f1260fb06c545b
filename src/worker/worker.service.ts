// The service side of the data plane's protocol (docs/worker-protocol.md):
// a worker leases migrating tasks, renews each lease with heartbeats that
// report progress and bring back what to do (continue, pause, abort), and
// reports outcomes, which are TASK_ACTIONS moves made under its lease.
//
// Only callers with the worker role reach it (worker-role.guard.ts).

import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CLOCK, type Clock } from '../common/clock.js';
import { InvalidParameter, LeaseNotHeld } from '../common/oms-errors.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { execute } from '../database/statement.js';
import type { Caller } from '../iam/caller.js';
import { TaskSettlement } from '../task-groups/task-settlement.js';
import { TaskScheduler } from '../tasks/task-scheduler.js';
import { TaskSecretsCipher, type TaskSecrets } from '../tasks/task-secrets.js';
import { TASK_EDITS, TaskStatus } from '../tasks/task-state.js';
import { TaskTransitions } from '../tasks/task-transitions.js';
import type { TaskRow } from '../tasks/task.sql.js';
import { toTaskObject } from '../tasks/task-view.js';
import {
  OUTCOME_ACTIONS,
  type LeaseRequestBody,
  type OutcomeBody,
  type ProgressBody,
} from './worker.bodies.js';
import {
  HEARTBEAT,
  LEASE_TASKS,
  LEASED_TASK,
  LEASED_TASK_ROWS,
  type ReportedProgress,
} from './worker.sql.js';
import type { HeartbeatAnswer, Lease, LeaseList, OutcomeAnswer } from './worker-view.js';

/** Statuses in which a worker holds a task: it moves data (2, 6) or drains (7). */
const HELD_STATUSES = [TaskStatus.Migrating, TaskStatus.Retrying, TaskStatus.Pausing];

/** What a heartbeat answer tells the worker, from the task's status. */
const COMMAND_IN: Partial<Record<TaskStatus, HeartbeatAnswer['command']>> = {
  [TaskStatus.Migrating]: 'continue',
  [TaskStatus.Retrying]: 'continue',
  [TaskStatus.Pausing]: 'pause',
};

@Injectable()
export class WorkerService {
  constructor(
    private readonly db: DataSource,
    private readonly transitions: TaskTransitions,
    private readonly scheduler: TaskScheduler,
    private readonly settlement: TaskSettlement,
    private readonly cipher: TaskSecretsCipher,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * Leases up to max_tasks tasks. A lost answer leaves leases nobody knows
   * of; they expire within WORKER_LEASE_TTL_MS and the tasks are leased
   * again, so nothing is settled here.
   */
  async lease(
    workerId: string,
    body: LeaseRequestBody,
    caller: Caller,
    requestId: string,
  ): Promise<LeaseList> {
    const now = this.clock.now();
    const leased = await execute(this.db, LEASE_TASKS, {
      leasable: TASK_EDITS.lease.in,
      limit: body.max_tasks ?? 1,
      workerId,
      now: new Date(now),
      expiresAt: new Date(now + this.config.workerLeaseTtlMs),
      userId: caller.userId,
      requestId,
    });
    if (leased.length === 0) return { leases: [] };
    const tasks = await execute(this.db, LEASED_TASK_ROWS, {
      taskIds: leased.map((row) => row.task_id),
    });
    const byId = new Map(tasks.map((task) => [task.id, task]));
    const leases: Lease[] = [];
    for (const row of leased) {
      const task = byId.get(row.task_id);
      if (!task) continue; // deleted since: its lease went with it
      leases.push({
        lease_id: row.lease_id,
        task_id: Number(row.task_id),
        project_id: row.project_id,
        expires_at: row.expires_at.getTime(),
        heartbeat_interval_ms: this.config.workerHeartbeatIntervalMs,
        task: toTaskObject(task),
        keys: this.keysOf(task),
        options: task.options ?? {},
      });
    }
    return { leases };
  }

  /** Renews the lease and records progress; says what the worker is to do. */
  async heartbeat(workerId: string, leaseId: string, body: ProgressBody): Promise<HeartbeatAnswer> {
    const [renewed] = await this.renew(workerId, leaseId, reportedProgress(body));
    if (renewed === undefined) return this.abort(workerId, leaseId);
    return {
      command: COMMAND_IN[renewed.status] ?? 'abort',
      status: renewed.status,
      expires_at: renewed.expires_at.getTime(),
    };
  }

  /** An outcome: progress first (if any), then the move, under the lease. */
  async report(
    workerId: string,
    leaseId: string,
    body: OutcomeBody,
    caller: Caller,
    requestId: string,
  ): Promise<OutcomeAnswer> {
    if ((body.outcome === 'failed') !== (body.error_reason !== undefined)) {
      throw new InvalidParameter(
        body.outcome === 'failed'
          ? 'error_reason is required with outcome failed.'
          : 'error_reason goes only with outcome failed.',
      );
    }
    const progress = reportedProgress(body);
    const [held] = await execute(this.db, LEASED_TASK, { leaseId, workerId });
    if (held === undefined) throw new LeaseNotHeld();
    if (Object.values(progress).some((value) => value !== null)) {
      await this.renew(workerId, leaseId, progress);
    }
    const action = OUTCOME_ACTIONS[body.outcome];
    const moved = await this.transitions.apply(
      action,
      held.project_id,
      held.task_id,
      caller,
      requestId,
      {
        lease: { leaseId, workerId },
        ...(body.error_reason && { errorReason: { ...body.error_reason } }),
      },
    );
    // A task that stopped running frees a slot of its project, and may
    // settle its group (all paused, all done).
    this.scheduler.wake(held.project_id);
    await this.settlement.settleTask(held.project_id, held.task_id, requestId);
    return { status: moved.to as TaskStatus };
  }

  /** Renews the lease and records the progress, while the task is held (HEARTBEAT). */
  private renew(workerId: string, leaseId: string, progress: ReportedProgress) {
    return execute(this.db, HEARTBEAT, {
      ...progress,
      leaseId,
      workerId,
      live: HELD_STATUSES,
      expiresAt: new Date(this.clock.now() + this.config.workerLeaseTtlMs),
    });
  }

  /** A heartbeat that found nothing to renew: the lease is gone, or the task stopped. */
  private async abort(workerId: string, leaseId: string): Promise<HeartbeatAnswer> {
    const [held] = await execute(this.db, LEASED_TASK, { leaseId, workerId });
    return {
      command: 'abort',
      // A lease row with a task no longer held means the task moved on
      // without the worker (paused by the sweep, say); no lease row, that it
      // was taken over, ended, or its task deleted.
      reason: held === undefined ? 'lease_lost' : 'task_not_running',
    };
  }

  private keysOf(task: TaskRow & { secrets: Buffer | null }): TaskSecrets {
    if (!task.secrets) return {};
    return this.cipher.open(task.secrets, task.projectId, task.id);
  }
}

/** The body's counters as the heartbeat statement takes them (null: not reported). */
function reportedProgress(body: ProgressBody): ReportedProgress {
  for (const [done, total] of [
    ['complete_size', 'total_size'],
    ['successful_num', 'total_num'],
  ] as const) {
    if (body[done] !== undefined && body[total] !== undefined && body[done] > body[total]) {
      throw new InvalidParameter(`${done} must not exceed ${total}.`);
    }
  }
  if (body.total_num !== undefined) {
    const counted = (body.successful_num ?? 0) + (body.failed_num ?? 0) + (body.skipped_num ?? 0);
    if (counted > body.total_num) {
      throw new InvalidParameter(
        'successful_num, failed_num and skipped_num together must not exceed total_num.',
      );
    }
  }
  return {
    totalSize: body.total_size ?? null,
    completeSize: body.complete_size ?? null,
    totalNum: body.total_num ?? null,
    successfulNum: body.successful_num ?? null,
    failedNum: body.failed_num ?? null,
    skippedNum: body.skipped_num ?? null,
    migrateSpeed: body.migrate_speed ?? null,
    leftTime: body.left_time ?? null,
    isQueryOver: body.is_query_over ?? null,
  };
}
