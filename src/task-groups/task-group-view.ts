// The group object as OMS clients read it (TaskGroupResp / ShowTaskGroupResponse
// in the official SDKs), built field by field: the sealed secrets are never
// part of it. The task counters and the object and byte figures are summed
// from the group's tasks; times are Unix milliseconds, migrate_since seconds.

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { BandwidthPeriodBody } from '../tasks/task.bodies.js';
import type { GroupCountersRow } from './task-group.sql.js';
import { GROUP_TASK_TYPES, type GroupTaskType, type TaskGroupEntity } from './task-group.entity.js';

class GroupListFileView {
  @ApiProperty() list_file_key: string;
  @ApiProperty() obs_bucket: string;
  @ApiPropertyOptional() list_file_num?: string;
}

class GroupSourceNodeView {
  @ApiPropertyOptional() bucket?: string;
  @ApiProperty() cloud_type: string;
  @ApiPropertyOptional() region?: string;
  @ApiPropertyOptional() app_id?: string;
  @ApiPropertyOptional({ type: [String] }) object_key?: string[];
  @ApiPropertyOptional({ type: GroupListFileView }) list_file?: GroupListFileView;
}

class GroupDestinationNodeView {
  @ApiProperty() bucket: string;
  @ApiProperty() region: string;
  @ApiPropertyOptional() save_prefix?: string;
}

/** SmnInfo, as the group object carries it (under smn_config). */
class GroupSmnInfoView {
  @ApiPropertyOptional({
    description: 'Whether the last notification was sent; absent until one is.',
  })
  notify_result?: boolean;
  @ApiPropertyOptional() notify_error_message?: string;
  @ApiProperty({ description: 'The name of the topic smn_config.topic_urn names.' })
  topic_name: string;
}

/** SourceCdnResp: the CDN without its key. */
class GroupSourceCdnView {
  @ApiProperty() domain: string;
  @ApiProperty({ enum: ['http', 'https'] }) protocol: string;
  @ApiPropertyOptional() authentication_type?: string;
}

class GroupErrorReasonView {
  @ApiProperty() error_code: string;
  @ApiProperty() error_msg: string;
}

const int64 = { type: 'integer', format: 'int64' } as const;

export class TaskGroupObject {
  @ApiProperty({ format: 'uuid' }) group_id: string;
  @ApiProperty({
    enum: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    description:
      '0 waiting, 1 creating tasks, 2 monitoring, 3 paused, 4 task creation failed, ' +
      '5 migration failed, 6 completed, 7 pausing, 8 waiting for deletion, 9 deleting',
  })
  status: number;
  @ApiProperty({ type: GroupErrorReasonView, nullable: true })
  error_reason: GroupErrorReasonView | null;
  @ApiProperty({ type: GroupSourceNodeView }) src_node: GroupSourceNodeView;
  @ApiProperty() description: string;
  @ApiProperty({ type: GroupDestinationNodeView }) dst_node: GroupDestinationNodeView;
  @ApiProperty() enable_kms: boolean;
  @ApiProperty() enable_metadata_migration: boolean;
  @ApiProperty() enable_failed_object_recording: boolean;
  @ApiProperty() enable_restore: boolean;
  @ApiProperty() enable_requester_pays: boolean;
  @ApiProperty({ enum: GROUP_TASK_TYPES }) task_type: GroupTaskType;
  @ApiProperty({ type: [BandwidthPeriodBody] }) bandwidth_policy: BandwidthPeriodBody[];
  @ApiPropertyOptional({ type: GroupSmnInfoView }) smn_config?: GroupSmnInfoView;
  @ApiPropertyOptional({ type: GroupSourceCdnView }) source_cdn?: GroupSourceCdnView;
  @ApiProperty({ ...int64, description: 'Unix seconds; 0 when not set' }) migrate_since: number;
  @ApiPropertyOptional() object_overwrite_mode?: string;
  @ApiPropertyOptional() dst_storage_policy?: string;
  @ApiPropertyOptional() consistency_check?: string;
  @ApiProperty({ ...int64, description: 'bytes/s' }) migrate_speed: number;
  @ApiProperty({ ...int64, description: 'ms' }) total_time: number;
  @ApiProperty({ ...int64, description: 'Unix ms; 0 until a task is admitted' })
  start_time: number;
  @ApiProperty(int64) total_task_num: number;
  @ApiProperty(int64) create_task_num: number;
  @ApiProperty(int64) failed_task_num: number;
  @ApiProperty(int64) complete_task_num: number;
  @ApiProperty(int64) paused_task_num: number;
  @ApiProperty(int64) executing_task_num: number;
  @ApiProperty(int64) waiting_task_num: number;
  @ApiProperty(int64) total_num: number;
  @ApiProperty(int64) create_complete_num: number;
  @ApiProperty(int64) success_num: number;
  @ApiProperty(int64) fail_num: number;
  @ApiProperty(int64) skip_num: number;
  @ApiProperty(int64) total_size: number;
  @ApiProperty(int64) create_complete_size: number;
  @ApiProperty(int64) complete_size: number;
}

