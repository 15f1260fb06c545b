// The task-group life cycle. Create inserts the group and all its tasks in
// one transaction (under the project's TASK_QUOTA lock, as a task create).
// Every move of a group (GROUP_ACTIONS) is one transaction that first locks
// the group's row: concurrent moves of one group queue on that lock, so of
// 16 concurrent stops exactly one finds the group stoppable and pauses its
// tasks (one set-based statement, one audit row per task); the others then
// find it paused and are refused. Each group write also writes the group's
// audit row (task_group_transitions) in its transaction, and that row is
// what settles a lost answer, as the task audit rows do for tasks.

import { Inject, Injectable, Optional } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, type FindOptionsWhere } from 'typeorm';
import { CLOCK, type Clock } from '../common/clock.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { InvalidParameter, ResourceGone, TaskQuotaExceeded } from '../common/oms-errors.js';
import { LOCK_PROJECT } from '../database/advisory-locks.js';
import type { HeldConnection } from '../database/named-query.js';
import { execute } from '../database/statement.js';
import { auditedWrite, inTransaction } from '../tasks/audited-write.js';
import { checkBandwidthPolicy } from '../tasks/task-body-rules.js';
import { TaskScheduler } from '../tasks/task-scheduler.js';
import { pickTaskSecrets, TaskSecretsCipher, type TaskSecrets } from '../tasks/task-secrets.js';
import {
  DELETED,
  INITIAL_STATUS,
  TASK_ACTIONS,
  TASK_EDITS,
  TaskStatus,
  type TaskAction,
} from '../tasks/task-state.js';
import { storedSmnConfig, type BandwidthPeriodBody } from '../tasks/task.bodies.js';
import { TASK_PRIORITIES, type BandwidthPeriod } from '../tasks/task.entity.js';
import type { MoveCaller } from '../tasks/task-transitions.js';
import { COUNT_TASKS } from '../tasks/task.sql.js';
import {
  reportMoves,
  TRANSITION_OBSERVER,
  type TransitionObserver,
} from '../tasks/transition-observer.js';
import {
  checkGroupTransition,
  GroupFinished,
  GroupTasksRunning,
  GROUP_ACTIONS,
  GROUP_DELETED,
  GROUP_INITIAL_STATUS,
  GROUP_UPDATE_IN,
  GroupStatus,
  type GroupAction,
  type GroupActionName,
  type GroupAuditAction,
} from './task-group-state.js';
import type {
  CreateTaskGroupBody,
  ListTaskGroupsQuery,
  RetryTaskGroupBody,
} from './task-group.bodies.js';
import { TaskGroupEntity, type GroupOptions, type GroupTaskType } from './task-group.entity.js';
import {
  AWAIT_GROUP_WRITES,
  CREATE_GROUP,
  CREATE_GROUP_TASKS,
  DELETE_GROUP,
  DELETE_GROUP_TASKS,
  GROUP_COUNTERS,
  GROUP_TASKS_NOT_IN,
  LATEST_GROUP_AUDIT_ROW,
  LOCK_GROUP,
  LOCK_GROUP_TASKS,
  MOVE_GROUP_TASKS,
  type MovedGroupTask,
  MOVE_GROUP_TASKS_WITH_CHANGES,
  NEXT_TASK_IDS,
  SET_GROUP_BANDWIDTH,
  SET_GROUP_STATUS,
  SET_GROUP_TASKS_BANDWIDTH,
  type GroupCountersRow,
} from './task-group.sql.js';
import {
  toTaskGroupObject,
  type CreatedTaskGroup,
  type TaskGroupList,
  type TaskGroupObject,
} from './task-group-view.js';

/** Rounds of fresh ids a group create tries when ids an operator used by hand clash. */
const MAX_ID_ATTEMPTS = 5;

/** The task type of the tasks a group of each type creates. */
const TASK_TYPE_OF: Record<GroupTaskType, 'prefix' | 'list' | 'url_list'> = {
  PREFIX: 'prefix',
  LIST: 'list',
  URL_LIST: 'url_list',
};

/** The AAD id of a group's own sealed secrets: never a task id (those are digits). */
const groupSecretsId = (groupId: string) => `group/${groupId}`;

