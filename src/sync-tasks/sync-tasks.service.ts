// The sync-task life cycle behind the controller. Create writes the row and
// its audit row (null → SYNCHRONIZING) in one statement; stop, start and
// delete are SYNC_TASK_ACTIONS moves through SyncTaskTransitions. All of
// them run through auditedWrite, as does recording events. Create counts
// against MAX_SYNC_TASKS_PER_PROJECT under the project's SYNC_TASK_QUOTA
// lock, as a task create does against its quota. Secrets are sealed with the
// task secrets' cipher before they reach the database and never leave it.

import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { DataSource, type FindOptionsWhere } from 'typeorm';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { InvalidParameter, SyncTaskNotFound, TaskQuotaExceeded } from '../common/oms-errors.js';
import { LOCK_PROJECT } from '../database/advisory-locks.js';
import { execute } from '../database/statement.js';
import { auditedWrite, inTransaction } from '../tasks/audited-write.js';
import { TaskSecretsCipher, type TaskSecrets } from '../tasks/task-secrets.js';
import type { MoveCaller } from '../tasks/task-transitions.js';
import { SYNC_INITIAL_STATUS } from './sync-task-state.js';
import { SyncTaskTransitions } from './sync-task-transitions.js';
import {
  STATISTIC_DATA_TYPES,
  type CreateSyncTaskBody,
  type ListSyncTasksQuery,
  type StartSyncTaskBody,
  type StatisticDataType,
  type SyncTaskStatisticsQuery,
} from './sync-task.bodies.js';
import { SyncTaskEntity, type SyncTaskOptions } from './sync-task.entity.js';
import {
  AWAIT_SYNC_TASK_WRITES,
  COUNT_SYNC_TASKS,
  CREATE_SYNC_TASK,
  RECORD_SYNC_EVENTS,
  SYNC_EVENTS_RECORDED,
  SYNC_TASK_CREATED,
} from './sync-task.sql.js';
import {
  SYNC_TRANSITION_OBSERVER,
  type SyncTransitionObserver,
} from './sync-transition-observer.js';
import {
  toSyncTaskInfo,
  toSyncTaskObject,
  type CreatedSyncTask,
  type SyncTaskList,
  type SyncTaskObject,
  type SyncTaskStatistics,
} from './sync-task-view.js';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
/** Up to a day in five-minute points, longer ranges in hours (ours: at most 31 days). */
const MAX_STATISTICS_RANGE_MS = 31 * DAY_MS;

@Injectable()
export class SyncTasksService {
  constructor(
    private readonly db: DataSource,
    private readonly transitions: SyncTaskTransitions,
    private readonly cipher: TaskSecretsCipher,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional()
    @Inject(SYNC_TRANSITION_OBSERVER)
    private readonly observer?: SyncTransitionObserver,
  ) {}

  async create(
    projectId: string,
    body: CreateSyncTaskBody,
    caller: MoveCaller,
    requestId: string,
  ): Promise<CreatedSyncTask> {
    const id = randomUUID();
    const secrets: TaskSecrets = {
      src_ak: body.src_ak,
      src_sk: body.src_sk,
      dst_ak: body.dst_ak,
      dst_sk: body.dst_sk,
      source_cdn_authentication_key: body.source_cdn?.authentication_key,
    };
    const options: SyncTaskOptions = {
      enable_kms: body.enable_kms,
      enable_metadata_migration: body.enable_metadata_migration,
      enable_restore: body.enable_restore,
      dst_storage_policy: body.dst_storage_policy,
      app_id: body.app_id,
      consistency_check: body.consistency_check,
      src_crypto_type: body.src_crypto_type,
      src_kms_key_id: body.src_kms_key_id,
      dst_crypto_type: body.dst_crypto_type,
      dst_kms_key_id: body.dst_kms_key_id,
      ...(body.source_cdn && {
        source_cdn: {
          domain: body.source_cdn.domain,
          protocol: body.source_cdn.protocol,
          authentication_type: body.source_cdn.authentication_type,
        },
      }),
    };
    const quotaLock = { lock: 'SYNC_TASK_QUOTA', projectId } as const;
    const max = this.config.maxSyncTasksPerProject;
    await auditedWrite(this.db, {
      run: (connection) =>
        inTransaction(connection, async () => {
          await connection.query(LOCK_PROJECT, quotaLock);
          const [{ count }] = await connection.query(COUNT_SYNC_TASKS, { projectId });
          if (count >= max) {
            throw new TaskQuotaExceeded(
              `the project holds ${count} sync tasks and may hold ${max}; delete some first`,
            );
          }
          return connection.query(CREATE_SYNC_TASK, {
            id,
            projectId,
            status: SYNC_INITIAL_STATUS,
            srcCloudType: body.src_cloud_type ?? 'Aliyun',
            srcRegion: body.src_region,
            srcBucket: body.src_bucket,
            dstRegion: body.dst_region,
            dstBucket: body.dst_bucket,
            description: body.description ?? '',
            options,
            secrets: this.cipher.seal(secrets, projectId, id),
            userId: caller.userId,
            requestId,
          });
        }),
      findCommitted: async (tx) => {
        // Held by the create until it ended, committed or not.
        await execute(tx, LOCK_PROJECT, quotaLock);
        const found = await execute(tx, SYNC_TASK_CREATED, { syncTaskId: id, requestId });
        return found.length === 1 ? [] : undefined;
      },
    });
    this.observer?.syncTransitioned(null, SYNC_INITIAL_STATUS);
    return { sync_task_id: id };
  }

