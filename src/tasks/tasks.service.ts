// The task life cycle behind the controller. Status changes all go through
// TaskTransitions (the state table's moves, atomic, audited). Creation
// writes its audit row (null → 1) in the same statement as the row, and a
// bandwidth update (an edit, TASK_EDITS) its own (status → same status).
// Every one of these writes runs through auditedWrite, so a lost answer is
// settled the same way for all. Whenever a change may give the scheduler
// work, it is woken.

import { Inject, Injectable, Optional } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import {
  InvalidParameter,
  TaskFinished,
  TaskNotFound,
  TaskQuotaExceeded,
} from '../common/oms-errors.js';
import { LOCK_PROJECT } from '../database/advisory-locks.js';
import { execute } from '../database/statement.js';
import { checkBandwidthPolicy, checkSourceForTaskType } from './task-body-rules.js';
import { TaskScheduler } from './task-scheduler.js';
import { pickTaskSecrets, TaskSecretsCipher, type TaskSecrets } from './task-secrets.js';
import { auditedWrite, findTaskWrite, inTransaction } from './audited-write.js';
import { INITIAL_STATUS, TASK_EDITS, TaskStatus } from './task-state.js';
import { TaskTransitions, type MoveCaller } from './task-transitions.js';
import { TRANSITION_OBSERVER, type TransitionObserver } from './transition-observer.js';
import {
  storedSmnConfig,
  type BandwidthPeriodBody,
  type CreateTaskBody,
  type StartTaskBody,
} from './task.bodies.js';
import {
  TASK_PRIORITIES,
  TaskEntity,
  type BandwidthPeriod,
  type SourceNode,
  type TaskOptions,
} from './task.entity.js';
import { pageOf, parseTaskId, type ListTasksQuery, type PageQuery } from './task.params.js';
import {
  isTrailRow,
  toTaskObject,
  toTransitionView,
  type CreatedTask,
  type TaskList,
  type TaskObject,
  type TaskTrail,
} from './task-view.js';
import {
  COUNT_TASKS,
  CREATE_TASK,
  NEXT_TASK_ID,
  SET_BANDWIDTH_POLICY,
  TASK_CREATED,
  TASK_LIST_COUNT,
  TASK_OF_PROJECT,
  TASK_PAGE,
  TASK_TYPE,
} from './task.sql.js';
import { TASK_TRAIL_PAGE } from './task-trail.sql.js';

/** PostgreSQL's "sequence reached its maximum value". */
const SEQUENCE_EXHAUSTED = '2200H';

/** How many ids create tries before giving up (only operators' ids collide). */
const MAX_ID_ATTEMPTS = 100;

@Injectable()
export class TasksService {
  constructor(
    private readonly db: DataSource,
    private readonly transitions: TaskTransitions,
    private readonly scheduler: TaskScheduler,
    private readonly cipher: TaskSecretsCipher,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() @Inject(TRANSITION_OBSERVER) private readonly observer?: TransitionObserver,
  ) {}