/** The longest list_file_key a task may have (its column's bound in the bodies). */
const MAX_LIST_FILE_KEY = 1024;

/**
 * (ours) The list file of the i-th task (from 1) of a group whose
 * list_file_key names a folder of `list_file_num` list files:
 * "<folder>/<i>.txt". OMS fixes no naming; this one is stable, so a client
 * can name its files to match, and shows in each task's src_node.
 */
export const groupListFile = (folder: string, i: number) =>
  `${folder.replace(/\/+$/, '')}/${i}.txt`;

/** How the counters sort the tasks' statuses. */
const COUNTED = {
  waiting: [TaskStatus.Waiting],
  executing: [TaskStatus.Migrating, TaskStatus.Retrying, TaskStatus.Pausing],
  paused: [TaskStatus.Paused],
  failed: [TaskStatus.Failed],
  complete: [TaskStatus.Succeeded],
};

@Injectable()
export class TaskGroupsService {
  constructor(
    private readonly db: DataSource,
    private readonly scheduler: TaskScheduler,
    private readonly cipher: TaskSecretsCipher,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Optional() @Inject(TRANSITION_OBSERVER) private readonly observer?: TransitionObserver,
  ) {}

  async create(
    projectId: string,
    body: CreateTaskGroupBody,
    caller: MoveCaller,
    requestId: string,
  ): Promise<CreatedTaskGroup> {
    const groupType = body.task_type ?? 'PREFIX';
    const src = body.src_node;
    const usesList = groupType !== 'PREFIX';
    if (usesList && !src.list_file) {
      throw new InvalidParameter(`src_node.list_file is required for task_type ${groupType}.`);
    }
    if (usesList && src.object_key) {
      throw new InvalidParameter(`src_node.object_key is not used by task_type ${groupType}.`);
    }
    if (!usesList && !src.object_key) {
      throw new InvalidParameter('src_node.object_key is required for task_type PREFIX.');
    }
    if (groupType !== 'URL_LIST') {
      for (const field of ['ak', 'sk', 'bucket', 'region'] as const) {
        if (src[field] === undefined) {
          throw new InvalidParameter(`src_node.${field} is required for task_type ${groupType}.`);
        }
      }
    }
    const bandwidth = plainPeriods(body.bandwidth_policy ?? []);
    checkBandwidthPolicy(bandwidth);

    const source = {
      cloud_type: src.cloud_type ?? (groupType === 'URL_LIST' ? 'URLSource' : 'Aliyun'),
      ...(src.region !== undefined && { region: src.region }),
      ...(src.bucket !== undefined && { bucket: src.bucket }),
      ...(src.app_id !== undefined && { app_id: src.app_id }),
      ...(src.object_key !== undefined && { object_key: src.object_key }),
      ...(src.list_file !== undefined && {
        list_file: {
          list_file_key: src.list_file.list_file_key,
          obs_bucket: src.list_file.obs_bucket,
          ...(src.list_file.list_file_num !== undefined && {
            list_file_num: src.list_file.list_file_num,
          }),
        },
      }),
    };
    const destination = {
      region: body.dst_node.region,
      bucket: body.dst_node.bucket,
      ...(body.dst_node.save_prefix !== undefined && { save_prefix: body.dst_node.save_prefix }),
    };
    const secrets: TaskSecrets = {
      src_ak: src.ak,
      src_sk: src.sk,
      src_security_token: src.security_token,
      dst_ak: body.dst_node.ak,
      dst_sk: body.dst_node.sk,
      dst_security_token: body.dst_node.security_token,
      source_cdn_authentication_key: body.source_cdn?.authentication_key,
    };
    // The group's options, and each of its tasks' (smn_config and source_cdn
    // among them, so a task carries what its own notifications and reads need).
    const options: GroupOptions = {
      enable_kms: body.enable_kms,
      enable_restore: body.enable_restore,
      enable_metadata_migration: body.enable_metadata_migration,
      enable_failed_object_recording: body.enable_failed_object_recording,
      enable_requester_pays: body.enable_requester_pays,
      object_overwrite_mode: body.object_overwrite_mode,
      dst_storage_policy: body.dst_storage_policy,
      consistency_check: body.consistency_check,
      ...(body.smn_config && { smn_config: storedSmnConfig(body.smn_config) }),
      ...(body.source_cdn && {
        source_cdn: {
          domain: body.source_cdn.domain,
          protocol: body.source_cdn.protocol,
          ...(body.source_cdn.authentication_type !== undefined && {
            authentication_type: body.source_cdn.authentication_type,
          }),
        },
      }),
    };
    // (ours) PREFIX: one prefix task per entry of object_key. LIST and
    // URL_LIST: one task per list file (listFileSources).
    const taskSources = usesList
      ? listFileSources(source, src.list_file!)
      : src.object_key!.map((prefix) => ({ ...source, object_key: [prefix] }));

    const groupId = randomUUID();
    const quotaLock = { lock: 'TASK_QUOTA', projectId } as const;
    await auditedWrite(this.db, {
      run: (connection) =>
        inTransaction(connection, async () => {
          await connection.query(LOCK_PROJECT, quotaLock);
          const [{ count }] = await connection.query(COUNT_TASKS, { projectId });
          if (count + taskSources.length > this.config.maxTasksPerProject) {
            throw new TaskQuotaExceeded(
              `the project holds ${count} tasks, the group needs ${taskSources.length} and the project may hold ${this.config.maxTasksPerProject}`,
            );
          }
          await connection.query(CREATE_GROUP, {
            groupId,
            projectId,
            status: GROUP_INITIAL_STATUS,
            description: body.description ?? '',
            taskType: groupType,
            source,
            destination,
            bandwidth,
            options,
            secrets: this.cipher.seal(secrets, projectId, groupSecretsId(groupId)),
            migrateSince: body.migrate_since ?? null,
            userId: caller.userId,
            requestId,
          });
          // Ids come from the tasks' sequence; one an operator already used
          // by hand is skipped (ON CONFLICT DO NOTHING), and the tasks it
          // would have had are given fresh ids, as a single create does.
          let pending: readonly (typeof taskSources)[number][] = taskSources;
          for (let attempt = 0; pending.length > 0; attempt++) {
            if (attempt === MAX_ID_ATTEMPTS) {
              throw new Error('create group: task ids kept clashing with existing tasks');
            }
            const ids = (await connection.query(NEXT_TASK_IDS, { count: pending.length })).map(
              (row) => row.id,
            );
            const created = await connection.query(CREATE_GROUP_TASKS, {
              ids,
              names: ids.map((id) => `${groupId}-${id}`),
              sources: pending.map((taskSource) => JSON.stringify(taskSource)),
              // Each task its own sealed copy, bound to its own id.
              secrets: ids.map((id) => this.cipher.seal(secrets, projectId, id)),
              projectId,
              groupId,
              status: INITIAL_STATUS,
              description: body.description ?? '',
              taskType: TASK_TYPE_OF[groupType],
              priority: TASK_PRIORITIES.MEDIUM,
              destination,
              bandwidth,
              options,
              migrateSince: body.migrate_since ?? null,
              userId: caller.userId,
              requestId,
            });
            const made = new Set(created.map((row) => String(row.task_id)));
            pending = pending.filter((_, i) => !made.has(String(ids[i])));
          }
          return true;
        }),
      findCommitted: async (tx) => {
        // Held by the create until it ended, committed or not.
        await execute(tx, LOCK_PROJECT, quotaLock);
        return this.findWrite(tx, { groupId, projectId }, 'create', requestId);
      },
    });
    this.observer?.transitioned(null, INITIAL_STATUS, taskSources.length);
    this.scheduler.wake(projectId);
    return { group_id: groupId };
  }

