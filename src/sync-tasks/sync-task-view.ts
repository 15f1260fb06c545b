// The sync-task object as OMS clients read it (SyncTaskInfo in lists,
// ShowSyncTaskResponse for one): flat, snake_case, times in Unix ms. Built
// field by field, never by spreading a row, so no secret can reach it.

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { SYNC_TASK_STATUSES, type SyncTaskStatus } from './sync-task-state.js';
import type { SyncTaskEntity } from './sync-task.entity.js';
import type { StatisticDataType } from './sync-task.bodies.js';

class SourceCdnView {
  @ApiProperty() domain: string;
  @ApiProperty() protocol: string;
  @ApiPropertyOptional() authentication_type?: string;
}

export class SyncTaskInfo {
  @ApiProperty() sync_task_id: string;
  @ApiProperty() src_cloud_type: string;
  @ApiProperty() src_region: string;
  @ApiProperty() src_bucket: string;
  @ApiProperty({ type: 'integer', format: 'int64', description: 'Unix ms' }) create_time: number;
  @ApiProperty({ type: 'integer', format: 'int64', description: 'Unix ms' })
  last_start_time: number;
  @ApiProperty() dst_bucket: string;
  @ApiProperty() dst_region: string;
  @ApiProperty() description: string;
  @ApiProperty({ enum: SYNC_TASK_STATUSES }) status: SyncTaskStatus;
  @ApiProperty() enable_kms: boolean;
  @ApiProperty() enable_metadata_migration: boolean;
  @ApiProperty() enable_restore: boolean;
  @ApiPropertyOptional() app_id?: string;
  @ApiPropertyOptional({ type: SourceCdnView }) source_cdn?: SourceCdnView;
  @ApiPropertyOptional() dst_storage_policy?: string;
  @ApiPropertyOptional() consistency_check?: string;
}

/** One sync task with the month's counters; zero here, for want of a data plane. */
export class SyncTaskObject extends SyncTaskInfo {
  @ApiProperty({ type: 'integer', format: 'int64' }) monthly_acceptance_request: number;
  @ApiProperty({ type: 'integer', format: 'int64' }) monthly_success_object: number;
  @ApiProperty({ type: 'integer', format: 'int64' }) monthly_failure_object: number;
  @ApiProperty({ type: 'integer', format: 'int64' }) monthly_skip_object: number;
  @ApiProperty({ type: 'integer', format: 'int64', description: 'Bytes' }) monthly_size: number;
}

export class SyncTaskList {
  @ApiProperty({ type: [SyncTaskInfo] }) tasks: SyncTaskInfo[];
  @ApiProperty({ type: 'integer' }) count: number;
}

export class CreatedSyncTask {
  @ApiProperty() sync_task_id: string;
}

class StatisticPoint {
  @ApiProperty({ type: 'integer', format: 'int64', description: 'Unix ms' }) time_stamp: number;
  @ApiProperty({ type: 'integer', format: 'int64' }) statistic_num: number;
}

class StatisticTypeData {
  @ApiProperty() data_type: StatisticDataType;
  @ApiProperty({ type: [StatisticPoint] }) data: StatisticPoint[];
}

export class SyncTaskStatistics {
  @ApiProperty() sync_task_id: string;
  @ApiProperty({ enum: ['FIVE_MINUTES', 'ONE_HOUR'] }) statistic_time_type:
    'FIVE_MINUTES' | 'ONE_HOUR';
  @ApiProperty({ type: [StatisticTypeData] }) statistic_datas: StatisticTypeData[];
}

export function toSyncTaskInfo(row: SyncTaskEntity): SyncTaskInfo {
  const o = row.options;
  return {
    sync_task_id: row.id,
    src_cloud_type: row.srcCloudType,
    src_region: row.srcRegion,
    src_bucket: row.srcBucket,
    create_time: row.createdAt.getTime(),
    last_start_time: row.lastStartTime.getTime(),
    dst_bucket: row.dstBucket,
    dst_region: row.dstRegion,
    description: row.description,
    status: row.status,
    enable_kms: o.enable_kms ?? false,
    enable_metadata_migration: o.enable_metadata_migration ?? false,
    enable_restore: o.enable_restore ?? false,
    ...(o.app_id !== undefined && { app_id: o.app_id }),
    ...(o.source_cdn && {
      source_cdn: {
        domain: o.source_cdn.domain,
        protocol: o.source_cdn.protocol,
        ...(o.source_cdn.authentication_type !== undefined && {
          authentication_type: o.source_cdn.authentication_type,
        }),
      },
    }),
    dst_storage_policy: o.dst_storage_policy ?? 'STANDARD',
    consistency_check: o.consistency_check ?? 'size_last_modified',
  };
}

export function toSyncTaskObject(row: SyncTaskEntity): SyncTaskObject {
  return {
    ...toSyncTaskInfo(row),
    monthly_acceptance_request: 0,
    monthly_success_object: 0,
    monthly_failure_object: 0,
    monthly_skip_object: 0,
    monthly_size: 0,
  };
}
