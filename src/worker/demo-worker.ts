// The demo data plane: a worker that moves no bytes. It leases migrating
// tasks through the protocol (worker-client.ts), makes up a size and an
// object count for each (the same every time for one task id), and reports
// progress at a pace that finishes a task in `taskSeconds`, then succeeds.
// It obeys the heartbeat's answer: pause (report paused with the progress
// made, drop the task), abort (drop it). A lease taken again after a pause
// goes on from the progress the service kept.
//
// Time is read through `now` and the loop is one `tick()`, so a unit test
// drives it with a fake clock and a fake client; `start()` ticks on a timer.

import { createHash } from 'node:crypto';
import type { Lease } from './worker-view.js';
import { WorkerCallFailed, type Progress, type WorkerProtocol } from './worker-client.js';

/** How often the running loop looks for heartbeats that fall due. */
const TICK_MS = 50;

/** Where the worker's lines go; nothing secret is ever handed to it. */
export interface WorkerLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

/**
 * Word of a stop sooner than the next heartbeat (events on NATS,
 * stop-events.ts): `watch` calls `onStop` when the task is stopped, and
 * returns what ends the watch.
 */
export interface StopSignals {
  watch(projectId: string, taskId: number, onStop: () => void): () => void;
}

export interface DemoWorkerOptions {
  readonly client: WorkerProtocol;
  /** Seconds from nothing to succeeded. */
  readonly taskSeconds: number;
  /** Tasks held at once. */
  readonly maxTasks: number;
  /** How often to ask for tasks while there is room for more. */
  readonly pollIntervalMs: number;
  readonly now?: () => number;
  readonly log?: WorkerLog;
  readonly stopSignals?: StopSignals;
}

/** What the demo makes up for a task: bytes and objects, from its id alone. */
export interface DemoPlan {
  readonly totalSize: number;
  readonly totalNum: number;
}

export function demoPlan(taskId: number): DemoPlan {
  const hash = createHash('sha256').update(`oms-demo-task-${taskId}`).digest();
  const totalNum = 20 + (hash.readUInt16BE(0) % 981); // 20 to 1,000 objects
  const meanObjectSize = (1 + (hash.readUInt16BE(2) % 256)) * 256 * 1024; // 256 KiB to 64 MiB
  return { totalNum, totalSize: totalNum * meanObjectSize };
}

interface HeldTask {
  readonly leaseId: string;
  readonly taskId: number;
  readonly projectId: string;
  readonly intervalMs: number;
  readonly plan: DemoPlan;
  /** Bytes done when this lease began (what the service kept). */
  readonly doneAtLease: number;
  readonly leasedAt: number;
  nextBeatAt: number;
  /** A heartbeat or outcome is in flight. */
  busy: boolean;
  /** A stop was heard while busy: beat again as soon as the call returns. */
  stopHeard: boolean;
  unwatch?: () => void;
}

const quietLog: WorkerLog = { info: () => undefined, warn: () => undefined };

export class DemoWorker {
  private readonly held = new Map<number, HeldTask>();
  private readonly now: () => number;
  private readonly log: WorkerLog;
  private nextLeaseAt = 0;
  private leasing: Promise<void> | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private wakeUp: (() => void) | undefined;

  constructor(private readonly options: DemoWorkerOptions) {
    this.now = options.now ?? Date.now;
    this.log = options.log ?? quietLog;
  }

  /** The ids of the tasks held now. */
  get taskIds(): number[] {
    return [...this.held.keys()];
  }

  /** Ticks until stop(); resolves once the first lease call has been answered. */
  async start(): Promise<void> {
    await this.tick();
    this.running = this.loop();
  }

  /** Stops ticking and waits for calls in flight; leases held simply expire. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    await this.running;
    for (const task of this.held.values()) task.unwatch?.();
    this.held.clear();
  }

  /** Heartbeats that fall due, then a lease call if there is room and it is time. */
  async tick(): Promise<void> {
    const now = this.now();
    const due = [...this.held.values()].filter((task) => !task.busy && task.nextBeatAt <= now);
    const beats = due.map((task) => this.beat(task));
    if (this.held.size < this.options.maxTasks && now >= this.nextLeaseAt) {
      this.leasing ??= this.leaseMore(now).finally(() => (this.leasing = undefined));
      beats.push(this.leasing);
    }
    await Promise.all(beats);
  }

  /** A stop was heard for this task: heartbeat now rather than at the next interval. */
  stopHeard(taskId: number): void {
    const task = this.held.get(taskId);
    if (task === undefined) return;
    if (task.busy) {
      task.stopHeard = true;
      return;
    }
    task.nextBeatAt = 0;
    if (this.running) void this.tick();
  }

