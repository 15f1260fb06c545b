// The sync-task tables: the sync tasks, their audit trail and the events
// (object keys) a client asked to have synchronized. This service has no
// data plane; the events wait in their table for one to pick them up, and
// the monthly counters and statistics are zero.
//
// The audit trail is a table of its own rather than task_transitions: a
// sync task's id is a string (a UUID) and its statuses are strings, where
// task_transitions holds bigint ids and smallint statuses; sharing it would
// have changed the task table's types and every task statement's casts.

import { Check, Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import type { SyncAuditAction, SyncTaskStatus } from './sync-task-state.js';

/** The switches a create body sets; shown back as they were given. */
export interface SyncTaskOptions {
  enable_kms?: boolean;
  enable_metadata_migration?: boolean;
  enable_restore?: boolean;
  dst_storage_policy?: string;
  app_id?: string;
  consistency_check?: string;
  src_crypto_type?: string;
  src_kms_key_id?: string;
  dst_crypto_type?: string;
  dst_kms_key_id?: string;
  /** The CDN in front of the source, without its authentication key (a secret). */
  source_cdn?: { domain: string; protocol: string; authentication_type?: string };
}

@Entity('sync_tasks')
@Check('CHK_sync_tasks_status', `"status" IN ('SYNCHRONIZING', 'STOPPED')`)
@Index('IDX_sync_tasks_project_created', ['projectId', 'createdAt', 'id'])
export class SyncTaskEntity {
  /** A UUID issued by create. */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id: string;

  @Column({ name: 'project_id', type: 'varchar', length: 1024 })
  projectId: string;

  @Column({ type: 'varchar', length: 16 })
  status: SyncTaskStatus;

  @Column({ name: 'src_cloud_type', type: 'varchar', length: 32 })
  srcCloudType: string;

  @Column({ name: 'src_region', type: 'varchar', length: 100 })
  srcRegion: string;

  @Column({ name: 'src_bucket', type: 'varchar', length: 1024 })
  srcBucket: string;

  @Column({ name: 'dst_region', type: 'varchar', length: 100 })
  dstRegion: string;

  @Column({ name: 'dst_bucket', type: 'varchar', length: 1024 })
  dstBucket: string;

  @Column({ type: 'varchar', length: 255, default: '' })
  description: string;

  @Column({ type: 'jsonb', default: {} })
  options: SyncTaskOptions;

  /**
   * Keys, secret keys (connection strings, JSON key files) and the CDN key,
   * sealed by TaskSecretsCipher. Not loaded unless asked for by name.
   */
  @Column({ type: 'bytea', select: false })
  secrets: Buffer;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'last_start_time', type: 'timestamptz', default: () => 'now()' })
  lastStartTime: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}

/** One row per change of a sync task (creation or move), in the change's transaction. */
@Entity('sync_task_transitions')
@Index('IDX_sync_task_transitions_task', ['syncTaskId'])
export class SyncTaskTransitionEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id: string;

  @Column({ name: 'sync_task_id', type: 'varchar', length: 64 })
  syncTaskId: string;

  @Column({ name: 'project_id', type: 'varchar', length: 1024 })
  projectId: string;

  /** "create" or a SYNC_TASK_ACTIONS name. */
  @Column({ type: 'varchar', length: 16 })
  action: SyncAuditAction;

  /** NULL for the row that records the creation. */
  @Column({ name: 'from_status', type: 'varchar', length: 16, nullable: true })
  fromStatus: SyncTaskStatus | null;

  /** NULL for the row that records the deletion. */
  @Column({ name: 'to_status', type: 'varchar', length: 16, nullable: true })
  toStatus: SyncTaskStatus | null;

  @Column({ name: 'user_id', type: 'varchar', length: 255 })
  userId: string;

  @Column({ name: 'request_id', type: 'varchar', length: 128 })
  requestId: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}

/** An object key a client asked to have synchronized, waiting for a data plane. */
@Entity('sync_task_events')
@Index('IDX_sync_task_events_task', ['syncTaskId', 'id'])
export class SyncTaskEventEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id: string;

  @Column({ name: 'sync_task_id', type: 'varchar', length: 64 })
  syncTaskId: string;

  @Column({ name: 'project_id', type: 'varchar', length: 1024 })
  projectId: string;

  /** URL-encoded, as the client sent it. */
  @Column({ name: 'object_key', type: 'varchar', length: 4096 })
  objectKey: string;

  @Column({ name: 'request_id', type: 'varchar', length: 128 })
  requestId: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}