  async show(projectId: string, groupId: string): Promise<TaskGroupObject> {
    const group = await this.db.getRepository(TaskGroupEntity).findOne({
      where: { id: groupId, projectId },
    });
    if (!group) throw new ResourceGone('task group');
    const [counters] = await this.counters(projectId, [groupId]);
    return toTaskGroupObject(group, counters);
  }

  async list(projectId: string, query: ListTaskGroupsQuery): Promise<TaskGroupList> {
    const where: FindOptionsWhere<TaskGroupEntity> = { projectId };
    if (query.status !== undefined) where.status = Number(query.status) as GroupStatus;
    const [groups, count] = await this.db.getRepository(TaskGroupEntity).findAndCount({
      where,
      order: { createdAt: 'ASC', id: 'ASC' },
      skip: Number(query.offset ?? 0),
      take: Number(query.limit ?? 10),
    });
    const counters = new Map(
      (
        await this.counters(
          projectId,
          groups.map((group) => group.id),
        )
      ).map((row) => [row.group_id, row]),
    );
    return {
      taskgroups: groups.map((group) => toTaskGroupObject(group, counters.get(group.id))),
      count,
    };
  }

  /** Pauses every waiting or migrating task of the group, all at once (1 or 2 → 3). */
  async stop(projectId: string, groupId: string, caller: MoveCaller, requestId: string) {
    await this.move('stop', projectId, groupId, caller, requestId);
  }

