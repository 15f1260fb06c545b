// The `tasks` table. Operators may insert rows by hand with only id,
// project_id, name and status: every other column has a default.
//
// It holds only what a stop rewrites, what its indexes cover and what
// operators insert; the rest of a task (its source and destination, policy,
// options, sealed keys, error and the data plane's figures) is its row in
// `task_details`, which has no entity: it is read and written only by the
// statements in task.sql.ts, worker.sql.ts, task-group.sql.ts and
// events.sql.ts (migrations/…-narrow-tasks.ts says why).

import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { TaskStatus } from './task-state.js';

/** Task ids must survive int64 SDKs and Terraform's float64: at most 15 digits. */
export const MAX_TASK_ID = 999_999_999_999_999;

export const TASK_TYPES = ['list', 'object', 'prefix', 'url_list'] as const;
export type TaskType = (typeof TASK_TYPES)[number];

/** Stored as a number so the scheduler can order by it; higher goes first. */
export const TASK_PRIORITIES = { LOW: 1, MEDIUM: 2, HIGH: 3 } as const;
export type TaskPriorityName = keyof typeof TASK_PRIORITIES;

export interface SourceNode {
  cloud_type: string;
  region: string;
  bucket: string;
  app_id?: string;
  object_key?: string[];
  list_file?: { list_file_key: string; obs_bucket: string };
}

export interface DestinationNode {
  region: string;
  bucket: string;
  save_prefix?: string;
}

export interface BandwidthPeriod {
  start: string;
  end: string;
  max_bandwidth: number;
}

/** When a task's notification is sent (the official SDKs' SmnConfig). */
export const SMN_TRIGGER_CONDITIONS = ['SUCCESS', 'FAILURE'] as const;
export type SmnTriggerCondition = (typeof SMN_TRIGGER_CONDITIONS)[number];

/** The language of a notification's text. */
export const SMN_LANGUAGES = ['zh-cn', 'en-us'] as const;
export type SmnLanguage = (typeof SMN_LANGUAGES)[number];

/**
 * Where and when a task that succeeds or fails is announced, as create took
 * it. The events relay reads exactly this shape from options.smn_config.
 */
export interface SmnConfig {
  topic_urn: string;
  trigger_conditions: SmnTriggerCondition[];
  language: SmnLanguage;
}

/** What the events relay records in options.smn_result once it has published. */
export interface SmnResult {
  notified: boolean;
  error: string | null;
}

/** The switches a create (or start) body sets; shown back as they were given. */
export interface TaskOptions {
  enable_kms?: boolean;
  enable_restore?: boolean;
  enable_metadata_migration?: boolean;
  enable_failed_object_recording?: boolean;
  enable_requester_pays?: boolean;
  object_overwrite_mode?: string;
  dst_storage_policy?: string;
  consistency_check?: string;
  migrate_failed_object?: boolean;
  smn_config?: SmnConfig;
  smn_result?: SmnResult;
}

@Entity('tasks')
// `status`, `task_priority` and `queue` are of domains that carry their
// checks, so that a write is checked only for the columns it writes, and the
// id range is checked on task_details.task_id, which every task has
// (migrations/…-stop-takes-no-row-lock.ts); TypeORM sees the base types.
// No index covers `status`, so that a stop is a HOT update; the queues are
// indexed through `queue`, which a stop does not write (migrations/…-hot-stop.ts).
@Index('IDX_tasks_waiting', ['projectId', 'priority', 'createdAt', 'id'], { where: 'queue = 1' })
@Index('IDX_tasks_running', ['projectId'], { where: 'queue = 2' })
@Index('IDX_tasks_project_id', ['projectId', 'id'])
@Index('IDX_tasks_group', ['groupId'])
// A worker's lease looks for running tasks, oldest admission first.
@Index('IDX_tasks_leasable', ['startTime', 'id'], { where: 'queue = 2' })
export class TaskEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'BY DEFAULT' })
  id: string;

  @Column({ name: 'project_id', type: 'varchar', length: 1024 })
  projectId: string;

  @Column({ type: 'varchar', length: 255 })
  name: string;

  @Column({ type: 'smallint' })
  status: TaskStatus;

  /**
   * The queue the task was last put in (1 waiting, 2 running), kept by a
   * trigger from `status`; a hint for the queue indexes, stale after a
   * pause. Written by the database only, so never loaded.
   */
  @Column({ type: 'smallint', nullable: true, select: false, insert: false, update: false })
  queue: 1 | 2 | null;

  @Column({ name: 'group_id', type: 'varchar', length: 100, nullable: true })
  groupId: string | null;

  @Column({ name: 'task_priority', type: 'smallint', default: TASK_PRIORITIES.MEDIUM })
  priority: number;

  @Column({ name: 'start_time', type: 'timestamptz', nullable: true })
  startTime: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;

  /**
   * When the task's lease in `task_leases` expires (NULL without one), so
   * that a stop can tell pausing from paused without a second look: a
   * mirror kept by a trigger on `task_leases` (migrations/…-tasks-know-
   * their-lease.ts), written by the database only, so never loaded.
   */
  @Column({
    name: 'lease_expires_at',
    type: 'timestamptz',
    nullable: true,
    select: false,
    insert: false,
    update: false,
  })
  leaseExpiresAt: Date | null;
}