  async list(projectId: string, query: ListSyncTasksQuery): Promise<SyncTaskList> {
    const where: FindOptionsWhere<SyncTaskEntity> = { projectId };
    if (query.status !== undefined) where.status = query.status;
    const [rows, count] = await this.db.getRepository(SyncTaskEntity).findAndCount({
      where,
      // Oldest first, as tasks are listed: a sync task created while a
      // client pages lands on the last page.
      order: { createdAt: 'ASC', id: 'ASC' },
      skip: Number(query.offset ?? 0),
      take: Number(query.limit ?? 10),
    });
    return { tasks: rows.map(toSyncTaskInfo), count };
  }

  /** The sync task with the month of `query_time`'s counters (validated by the query class). */
  async show(projectId: string, syncTaskId: string): Promise<SyncTaskObject> {
    return toSyncTaskObject(await this.find(projectId, syncTaskId));
  }

  async stop(projectId: string, syncTaskId: string, caller: MoveCaller, requestId: string) {
    await this.transitions.apply('stop', projectId, syncTaskId, caller, requestId);
  }

  async start(
    projectId: string,
    syncTaskId: string,
    body: StartSyncTaskBody,
    caller: MoveCaller,
    requestId: string,
  ): Promise<void> {
    const secrets: TaskSecrets = {
      src_ak: body.src_ak,
      src_sk: body.src_sk,
      dst_ak: body.dst_ak,
      dst_sk: body.dst_sk,
      source_cdn_authentication_key: body.source_cdn_authentication_key,
    };
    await this.transitions.apply(
      'start',
      projectId,
      syncTaskId,
      caller,
      requestId,
      this.cipher.seal(secrets, projectId, syncTaskId),
    );
  }

  async delete(projectId: string, syncTaskId: string, caller: MoveCaller, requestId: string) {
    await this.transitions.apply('delete', projectId, syncTaskId, caller, requestId);
  }

  /** Zero for every point of the range: there is no data plane to count anything. */
  async statistics(
    projectId: string,
    syncTaskId: string,
    query: SyncTaskStatisticsQuery,
  ): Promise<SyncTaskStatistics> {
    const start = Number(query.start_time);
    const end = Number(query.end_time);
    if (end < start) throw new InvalidParameter('end_time must not be before start_time.');
    if (end - start > MAX_STATISTICS_RANGE_MS) {
      throw new InvalidParameter('start_time to end_time must be at most 31 days.');
    }
    await this.find(projectId, syncTaskId);
    const types = [...new Set(query.data_type.split(','))] as StatisticDataType[];
    const fiveMinutes = end - start <= DAY_MS;
    const step = fiveMinutes ? 5 * MINUTE_MS : 60 * MINUTE_MS;
    const points: number[] = [];
    for (let t = Math.ceil(start / step) * step; t <= end; t += step) points.push(t);
    return {
      sync_task_id: syncTaskId,
      statistic_time_type: fiveMinutes ? 'FIVE_MINUTES' : 'ONE_HOUR',
      statistic_datas: STATISTIC_DATA_TYPES.filter((type) => types.includes(type)).map(
        (data_type) => ({
          data_type,
          data: points.map((time_stamp) => ({ time_stamp, statistic_num: 0 })),
        }),
      ),
    };
  }

  /** Records the keys for a data plane to synchronize. */
  async recordEvents(
    projectId: string,
    syncTaskId: string,
    objectKeys: string[],
    requestId: string,
  ): Promise<void> {
    const key = { syncTaskId, projectId };
    const recorded = await auditedWrite(this.db, {
      run: async (connection) =>
        (await connection.query(RECORD_SYNC_EVENTS, { ...key, objectKeys, requestId })).length,
      findCommitted: async (tx) => {
        // The insert holds the sync task's row (FOR SHARE) until it ends.
        await execute(tx, AWAIT_SYNC_TASK_WRITES, key);
        const [{ count }] = await execute(tx, SYNC_EVENTS_RECORDED, { ...key, requestId });
        return count > 0 ? count : undefined;
      },
    });
    if (recorded === 0) throw new SyncTaskNotFound();
  }

  private async find(projectId: string, syncTaskId: string): Promise<SyncTaskEntity> {
    const row = await this.db
      .getRepository(SyncTaskEntity)
      .findOne({ where: { id: syncTaskId, projectId } });
    if (!row) throw new SyncTaskNotFound();
    return row;
  }
}