export class TaskGroupList {
  @ApiProperty({ type: [TaskGroupObject] }) taskgroups: TaskGroupObject[];
  @ApiProperty(int64) count: number;
}

export class CreatedTaskGroup {
  @ApiProperty({ format: 'uuid' }) group_id: string;
}

const NO_COUNTERS: Omit<GroupCountersRow, 'group_id'> = {
  total_task_num: '0',
  waiting_task_num: '0',
  executing_task_num: '0',
  paused_task_num: '0',
  failed_task_num: '0',
  complete_task_num: '0',
  total_num: '0',
  success_num: '0',
  fail_num: '0',
  skip_num: '0',
  total_size: '0',
  complete_size: '0',
  migrate_speed: '0',
  start_time: null,
  total_time: '0',
};

export function toTaskGroupObject(
  group: TaskGroupEntity,
  counters: Omit<GroupCountersRow, 'group_id'> = NO_COUNTERS,
): TaskGroupObject {
  const source = group.srcNode as GroupSourceNodeView;
  const { smn_config: smn, source_cdn: cdn, ...flags } = group.options;
  const options = flags as Record<string, string | boolean | undefined>;
  const n = (value: string | null) => Number(value ?? 0);
  return {
    group_id: group.id,
    status: group.status,
    error_reason: group.errorReason,
    src_node: {
      cloud_type: source.cloud_type,
      ...(source.bucket !== undefined && { bucket: source.bucket }),
      ...(source.region !== undefined && { region: source.region }),
      ...(source.app_id !== undefined && { app_id: source.app_id }),
      ...(source.object_key !== undefined && { object_key: source.object_key }),
      ...(source.list_file !== undefined && { list_file: source.list_file }),
    },
    description: group.description,
    dst_node: {
      bucket: group.dstNode.bucket,
      region: group.dstNode.region,
      ...(group.dstNode.save_prefix !== undefined && { save_prefix: group.dstNode.save_prefix }),
    },
    enable_kms: options.enable_kms === true,
    enable_metadata_migration: options.enable_metadata_migration === true,
    enable_failed_object_recording: options.enable_failed_object_recording === true,
    enable_restore: options.enable_restore === true,
    enable_requester_pays: options.enable_requester_pays === true,
    task_type: group.taskType,
    bandwidth_policy: group.bandwidthPolicy,
    // SmnInfo: no notification has been sent yet (a relay would record its outcome).
    ...(smn && { smn_config: { topic_name: smn.topic_urn.split(':').at(-1)! } }),
    ...(cdn && {
      source_cdn: {
        domain: cdn.domain,
        protocol: cdn.protocol,
        ...(cdn.authentication_type !== undefined && {
          authentication_type: cdn.authentication_type,
        }),
      },
    }),
    migrate_since: group.migrateSince ? Math.floor(group.migrateSince.getTime() / 1000) : 0,
    ...(typeof options.object_overwrite_mode === 'string' && {
      object_overwrite_mode: options.object_overwrite_mode,
    }),
    ...(typeof options.dst_storage_policy === 'string' && {
      dst_storage_policy: options.dst_storage_policy,
    }),
    ...(typeof options.consistency_check === 'string' && {
      consistency_check: options.consistency_check,
    }),
    migrate_speed: n(counters.migrate_speed),
    total_time: n(counters.total_time),
    start_time: counters.start_time ? new Date(counters.start_time).getTime() : 0,
    total_task_num: n(counters.total_task_num),
    // Create makes every task in the group's own transaction: all are created.
    create_task_num: n(counters.total_task_num),
    failed_task_num: n(counters.failed_task_num),
    complete_task_num: n(counters.complete_task_num),
    paused_task_num: n(counters.paused_task_num),
    executing_task_num: n(counters.executing_task_num),
    waiting_task_num: n(counters.waiting_task_num),
    total_num: n(counters.total_num),
    create_complete_num: n(counters.total_num),
    success_num: n(counters.success_num),
    fail_num: n(counters.fail_num),
    skip_num: n(counters.skip_num),
    total_size: n(counters.total_size),
    create_complete_size: n(counters.total_size),
    complete_size: n(counters.complete_size),
  };
}