  /** Paused tasks back to waiting with fresh keys (3 → 2). */
  async start(
    projectId: string,
    groupId: string,
    body: RetryTaskGroupBody,
    caller: MoveCaller,
    requestId: string,
  ) {
    await this.move('start', projectId, groupId, caller, requestId, body);
    this.scheduler.wake(projectId);
  }

  /** Failed tasks back to waiting with fresh keys (4 or 5 → 2). */
  async retry(
    projectId: string,
    groupId: string,
    body: RetryTaskGroupBody,
    caller: MoveCaller,
    requestId: string,
  ) {
    await this.move('retry', projectId, groupId, caller, requestId, body);
    this.scheduler.wake(projectId);
  }

  /** Deletes the group and its tasks (each task's deletion audited). */
  async delete(projectId: string, groupId: string, caller: MoveCaller, requestId: string) {
    await this.move('delete', projectId, groupId, caller, requestId);
  }

  /** Replaces the bandwidth policy of the group and of every unfinished task of it. */
  async update(
    projectId: string,
    groupId: string,
    periods: BandwidthPeriodBody[],
    caller: MoveCaller,
    requestId: string,
  ) {
    const policy = plainPeriods(periods);
    checkBandwidthPolicy(policy);
    const key = { groupId, projectId };
    await auditedWrite(this.db, {
      run: (connection) =>
        inTransaction(connection, async () => {
          const status = await this.lockGroup(connection, groupId, projectId);
          if (!GROUP_UPDATE_IN.includes(status)) {
            throw new GroupFinished();
          }
          const write = {
            ...key,
            action: 'update',
            from: status,
            userId: caller.userId,
            requestId,
          } as const;
          await connection.query(SET_GROUP_TASKS_BANDWIDTH, {
            ...key,
            policy,
            in: TASK_EDITS.update_bandwidth.in,
            userId: caller.userId,
            requestId,
          });
          await connection.query(SET_GROUP_BANDWIDTH, { ...write, policy });
          return true;
        }),
      findCommitted: (tx) => this.findWrite(tx, key, 'update', requestId),
    });
  }

