// Admits waiting tasks (1 → 2) while their project has fewer than
// MAX_PARALLEL_TASKS running, best priority first, then oldest.
//
// Correct with any number of replicas on one database, because the decision
// is made inside PostgreSQL, not in this process:
// - a per-project advisory transaction lock (SCHEDULER, in
//   database/advisory-locks.ts) serialises admissions of one project across
//   replicas, and the count of running tasks is read after the lock is
//   taken, so it sees every admission committed before;
// - FOR UPDATE SKIP LOCKED picks waiting rows that no one else (a delete, a
//   start) is holding, so a task is never admitted twice or admitted while
//   being deleted.
// This process only decides *when* to look: soon after a create, start,
// stop or delete (anything that may free a slot or fill the queue wakes
// it), and on a periodic sweep as a backstop (another replica's change, a
// missed wake-up, a restart). A wake-up does not say whether the project has
// waiting tasks; the pass asks, once for every project woken since the last
// pass, and admits only where some wait. So the stop does not ask: in its
// own statement the question was about 7 % of the database's instructions
// for a stop (docs/benchmarks.md).

import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { generateRequestId } from '../common/request-id.js';
import { LOCK_PROJECT } from '../database/advisory-locks.js';
import { execute } from '../database/statement.js';
import { TASK_ACTIONS, TaskStatus } from './task-state.js';
import { ADMIT_TASKS, PROJECTS_WAITING_AMONG, PROJECTS_WITH_WAITING } from './task.sql.js';
import { GROUP_PAUSED_STATUSES } from '../task-groups/task-group-state.js';
import { TRANSITION_OBSERVER, type TransitionObserver } from './transition-observer.js';

/**
 * How long a pass waits after the wake-up that starts it, so that the
 * wake-ups of that moment (on a busy service every stop wakes it) share one
 * question to the database: at most one pass per this many ms, and how late,
 * at most, a freed slot is filled.
 */
export const WAKE_COALESCE_MS = 20;

/** Statuses that hold one of the project's migration slots. */
export const RUNNING_STATUSES = [TaskStatus.Migrating, TaskStatus.Retrying, TaskStatus.Pausing];

@Injectable()
export class TaskScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('TaskScheduler');
  /** Projects to look at; a Set, so a burst of wake-ups costs one pass. */
  private readonly pending = new Set<string>();
  private draining: Promise<void> | undefined;
  private sweeping: Promise<void> | undefined;
  private stopSweeps: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Optional() @Inject(TRANSITION_OBSERVER) private readonly observer?: TransitionObserver,
  ) {}

  get enabled(): boolean {
    return this.config.schedulerSweepIntervalMs > 0;
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    this.stopSweeps = this.clock.every(this.config.schedulerSweepIntervalMs, () => this.sweep());
    void this.sweep();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.stopSweeps?.();
    this.pending.clear();
    await this.draining;
  }

  /** Asks for an admission pass over the project soon; never throws. */
  wake(projectId: string): void {
    if (!this.enabled || this.stopped) return;
    this.pending.add(projectId);
    this.kick();
  }

  /** Wakes every project that has waiting tasks. */
  sweep(): Promise<void> {
    const sweeping = this.findWaiting().finally(() => {
      if (this.sweeping === sweeping) this.sweeping = undefined;
    });
    this.sweeping = sweeping;
    return sweeping;
  }

  /**
   * Resolves once no sweep and no admission pass is in flight: what a test
   * waits for to know the scheduler has done what it was woken for.
   */
  async whenIdle(): Promise<void> {
    while (this.sweeping || this.draining) await (this.sweeping ?? this.draining);
  }

  private async findWaiting(): Promise<void> {
    try {
      const rows = await execute(this.db, PROJECTS_WITH_WAITING);
      for (const row of rows) this.wake(row.project_id);
    } catch (error) {
      this.logger.warn(`Sweep failed, will retry: ${(error as Error).message}`);
    }
  }

  /** Admits what the project's free slots allow; returns the admitted task ids. */
  async admit(projectId: string): Promise<string[]> {
    const { from, to } = TASK_ACTIONS.admit;
    // The admission's audit rows carry this id: the log line leads to them.
    const requestId = generateRequestId();
    const admitted = await this.db.transaction(async (tx) => {
      await execute(tx, LOCK_PROJECT, { lock: 'SCHEDULER', projectId });
      const rows = await execute(tx, ADMIT_TASKS, {
        projectId,
        running: RUNNING_STATUSES,
        from,
        maxParallel: this.config.maxParallelTasks,
        to,
        requestId,
        pausedGroups: GROUP_PAUSED_STATUSES,
      });
      return rows.map((row) => row.task_id);
    });
    if (admitted.length > 0) {
      this.observer?.transitioned(from[0], to, admitted.length);
      this.logger.log({
        msg: `admitted ${admitted.length} waiting task(s)`,
        requestId,
        project_id: projectId,
        task_ids: admitted,
      });
    }
    return admitted;
  }

  private kick(): void {
    if (this.draining) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      // A wake-up that came between the last pass and now.
      if (this.pending.size > 0 && !this.stopped) this.kick();
    });
  }

  private async drain(): Promise<void> {
    await new Promise<void>((resolve) => setTimeout(resolve, WAKE_COALESCE_MS));
    if (this.stopped) return;
    const woken = [...this.pending];
    this.pending.clear();
    let waiting: { project_id: string }[];
    try {
      waiting = await execute(this.db, PROJECTS_WAITING_AMONG, { projectIds: woken });
    } catch (error) {
      // The sweep will come back to these projects.
      this.logger.warn(`Looking for waiting tasks failed: ${(error as Error).message}`);
      return;
    }
    for (const { project_id: projectId } of waiting) {
      if (this.stopped) return;
      try {
        await this.admit(projectId);
      } catch (error) {
        // The sweep will come back to this project.
        this.logger.warn(`Admission in a project failed: ${(error as Error).message}`);
      }
    }
  }
}
