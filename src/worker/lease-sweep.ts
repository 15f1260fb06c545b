// A pausing task whose worker stops renewing its lease (it died, or lost
// the service) would stay pausing for ever: nobody drains it, nobody
// confirms. The sweep pauses such tasks (TASK_ACTIONS lease_expire, 7 → 3)
// every WORKER_LEASE_SWEEP_INTERVAL_MS, on every replica: each task is moved
// under its row lock and only from pausing, so replicas sweeping at once
// move it once.
//
// A migrating task whose lease expires needs no sweep: it stays migrating
// and the next worker's lease takes it over.

import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CLOCK, type Clock } from '../common/clock.js';
import { generateRequestId } from '../common/request-id.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { execute } from '../database/statement.js';
import { TaskSettlement } from '../task-groups/task-settlement.js';
import { TaskScheduler } from '../tasks/task-scheduler.js';
import { TASK_ACTIONS } from '../tasks/task-state.js';
import { TRANSITION_OBSERVER, type TransitionObserver } from '../tasks/transition-observer.js';
import { EXPIRE_PAUSING_LEASES } from './worker.sql.js';

@Injectable()
export class LeaseSweep implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('LeaseSweep');
  private stopSweeps: (() => void) | undefined;
  private sweeping: Promise<number> | undefined;

  constructor(
    private readonly db: DataSource,
    private readonly scheduler: TaskScheduler,
    private readonly settlement: TaskSettlement,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Optional() @Inject(TRANSITION_OBSERVER) private readonly observer?: TransitionObserver,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.workerLeaseSweepIntervalMs === 0) return;
    this.stopSweeps = this.clock.every(this.config.workerLeaseSweepIntervalMs, () => this.sweep());
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopSweeps?.();
    await this.sweeping;
  }

  /** One sweep; resolves with how many tasks it paused (never throws). */
  sweep(): Promise<number> {
    this.sweeping ??= this.expire().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async expire(): Promise<number> {
    const { from, to } = TASK_ACTIONS.lease_expire;
    const requestId = generateRequestId();
    try {
      const paused = await execute(this.db, EXPIRE_PAUSING_LEASES, {
        from,
        to,
        now: new Date(this.clock.now()),
        requestId,
      });
      if (paused.length > 0) this.observer?.transitioned(from[0], to, paused.length);
      for (const task of paused) {
        this.scheduler.wake(task.project_id);
        if (task.group_id !== null) {
          await this.settlement.settleTask(task.project_id, task.task_id, requestId);
        }
      }
      if (paused.length > 0) {
        this.logger.log({
          msg: `paused ${paused.length} pausing task(s) whose lease expired`,
          requestId,
          task_ids: paused.map((task) => task.task_id),
        });
      }
      return paused.length;
    } catch (error) {
      this.logger.warn(`Lease sweep failed, will retry: ${(error as Error).message}`);
      return 0;
    }
  }
}