  /**
   * Applies a GROUP_ACTIONS move: lock the group, check its status against
   * the table, apply the row's task move to all the group's tasks, record
   * the group's new status (or delete it); one transaction.
   */
  private async move(
    action: GroupActionName,
    projectId: string,
    groupId: string,
    caller: MoveCaller,
    requestId: string,
    keys?: RetryTaskGroupBody,
  ): Promise<void> {
    const spec: GroupAction = GROUP_ACTIONS[action];
    const taskMove: TaskAction = TASK_ACTIONS[spec.tasks];
    const key = { groupId, projectId };
    const moveOfTasks = {
      ...key,
      from: taskMove.from,
      action: spec.tasks,
      userId: caller.userId,
      requestId,
    };
    // The tasks it moved, for the transition metrics once it has committed.
    let movedTasks: MovedGroupTask[] = [];
    await auditedWrite(this.db, {
      run: (connection) =>
        inTransaction(connection, async () => {
          const from = await this.lockGroup(connection, groupId, projectId);
          checkGroupTransition(action, from);
          const write = { ...key, action, from, userId: caller.userId, requestId };
          let groupTo = spec.to;
          if (taskMove.to === DELETED) {
            const [{ count }] = await connection.query(GROUP_TASKS_NOT_IN, {
              ...key,
              from: taskMove.from,
            });
            if (count > 0) throw new GroupTasksRunning(count);
            movedTasks = await connection.query(DELETE_GROUP_TASKS, moveOfTasks);
          } else if (taskMove.withChanges) {
            const tasks = await connection.query(LOCK_GROUP_TASKS, { ...key, from: taskMove.from });
            const given = pickTaskSecrets(keys!);
            movedTasks = await connection.query(MOVE_GROUP_TASKS_WITH_CHANGES, {
              ...moveOfTasks,
              to: taskMove.to,
              ids: tasks.map((task) => task.id),
              // Each task its keys sealed again: the body's, and its own where
              // the body names none (RetryTaskGroupReq requires none).
              secrets: tasks.map((task) =>
                this.cipher.seal(
                  {
                    ...(task.secrets && this.cipher.open(task.secrets, projectId, task.id)),
                    ...given,
                  },
                  projectId,
                  task.id,
                ),
              ),
              options: { migrate_failed_object: keys?.migrate_failed_object ?? false },
            });
          } else {
            movedTasks = await connection.query(MOVE_GROUP_TASKS, {
              ...moveOfTasks,
              to: taskMove.to,
              whileLeased: taskMove.whileLeased ?? taskMove.to,
              now: new Date(this.clock.now()),
            });
            if (movedTasks.some((row) => row.to_status !== taskMove.to)) {
              groupTo = spec.whileTasksPausing!;
            }
          }
          if (groupTo === GROUP_DELETED) {
            await connection.query(DELETE_GROUP, write);
          } else {
            await connection.query(SET_GROUP_STATUS, { ...write, to: groupTo });
          }
          return true;
        }),
      // A delete's audit row outlives the group, so this holds for it too.
      findCommitted: (tx) => this.findWrite(tx, key, action, requestId),
    });
    // After a lost answer settled by the audit row, nobody knows which tasks
    // moved; the metrics miss them rather than guess.
    reportMoves(this.observer, movedTasks);
  }

  private async lockGroup(
    connection: HeldConnection,
    groupId: string,
    projectId: string,
  ): Promise<GroupStatus> {
    const [group] = await connection.query(LOCK_GROUP, { groupId, projectId });
    if (!group) throw new ResourceGone('task group');
    return group.status;
  }

  /**
   * findCommitted for a group write: waits for the group's row lock (a write
   * still running on the server ends first), then whether the group's latest
   * audit row is this write's.
   */
  private async findWrite(
    tx: Parameters<typeof execute>[0],
    key: { groupId: string; projectId: string },
    action: GroupAuditAction,
    requestId: string,
  ): Promise<true | undefined> {
    await execute(tx, AWAIT_GROUP_WRITES, key);
    const [row] = await execute(tx, LATEST_GROUP_AUDIT_ROW, { ...key, action, requestId });
    return row ? true : undefined;
  }

  private async counters(projectId: string, groupIds: string[]): Promise<GroupCountersRow[]> {
    if (groupIds.length === 0) return [];
    return execute(this.db, GROUP_COUNTERS, { projectId, groupIds, ...COUNTED });
  }
}

/**
 * The src_node of each task of a LIST / URL_LIST group: the one list file
 * list_file_key names, or, with list_file_num = N, the N files of the folder
 * it names (groupListFile), one task each.
 */
function listFileSources<S extends object>(
  source: S,
  listFile: { list_file_key: string; obs_bucket: string; list_file_num?: string },
): (S & { list_file: { list_file_key: string; obs_bucket: string } })[] {
  const one = (key: string) => ({
    ...source,
    list_file: { list_file_key: key, obs_bucket: listFile.obs_bucket },
  });
  if (listFile.list_file_num === undefined) return [one(listFile.list_file_key)];
  const count = Number(listFile.list_file_num);
  const last = groupListFile(listFile.list_file_key, count);
  if (last.length > MAX_LIST_FILE_KEY) {
    throw new InvalidParameter(
      `src_node.list_file.list_file_key is too long to name ${count} list files in it (${last.length} characters, at most ${MAX_LIST_FILE_KEY}).`,
    );
  }
  return Array.from({ length: count }, (_, i) => one(groupListFile(listFile.list_file_key, i + 1)));
}

function plainPeriods(periods: readonly BandwidthPeriodBody[]): BandwidthPeriod[] {
  return periods.map(({ start, end, max_bandwidth }) => ({ start, end, max_bandwidth }));
}