  async create(
    projectId: string,
    body: CreateTaskBody,
    caller: MoveCaller,
    requestId: string,
  ): Promise<CreatedTask> {
    const taskType = body.task_type ?? 'object';
    const source: SourceNode = {
      cloud_type: body.src_node.cloud_type,
      region: body.src_node.region,
      bucket: body.src_node.bucket,
      ...(body.src_node.app_id !== undefined && { app_id: body.src_node.app_id }),
      ...(body.src_node.object_key && { object_key: body.src_node.object_key }),
      ...(body.src_node.list_file && {
        list_file: {
          list_file_key: body.src_node.list_file.list_file_key,
          obs_bucket: body.src_node.list_file.obs_bucket,
        },
      }),
    };
    checkSourceForTaskType(taskType, source);
    const bandwidth = plainPeriods(body.bandwidth_policy ?? []);
    checkBandwidthPolicy(bandwidth);
    const secrets: TaskSecrets = {
      src_ak: body.src_node.ak,
      src_sk: body.src_node.sk,
      src_security_token: body.src_node.security_token,
      dst_ak: body.dst_node.ak,
      dst_sk: body.dst_node.sk,
      dst_security_token: body.dst_node.security_token,
    };
    const options: TaskOptions = {
      enable_kms: body.enable_kms,
      enable_restore: body.enable_restore,
      enable_metadata_migration: body.enable_metadata_migration,
      enable_failed_object_recording: body.enable_failed_object_recording,
      enable_requester_pays: body.enable_requester_pays,
      object_overwrite_mode: body.object_overwrite_mode,
      dst_storage_policy: body.dst_storage_policy,
      consistency_check: body.consistency_check,
      ...(body.smn_config && { smn_config: storedSmnConfig(body.smn_config) }),
    };

    const nameFor = (id: string) => taskName(source.bucket, body.dst_node.bucket, id);
    /** The id of the last insert tried: the one a lost COMMIT may have kept. */
    let tried: string | undefined;
    // The project's TASK_QUOTA lock serialises its creates, so the count
    // stays true until this one commits, on every replica (and ids of a
    // project grow in commit order, which listing relies on).
    const quotaLock = { lock: 'TASK_QUOTA', projectId } as const;
    const created = await auditedWrite(this.db, {
      run: (connection) =>
        inTransaction(connection, async () => {
          await connection.query(LOCK_PROJECT, quotaLock);
          const [{ count }] = await connection.query(COUNT_TASKS, { projectId });
          if (count >= this.config.maxTasksPerProject) {
            throw new TaskQuotaExceeded(
              `the project holds ${count} tasks and may hold ${this.config.maxTasksPerProject}; delete some first`,
            );
          }
          for (let attempt = 0; attempt < MAX_ID_ATTEMPTS; attempt++) {
            const id = await nextTaskId(() => connection.query(NEXT_TASK_ID));
            tried = id;
            const inserted = await connection.query(CREATE_TASK, {
              id,
              projectId,
              name: nameFor(id),
              status: INITIAL_STATUS,
              description: body.description ?? '',
              taskType,
              priority: TASK_PRIORITIES[body.task_priority ?? 'MEDIUM'],
              source,
              destination: {
                region: body.dst_node.region,
                bucket: body.dst_node.bucket,
                ...(body.dst_node.save_prefix !== undefined && {
                  save_prefix: body.dst_node.save_prefix,
                }),
              },
              bandwidth,
              options,
              secrets: this.cipher.seal(secrets, projectId, id),
              migrateSince: body.migrate_since ?? null,
              userId: caller.userId,
              requestId,
            });
            if (inserted.length === 1) return { id, name: nameFor(id) };
          }
          throw new Error(`create: ${MAX_ID_ATTEMPTS} task ids in a row were already taken`);
        }),
      findCommitted: async (tx) => {
        if (tried === undefined) return undefined;
        // Held by the create until it ended, committed or not.
        await execute(tx, LOCK_PROJECT, quotaLock);
        const found = await execute(tx, TASK_CREATED, {
          taskId: tried,
          requestId,
        });
        return found.length === 1 ? { id: tried, name: nameFor(tried) } : undefined;
      },
    });
    this.observer?.transitioned(null, INITIAL_STATUS);
    this.scheduler.wake(projectId);
    return { id: Number(created.id), task_name: created.name };
  }

  async show(projectId: string, taskId: string): Promise<TaskObject> {
    const [task] = await execute(this.db, TASK_OF_PROJECT, {
      taskId: parseTaskId(taskId),
      projectId,
    });
    if (!task) throw new TaskNotFound();
    return toTaskObject(task);
  }

  async list(projectId: string, query: ListTasksQuery): Promise<TaskList> {
    const filter = {
      projectId,
      status: query.status === undefined ? null : (Number(query.status) as TaskStatus),
      groupId: query.group_id ?? null,
    };
    const [tasks, [{ count }]] = await Promise.all([
      execute(this.db, TASK_PAGE, { ...filter, ...pageOf(query) }),
      execute(this.db, TASK_LIST_COUNT, filter),
    ]);
    return { tasks: tasks.map(toTaskObject), count };
  }

  /**
   * A page of the task's audit trail, from the audit rows alone: a deleted
   * task's stays readable. Not found only if the project has neither rows
   * nor the task (one an operator inserted has a trail of none).
   */
  async trail(projectId: string, taskId: string, query: PageQuery): Promise<TaskTrail> {
    const rows = await execute(this.db, TASK_TRAIL_PAGE, {
      taskId: parseTaskId(taskId),
      projectId,
      ...pageOf(query),
    });
    const [{ count, task_exists }] = rows;
    if (count === 0 && !task_exists) throw new TaskNotFound();
    return { transitions: rows.filter(isTrailRow).map(toTransitionView), count };
  }

