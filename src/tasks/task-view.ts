// The task object as OMS clients read it: flat, snake_case, ids and sizes as
// JSON numbers, times in Unix milliseconds but migrate_since, in Unix seconds
// as create takes it (Terraform reads it back as seconds and the attribute
// forces a new resource: in any other unit every apply replaces the task).
// Secrets are not part of it and cannot become part of it: the view is built
// field by field, never by spreading a row.

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  TASK_PRIORITIES,
  TASK_TYPES,
  type BandwidthPeriod,
  type SmnConfig,
  type SmnResult,
  type TaskPriorityName,
  type TaskType,
} from './task.entity.js';
import { BandwidthPeriodBody } from './task.bodies.js';
import type { AuditAction } from './task-state.js';
import type { TrailPageRow } from './task-trail.sql.js';
import type { TaskRow } from './task.sql.js';

const PRIORITY_NAMES = Object.fromEntries(
  Object.entries(TASK_PRIORITIES).map(([name, rank]) => [rank, name]),
) as Record<number, TaskPriorityName>;

class SourceNodeView {
  @ApiProperty() bucket: string;
  @ApiProperty() cloud_type: string;
  @ApiProperty() region: string;
  @ApiPropertyOptional() app_id?: string;
  @ApiPropertyOptional({ type: [String] }) object_key?: string[];
}

class DestinationNodeView {
  @ApiProperty() bucket: string;
  @ApiProperty() region: string;
  @ApiPropertyOptional() save_prefix?: string;
}

class ErrorReasonView {
  @ApiProperty() error_code: string;
  @ApiProperty() error_msg: string;
}

/** The official SDKs' SmnInfo: how the task's notification went. */
class SmnInfoView {
  @ApiProperty({ description: 'Whether the notification was published.' })
  notify_result: boolean;
  @ApiProperty({ type: String, nullable: true, description: 'Why publishing it failed.' })
  notify_error_message: string | null;
  @ApiProperty({ description: "The topic's name, from its URN." }) topic_name: string;
}

export class TaskObject {
  @ApiProperty({ type: 'integer', format: 'int64', maximum: 999_999_999_999_999 }) id: number;
  @ApiProperty() name: string;
  @ApiProperty() description: string;
  @ApiProperty({
    enum: [1, 2, 3, 4, 5, 6, 7],
    description: '1 waiting, 2 migrating, 3 paused, 4 failed, 5 succeeded, 6 retrying, 7 pausing',
  })
  status: number;
  @ApiProperty({ description: '0.522 is 52.2 %' }) progress: number;
  @ApiProperty({ enum: TASK_TYPES }) task_type: TaskType;
  @ApiProperty({ nullable: true, type: String }) group_id: string | null;
  @ApiProperty({ example: 'NORMAL_TASK' }) group_type: string;
  @ApiProperty({ type: SourceNodeView }) src_node: SourceNodeView;
  @ApiProperty({ type: DestinationNodeView }) dst_node: DestinationNodeView;
  @ApiProperty({ type: 'integer', format: 'int64' }) complete_size: number;
  @ApiProperty({ type: 'integer', format: 'int64' }) total_size: number;
  @ApiProperty({ type: 'integer', format: 'int64' }) real_size: number;
  @ApiProperty({ type: 'integer', format: 'int64', description: 'bytes/s' }) migrate_speed: number;
  @ApiProperty({ type: 'integer', format: 'int64', description: 'Unix ms; 0 until admitted' })
  start_time: number;
  @ApiProperty({ type: 'integer', format: 'int64', description: 'ms' }) left_time: number;
  @ApiProperty({ type: 'integer', format: 'int64', description: 'ms' }) total_time: number;
  @ApiProperty({ type: 'integer', format: 'int64', description: 'Unix seconds; 0 when unset' })
  migrate_since: number;
  @ApiProperty({ type: 'integer', format: 'int64' }) total_num: number;
  @ApiProperty({ type: 'integer', format: 'int64' }) successful_num: number;
  @ApiProperty({ type: 'integer', format: 'int64' }) failed_num: number;
  @ApiProperty({ type: 'integer', format: 'int64' }) skipped_num: number;
  @ApiProperty() is_query_over: boolean;
  @ApiProperty({ type: ErrorReasonView, nullable: true }) error_reason: ErrorReasonView | null;
  @ApiProperty({ type: [BandwidthPeriodBody] }) bandwidth_policy: BandwidthPeriod[];
  @ApiProperty() enable_kms: boolean;
  @ApiProperty() enable_restore: boolean;
  @ApiProperty() enable_metadata_migration: boolean;
  @ApiProperty() enable_failed_object_recording: boolean;
  @ApiProperty() enable_requester_pays: boolean;
  @ApiProperty({ type: String, nullable: true }) object_overwrite_mode: string | null;
  @ApiProperty({ type: String, nullable: true }) dst_storage_policy: string | null;
  @ApiProperty({ type: String, nullable: true }) consistency_check: string | null;
  @ApiProperty({ enum: Object.keys(TASK_PRIORITIES) }) task_priority: TaskPriorityName;
  @ApiPropertyOptional({
    type: SmnInfoView,
    description: 'Only for a task created with smn_config.',
  })
  smn_info?: SmnInfoView;
}

export class TaskList {
  @ApiProperty({ type: [TaskObject] }) tasks: TaskObject[];
  @ApiProperty({ description: 'All tasks that match, not only this page.' }) count: number;
}

