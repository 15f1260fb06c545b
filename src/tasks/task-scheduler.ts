// Admits waiting tasks (1 → 2) while their project has fewer than
// MAX_PARALLEL_TASKS running, best priority first, then oldest.
//
// Correct with any number of replicas on one database, because the decision
// is made inside PostgreSQL, not in this process:
// - a per-project advisory transaction lock serialises admissions of one
//   project across replicas, and the count of running tasks is read after
//   the lock is taken, so it sees every admission committed before;
// - FOR UPDATE SKIP LOCKED picks waiting rows that no one else (a delete, a
//   start) is holding, so a task is never admitted twice or admitted while
//   being deleted.
// This process only decides *when* to look: at once after a create, start,
// stop or delete in a project with waiting tasks, and on a periodic sweep
// as a backstop (another replica's change, a missed wake-up, a restart).

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
import { generateRequestId } from '../common/request-id.js';
import { TASK_ACTIONS, TaskStatus } from './task-state.js';
import { TRANSITION_OBSERVER, type TransitionObserver } from './transition-observer.js';

/** Statuses that hold one of the project's migration slots. */
export const RUNNING_STATUSES = [TaskStatus.Migrating, TaskStatus.Retrying, TaskStatus.Pausing];

/** First key of the scheduler's two-key advisory locks (the second is the project's hash). */
export const ADMISSION_LOCK_SPACE = 0x0_5c_ed;

const ADMIT_SQL = `
WITH running AS (
  SELECT count(*) AS n FROM tasks WHERE project_id = $1 AND status = ANY($2::smallint[])
), chosen AS (
  SELECT id, status FROM tasks
  WHERE project_id = $1 AND status = ANY($3::smallint[])
  ORDER BY task_priority DESC, created_at, id
  LIMIT GREATEST(0, $4 - (SELECT n FROM running))
  FOR UPDATE SKIP LOCKED
), moved AS (
  UPDATE tasks SET status = $5, start_time = now(), updated_at = now()
  FROM chosen WHERE tasks.id = chosen.id
  RETURNING tasks.id, tasks.project_id, chosen.status AS from_status
)
INSERT INTO task_transitions (task_id, project_id, action, from_status, to_status, user_id, request_id)
SELECT id, project_id, 'admit', from_status, $5, 'scheduler', $6 FROM moved
RETURNING task_id`;

const PROJECTS_WITH_WAITING_SQL = `SELECT DISTINCT project_id FROM tasks WHERE status = ${TaskStatus.Waiting}`;

@Injectable()
export class TaskScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('TaskScheduler');
  /** Projects to look at; a Set, so a burst of wake-ups costs one pass. */
  private readonly pending = new Set<string>();
  private draining: Promise<void> | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() @Inject(TRANSITION_OBSERVER) private readonly observer?: TransitionObserver,
  ) {}

  get enabled(): boolean {
    return this.config.schedulerSweepIntervalMs > 0;
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    this.sweepTimer = setInterval(() => void this.sweep(), this.config.schedulerSweepIntervalMs);
    this.sweepTimer.unref();
    void this.sweep();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweepTimer);
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
  async sweep(): Promise<void> {
    try {
      const rows: { project_id: string }[] = await this.db.query(PROJECTS_WITH_WAITING_SQL);
      for (const row of rows) this.wake(row.project_id);
    } catch (error) {
      this.logger.warn(`Sweep failed, will retry: ${(error as Error).message}`);
    }
  }

  /** Admits what the project's free slots allow; returns the admitted task ids. */
  async admit(projectId: string): Promise<string[]> {
    const { from, to } = TASK_ACTIONS.admit;
    const admitted = await this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
        ADMISSION_LOCK_SPACE,
        projectId,
      ]);
      const rows: { task_id: string }[] = await tx.query(ADMIT_SQL, [
        projectId,
        RUNNING_STATUSES,
        from,
        this.config.maxParallelTasks,
        to,
        generateRequestId(),
      ]);
      return rows.map((row) => row.task_id);
    });
    if (admitted.length > 0) this.observer?.transitioned(from[0], to, admitted.length);
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
    // Yield first, so wake-ups of the same tick coalesce into one pass.
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (const projectId of this.pending) {
      this.pending.delete(projectId);
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