  /** Pauses a migrating task (2 → 3). */
  async stop(
    projectId: string,
    taskId: string,
    caller: MoveCaller,
    requestId: string,
  ): Promise<void> {
    await this.transitions.apply('stop', projectId, parseTaskId(taskId), caller, requestId);
    this.scheduler.wake(projectId); // a slot is free
  }

  /** Starts a paused or failed task again (3 or 4 → 1) with fresh keys. */
  async start(
    projectId: string,
    taskIdText: string,
    body: StartTaskBody,
    caller: MoveCaller,
    requestId: string,
  ) {
    const taskId = parseTaskId(taskIdText);
    const [task] = await execute(this.db, TASK_TYPE, { taskId, projectId });
    if (!task) throw new TaskNotFound();
    const taskType = task.task_type ?? 'object';
    if (taskType !== 'url_list' && (body.src_ak === undefined || body.src_sk === undefined)) {
      throw new InvalidParameter(`src_ak and src_sk are required for task_type ${taskType}.`);
    }
    const secrets = pickTaskSecrets(body);
    await this.transitions.apply('start', projectId, taskId, caller, requestId, {
      secrets: this.cipher.seal(secrets, projectId, taskId),
      options: { migrate_failed_object: body.migrate_failed_object ?? false },
    });
    this.scheduler.wake(projectId);
  }

  /** Deletes a task that is not running. */
  async delete(
    projectId: string,
    taskId: string,
    caller: MoveCaller,
    requestId: string,
  ): Promise<void> {
    await this.transitions.apply('delete', projectId, parseTaskId(taskId), caller, requestId);
    this.scheduler.wake(projectId);
  }

  /** Replaces the bandwidth policy of a task that has not finished. */
  async setBandwidthPolicy(
    projectId: string,
    taskIdText: string,
    periods: BandwidthPeriodBody[],
    caller: MoveCaller,
    requestId: string,
  ): Promise<void> {
    const taskId = parseTaskId(taskIdText);
    const policy = plainPeriods(periods);
    checkBandwidthPolicy(policy);
    const action = 'update_bandwidth';
    const updated = await auditedWrite(this.db, {
      run: async (connection) =>
        (
          await connection.query(SET_BANDWIDTH_POLICY, {
            taskId,
            projectId,
            policy,
            in: TASK_EDITS[action].in,
            userId: caller.userId,
            requestId,
          })
        ).length === 1,
      findCommitted: async (tx) => {
        const found = await findTaskWrite(tx, {
          taskId,
          projectId,
          action,
          requestId,
        });
        return found ? true : undefined;
      },
    });
    if (updated) return;
    const exists = await this.db
      .getRepository(TaskEntity)
      .exists({ where: { id: taskId, projectId } });
    if (!exists) throw new TaskNotFound();
    throw new TaskFinished('its bandwidth policy can no longer change');
  }
}

function plainPeriods(periods: readonly BandwidthPeriodBody[]): BandwidthPeriod[] {
  return periods.map(({ start, end, max_bandwidth }) => ({ start, end, max_bandwidth }));
}

async function nextTaskId(next: () => Promise<{ id: string }[]>): Promise<string> {
  try {
    const [{ id }] = await next();
    return id;
  } catch (error) {
    if ((error as { code?: unknown }).code === SEQUENCE_EXHAUSTED) {
      throw new TaskQuotaExceeded('every task id this service can issue has been used');
    }
    throw error;
  }
}

/**
 * "<source bucket>-<destination bucket>-<id>", within the column's 255
 * characters: each bucket cut to 110 code points, never inside a surrogate
 * pair (PostgreSQL counts code points too; half an emoji would come back as
 * U+FFFD).
 */
function taskName(sourceBucket: string, destinationBucket: string, id: string): string {
  return `${codePoints(sourceBucket, 110)}-${codePoints(destinationBucket, 110)}-${id}`;
}

function codePoints(text: string, max: number): string {
  return Array.from(text).slice(0, max).join('');
}