/** One audit row of a task, as GET .../transitions answers it. */
export class TaskTransitionView {
  @ApiProperty({ type: 'integer', format: 'int64', description: 'Grows with every change.' })
  id: number;
  @ApiProperty({ type: 'integer', format: 'int64', description: 'Unix ms' }) time: number;
  // No enum: the state table gains actions, and a generated client must not
  // refuse a trail for holding one it was not built with.
  @ApiProperty({
    example: 'stop',
    description:
      'create, a move of the state table (admit, stop, start, delete, group_stop, ...) or an edit (update_bandwidth, batch_update, batch_priority)',
  })
  action: AuditAction;
  @ApiProperty({ type: 'integer', nullable: true, description: 'null for a create' })
  from_status: number | null;
  @ApiProperty({ type: 'integer', nullable: true, description: 'null for a delete' })
  to_status: number | null;
  @ApiProperty({ description: 'The IAM user id of the caller, or "scheduler".' }) actor: string;
  @ApiProperty({ description: 'The X-Request-Id of the request that made the change.' })
  request_id: string;
}

export class TaskTrail {
  @ApiProperty({ type: [TaskTransitionView] }) transitions: TaskTransitionView[];
  @ApiProperty({ description: "All of the task's audit rows, not only this page." })
  count: number;
}

export class CreatedTask {
  @ApiProperty({ type: 'integer', format: 'int64', maximum: 999_999_999_999_999 }) id: number;
  @ApiProperty() task_name: string;
}

const ms = (date: Date | null) => (date ? date.getTime() : 0);
const seconds = (date: Date | null) => (date ? Math.floor(date.getTime() / 1000) : 0);

/**
 * A task's details row is there unless something outside the service
 * removed it; without one the task shows what a row of defaults would
 * (migrations/…-narrow-tasks.ts).
 */
export function toTaskObject(task: TaskRow): TaskObject {
  const src: Partial<TaskRow['srcNode'] & object> = task.srcNode ?? {};
  const dst: Partial<TaskRow['dstNode'] & object> = task.dstNode ?? {};
  const options = task.options ?? {};
  return {
    id: Number(task.id),
    name: task.name,
    description: task.description ?? '',
    status: task.status,
    progress: task.progress ?? 0,
    task_type: task.taskType ?? 'object',
    group_id: task.groupId,
    group_type: task.groupId === null ? 'NORMAL_TASK' : 'GROUP_TASK',
    src_node: {
      bucket: src.bucket ?? '',
      cloud_type: src.cloud_type ?? '',
      region: src.region ?? '',
      ...(src.app_id !== undefined && { app_id: src.app_id }),
      ...(src.object_key !== undefined && { object_key: src.object_key }),
    },
    dst_node: {
      bucket: dst.bucket ?? '',
      region: dst.region ?? '',
      ...(dst.save_prefix !== undefined && { save_prefix: dst.save_prefix }),
    },
    complete_size: Number(task.completeSize ?? 0),
    total_size: Number(task.totalSize ?? 0),
    real_size: Number(task.realSize ?? 0),
    migrate_speed: Number(task.migrateSpeed ?? 0),
    start_time: ms(task.startTime),
    left_time: Number(task.leftTime ?? 0),
    total_time: Number(task.totalTime ?? 0),
    migrate_since: seconds(task.migrateSince),
    total_num: Number(task.totalNum ?? 0),
    successful_num: Number(task.successfulNum ?? 0),
    failed_num: Number(task.failedNum ?? 0),
    skipped_num: Number(task.skippedNum ?? 0),
    is_query_over: task.isQueryOver ?? false,
    error_reason: task.errorReason,
    bandwidth_policy: task.bandwidthPolicy ?? [],
    enable_kms: options.enable_kms ?? false,
    enable_restore: options.enable_restore ?? false,
    enable_metadata_migration: options.enable_metadata_migration ?? false,
    enable_failed_object_recording: options.enable_failed_object_recording ?? false,
    enable_requester_pays: options.enable_requester_pays ?? false,
    object_overwrite_mode: options.object_overwrite_mode ?? null,
    dst_storage_policy: options.dst_storage_policy ?? null,
    consistency_check: options.consistency_check ?? null,
    task_priority: PRIORITY_NAMES[task.priority] ?? 'MEDIUM',
    ...(options.smn_config && { smn_info: toSmnInfo(options.smn_config, options.smn_result) }),
  };
}

/** Not notified until the events relay has recorded its result. */
function toSmnInfo(config: SmnConfig, result: SmnResult | undefined): SmnInfoView {
  return {
    notify_result: result?.notified ?? false,
    notify_error_message: result?.error ?? null,
    topic_name: config.topic_urn.slice(config.topic_urn.lastIndexOf(':') + 1),
  };
}

/** A row of TASK_TRAIL_PAGE that holds an audit row (not the empty page's one). */
export type TrailRow = TrailPageRow & {
  id: string;
  created_at: Date;
  action: AuditAction;
  user_id: string;
  request_id: string;
};

export function isTrailRow(row: TrailPageRow): row is TrailRow {
  return row.id !== null;
}

export function toTransitionView(row: TrailRow): TaskTransitionView {
  return {
    id: Number(row.id),
    time: row.created_at.getTime(),
    action: row.action,
    from_status: row.from_status,
    to_status: row.to_status,
    actor: row.user_id,
    request_id: row.request_id,
  };
}