  /** What the task has reached at `now`: a steady pace from where its lease began. */
  private progressOf(task: HeldTask, now: number): Progress {
    const { totalSize, totalNum } = task.plan;
    const perMs = totalSize / (this.options.taskSeconds * 1000);
    const completeSize = Math.min(
      totalSize,
      // Rounded up, so that a lease resumed from a kept size still ends on time.
      task.doneAtLease + Math.ceil((now - task.leasedAt) * perMs),
    );
    return {
      total_size: totalSize,
      complete_size: completeSize,
      total_num: totalNum,
      successful_num: Math.floor((totalNum * completeSize) / totalSize),
      migrate_speed: completeSize < totalSize ? Math.round(perMs * 1000) : 0,
      left_time: Math.round((totalSize - completeSize) / (perMs * 1000)),
      is_query_over: true,
    };
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, TICK_MS);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (!this.stopped) await this.tick();
    }
  }

  private async leaseMore(now: number): Promise<void> {
    this.nextLeaseAt = now + this.options.pollIntervalMs;
    let leases: Lease[];
    try {
      leases = await this.options.client.lease(this.options.maxTasks - this.held.size);
    } catch (error) {
      this.log.warn('lease call failed; will ask again', { error: (error as Error).message });
      return;
    }
    for (const lease of leases) this.take(lease);
  }

  private take(lease: Lease): void {
    const now = this.now();
    const plan: DemoPlan = {
      // A task reported on before (by this demo or another worker) keeps its totals.
      totalSize:
        lease.task.total_size > 0 ? lease.task.total_size : demoPlan(lease.task_id).totalSize,
      totalNum: lease.task.total_num > 0 ? lease.task.total_num : demoPlan(lease.task_id).totalNum,
    };
    const task: HeldTask = {
      leaseId: lease.lease_id,
      taskId: lease.task_id,
      projectId: lease.project_id,
      intervalMs: lease.heartbeat_interval_ms,
      plan,
      doneAtLease: Math.min(lease.task.complete_size, plan.totalSize),
      leasedAt: now,
      nextBeatAt: now + lease.heartbeat_interval_ms,
      busy: false,
      stopHeard: false,
    };
    this.held.set(task.taskId, task);
    task.unwatch = this.options.stopSignals?.watch(task.projectId, task.taskId, () =>
      this.stopHeard(task.taskId),
    );
    // Never the lease itself: it holds the task's keys.
    this.log.info(`leased task ${task.taskId}`, {
      task_id: task.taskId,
      project_id: task.projectId,
      complete_size: task.doneAtLease,
      total_size: plan.totalSize,
    });
  }

  private async beat(task: HeldTask): Promise<void> {
    task.busy = true;
    const now = this.now();
    const progress = this.progressOf(task, now);
    try {
      const answer = await this.options.client.heartbeat(task.leaseId, progress);
      if (answer.command === 'pause') {
        await this.report(task, 'paused', progress);
      } else if (answer.command === 'abort') {
        this.drop(task, `aborted (${answer.reason ?? 'told to'})`);
      } else if (progress.complete_size === task.plan.totalSize) {
        await this.report(task, 'succeeded', progress);
      }
    } catch (error) {
      // Unanswered: try again at the next interval; if the lease expires
      // meanwhile, the heartbeat after says abort.
      this.log.warn(`heartbeat of task ${task.taskId} failed; will retry`, {
        task_id: task.taskId,
        error: (error as Error).message,
      });
    } finally {
      task.busy = false;
      task.nextBeatAt = task.stopHeard ? 0 : now + task.intervalMs;
      task.stopHeard = false;
    }
  }

  private async report(
    task: HeldTask,
    outcome: 'paused' | 'succeeded',
    progress: Progress,
  ): Promise<void> {
    try {
      const answer = await this.options.client.outcome(task.leaseId, { outcome, ...progress });
      this.drop(task, `${outcome} (status ${answer.status})`);
    } catch (error) {
      if (error instanceof WorkerCallFailed && error.status === 403) {
        // The lease is gone (expired and swept, or taken over): nothing to do.
        this.drop(task, 'lease lost');
      } else {
        // Refused for the task's status (stopped as it finished: the next
        // heartbeat says pause), or unanswered: the next heartbeat decides.
        this.log.warn(`outcome ${outcome} of task ${task.taskId} not taken; will heartbeat`, {
          task_id: task.taskId,
          error: (error as Error).message,
        });
      }
    }
  }

  private drop(task: HeldTask, why: string): void {
    task.unwatch?.();
    this.held.delete(task.taskId);
    this.log.info(`task ${task.taskId}: ${why}`, {
      task_id: task.taskId,
      project_id: task.projectId,
    });
  }
}
