// Every SQL statement the task-groups feature runs, written out in full (as
// task.sql.ts for tasks). A group's move is a short transaction on one
// connection: lock the group's row (so concurrent moves of one group run one
// after the other, and each sees the status the previous one left), apply
// the task move to all the group's tasks in ONE set-based statement that
// writes one audit row per task, then record the group's new status.
//
// Statuses are parameters, from the state tables (task-state.ts,
// task-group-state.ts), never numbers in the text.

import type { Statement } from '../database/statement.js';
import type { TaskActionName, TaskStatus } from '../tasks/task-state.js';
import type { BandwidthPeriod, DestinationNode } from '../tasks/task.entity.js';
import type { GroupAuditAction, GroupStatus } from './task-group-state.js';
import type { GroupOptions } from './task-group.entity.js';

// ------------------------------------------------------------------ create

export const NEXT_TASK_IDS: Statement<{ readonly count: number }, { id: string }> = {
  // $1 how many.
  name: 'task-group-next-task-ids',
  text: `
SELECT nextval(pg_get_serial_sequence('tasks', 'id'))::text AS id FROM generate_series(1, $1::int)`,
  values: (p) => [p.count],
};

export interface CreateGroupParams {
  readonly groupId: string;
  readonly projectId: string;
  readonly status: GroupStatus;
  readonly description: string;
  readonly taskType: string;
  readonly source: Readonly<Record<string, unknown>>;
  readonly destination: DestinationNode;
  readonly bandwidth: readonly BandwidthPeriod[];
  readonly options: GroupOptions;
  /** Sealed TaskSecrets, the group's id as the AAD's id. */
  readonly secrets: Buffer;
  /** Seconds since the epoch, or null. */
  readonly migrateSince: number | null;
  readonly userId: string;
  readonly requestId: string;
}

/** The group and its audit row (null → its first status), in one statement. */
export const CREATE_GROUP: Statement<CreateGroupParams, unknown> = {
  // $1 id, $2 project, $3 status, $4 description, $5 task type, $6 source,
  // $7 destination, $8 bandwidth, $9 options, $10 secrets, $11 migrate
  // since, $12 user, $13 request id.
  name: 'task-group-create',
  text: `
WITH created AS (
  INSERT INTO task_groups (id, project_id, status, description, task_type, src_node, dst_node,
                           bandwidth_policy, options, secrets, migrate_since)
  VALUES ($1, $2, $3::smallint, $4, $5, $6::jsonb, $7::jsonb, $8::jsonb, $9::jsonb, $10::bytea,
          to_timestamp($11))
  RETURNING id, project_id, status
)
INSERT INTO task_group_transitions (group_id, project_id, action, from_status, to_status, user_id, request_id)
SELECT id, project_id, 'create', NULL, status, $12, $13 FROM created`,
  values: (p) => [
    p.groupId,
    p.projectId,
    p.status,
    p.description,
    p.taskType,
    JSON.stringify(p.source),
    JSON.stringify(p.destination),
    JSON.stringify(p.bandwidth),
    JSON.stringify(p.options),
    p.secrets,
    p.migrateSince,
    p.userId,
    p.requestId,
  ],
};

export interface CreateGroupTasksParams {
  readonly ids: readonly string[];
  readonly names: readonly string[];
  /** Each task's src_node, as JSON text. */
  readonly sources: readonly string[];
  /** Each task's sealed TaskSecrets. */
  readonly secrets: readonly Buffer[];
  readonly projectId: string;
  readonly groupId: string;
  readonly status: TaskStatus;
  readonly description: string;
  readonly taskType: string;
  readonly priority: number;
  readonly destination: DestinationNode;
  readonly bandwidth: readonly BandwidthPeriod[];
  readonly options: GroupOptions;
  readonly migrateSince: number | null;
  readonly userId: string;
  readonly requestId: string;
}

/** All the group's tasks and their audit rows (null → waiting), in one statement. */
export const CREATE_GROUP_TASKS: Statement<CreateGroupTasksParams, { task_id: string }> = {
  // $1 ids, $2 names, $3 sources, $4 secrets, $5 project, $6 group, $7
  // status, $8 description, $9 task type, $10 priority, $11 destination,
  // $12 bandwidth, $13 options, $14 migrate since, $15 user, $16 request id.
  name: 'task-group-create-tasks',
  text: `
WITH given AS (
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::jsonb[], $4::bytea[])
    AS t(id, name, src_node, secrets)
), created AS (
  INSERT INTO tasks (id, project_id, name, status, task_priority, group_id)
  SELECT id, $5, name, $7::smallint, $10, $6 FROM given
  ON CONFLICT (id) DO NOTHING
  RETURNING id, project_id, status
), detailed AS (
  INSERT INTO task_details (task_id, description, task_type, src_node, dst_node,
                            bandwidth_policy, options, secrets, migrate_since)
  SELECT given.id, $8, $9, given.src_node, $11::jsonb, $12::jsonb, $13::jsonb, given.secrets,
         to_timestamp($14)
  FROM given JOIN created ON created.id = given.id
)
INSERT INTO task_transitions (task_id, project_id, action, from_status, to_status, user_id, request_id)
SELECT id, project_id, 'create', NULL, status, $15, $16 FROM created
RETURNING task_id`,
  values: (p) => [
    p.ids,
    p.names,
    p.sources,
    p.secrets,
    p.projectId,
    p.groupId,
    p.status,
    p.description,
    p.taskType,
    p.priority,
    JSON.stringify(p.destination),
    JSON.stringify(p.bandwidth),
    JSON.stringify(p.options),
    p.migrateSince,
    p.userId,
    p.requestId,
  ],
};

// ---------------------------------------------------------------- the moves

interface GroupKey {
  readonly groupId: string;
  readonly projectId: string;
}

/** The group's row lock, held to the end of the transaction: moves of one group queue here. */
export const LOCK_GROUP: Statement<GroupKey, { status: GroupStatus }> = {
  // $1 group, $2 project.
  name: 'task-group-lock',
  text: 'SELECT status FROM task_groups WHERE id = $1 AND project_id = $2 FOR UPDATE',
  values: (p) => [p.groupId, p.projectId],
};

/** What a group's audit row records of the write that changed it. */
interface GroupWrite extends GroupKey {
  readonly action: GroupAuditAction;
  /** The status the write found (under the group's lock). */
  readonly from: GroupStatus;
  readonly userId: string;
  readonly requestId: string;
}

/** The group's new status and its audit row (from → to), in one statement. */
export const SET_GROUP_STATUS: Statement<GroupWrite & { readonly to: GroupStatus }, unknown> = {
  // $1 group, $2 project, $3 to status, $4 action, $5 from status, $6 user,
  // $7 request id.
  name: 'task-group-set-status',
  text: `
WITH moved AS (
  UPDATE task_groups SET status = $3::smallint, updated_at = now()
  WHERE id = $1 AND project_id = $2
  RETURNING id, project_id
)
INSERT INTO task_group_transitions (group_id, project_id, action, from_status, to_status, user_id, request_id)
SELECT id, project_id, $4::text, $5::smallint, $3::smallint, $6::text, $7::text FROM moved`,
  values: (p) => [p.groupId, p.projectId, p.to, p.action, p.from, p.userId, p.requestId],
};

/** A task a group's move moved, as its audit row records it (to null: deleted). */
export interface MovedGroupTask {
  task_id: string;
  from_status: TaskStatus;
  to_status: TaskStatus | null;
}

interface GroupTasksMove extends GroupKey {
  readonly from: readonly TaskStatus[];
  readonly action: TaskActionName;
  readonly userId: string;
  readonly requestId: string;
}

/**
 * A TASK_ACTIONS move (group_stop) of every task of the group in a `from`
 * status, one audit row each: the set-based form of task.sql.ts MOVE_TASK,
 * including its whileLeased (a task a worker holds goes to pausing).
 */
export const MOVE_GROUP_TASKS: Statement<
  GroupTasksMove & {
    readonly to: TaskStatus;
    readonly whileLeased: TaskStatus;
    readonly now: Date;
  },
  MovedGroupTask
> = {
  // $1 group, $2 project, $3 from statuses, $4 to status, $5 action, $6
  // user, $7 request id, $8 to status while leased, $9 now.
  name: 'task-group-move-tasks',
  text: `
WITH locked AS (
  SELECT id, project_id, status FROM tasks
  WHERE group_id = $1 AND project_id = $2 AND status = ANY($3::smallint[])
  FOR UPDATE
), moved AS (
  UPDATE tasks SET updated_at = now(),
    status = CASE WHEN tasks.lease_expires_at > $9::timestamptz THEN $8::smallint ELSE $4::smallint END,
    queue = task_queue(
      CASE WHEN tasks.lease_expires_at > $9::timestamptz THEN $8::smallint ELSE $4::smallint END,
      tasks.queue)
  FROM locked WHERE tasks.id = locked.id
  RETURNING tasks.id, tasks.project_id, locked.status AS from_status, tasks.status AS to_status
)
INSERT INTO task_transitions (task_id, project_id, action, from_status, to_status, user_id, request_id)
SELECT id, project_id, $5::text, from_status, to_status, $6::text, $7::text FROM moved
RETURNING task_id, from_status, to_status`,
  values: (p) => [
    p.groupId,
    p.projectId,
    p.from,
    p.to,
    p.action,
    p.userId,
    p.requestId,
    p.whileLeased,
    p.now,
  ],
};

/**
 * The ids and sealed keys of the group's tasks in `from`, locked: start and
 * retry seal each its keys again, with the ones the body brings.
 */
export const LOCK_GROUP_TASKS: Statement<
  GroupKey & { readonly from: readonly TaskStatus[] },
  { id: string; secrets: Buffer | null }
> = {
  // $1 group, $2 project, $3 statuses.
  name: 'task-group-lock-tasks',
  text: `
SELECT t.id::text, d.secrets FROM tasks t LEFT JOIN task_details d ON d.task_id = t.id
WHERE t.group_id = $1 AND t.project_id = $2 AND t.status = ANY($3::smallint[])
ORDER BY t.id FOR UPDATE OF t`,
  values: (p) => [p.groupId, p.projectId, p.from],
};

/**
 * A move withChanges (group_start) of the locked tasks: each gets its own
 * freshly sealed keys; the set-based form of MOVE_TASK_WITH_CHANGES.
 */
export const MOVE_GROUP_TASKS_WITH_CHANGES: Statement<
  GroupTasksMove & {
    readonly to: TaskStatus;
    readonly ids: readonly string[];
    readonly secrets: readonly Buffer[];
    readonly options: Readonly<Record<string, unknown>>;
  },
  MovedGroupTask
> = {
  // $1 group, $2 project, $3 from statuses, $4 to status, $5 ids, $6
  // secrets, $7 options, $8 action, $9 user, $10 request id.
  name: 'task-group-move-tasks-with-changes',
  text: `
WITH changes AS (
  SELECT * FROM unnest($5::bigint[], $6::bytea[]) AS c(id, secrets)
), locked AS (
  SELECT tasks.id, tasks.project_id, tasks.status, changes.secrets FROM tasks
  JOIN changes ON changes.id = tasks.id
  WHERE tasks.group_id = $1 AND tasks.project_id = $2 AND tasks.status = ANY($3::smallint[])
  FOR UPDATE OF tasks
), moved AS (
  UPDATE tasks SET status = $4::smallint, queue = task_queue($4::smallint, tasks.queue), updated_at = now()
  FROM locked WHERE tasks.id = locked.id
  RETURNING tasks.id, tasks.project_id, locked.status AS from_status
), changed AS (
  UPDATE task_details SET secrets = locked.secrets, options = task_details.options || $7::jsonb
  FROM locked JOIN moved ON moved.id = locked.id WHERE task_details.task_id = locked.id
)
INSERT INTO task_transitions (task_id, project_id, action, from_status, to_status, user_id, request_id)
SELECT id, project_id, $8::text, from_status, $4::smallint, $9::text, $10::text FROM moved
RETURNING task_id, from_status, to_status`,
  values: (p) => [
    p.groupId,
    p.projectId,
    p.from,
    p.to,
    p.ids,
    p.secrets,
    JSON.stringify(p.options),
    p.action,
    p.userId,
    p.requestId,
  ],
};

/** How many of the group's tasks are in a status the task move may not leave. */
export const GROUP_TASKS_NOT_IN: Statement<
  GroupKey & { readonly from: readonly TaskStatus[] },
  { count: number }
> = {
  // $1 group, $2 project, $3 statuses.
  name: 'task-group-tasks-not-in',
  text: `
SELECT count(*)::int AS count FROM tasks
WHERE group_id = $1 AND project_id = $2 AND status <> ALL($3::smallint[])`,
  values: (p) => [p.groupId, p.projectId, p.from],
};

/** The delete move of every task of the group, one audit row each (to_status null). */
export const DELETE_GROUP_TASKS: Statement<GroupTasksMove, MovedGroupTask> = {
  // $1 group, $2 project, $3 from statuses, $4 action, $5 user, $6 request id.
  name: 'task-group-delete-tasks',
  text: `
WITH locked AS (
  SELECT id, project_id, status FROM tasks
  WHERE group_id = $1 AND project_id = $2 AND status = ANY($3::smallint[])
  FOR UPDATE
), removed AS (
  DELETE FROM tasks USING locked WHERE tasks.id = locked.id
  RETURNING tasks.id, tasks.project_id, locked.status AS from_status
)
INSERT INTO task_transitions (task_id, project_id, action, from_status, to_status, user_id, request_id)
SELECT id, project_id, $4::text, from_status, NULL, $5::text, $6::text FROM removed
RETURNING task_id, from_status, to_status`,
  values: (p) => [p.groupId, p.projectId, p.from, p.action, p.userId, p.requestId],
};

/** The group goes; its audit row stays (to_status null). */
export const DELETE_GROUP: Statement<GroupWrite, unknown> = {
  // $1 group, $2 project, $3 action, $4 from status, $5 user, $6 request id.
  name: 'task-group-delete',
  text: `
WITH removed AS (
  DELETE FROM task_groups WHERE id = $1 AND project_id = $2
  RETURNING id, project_id
)
INSERT INTO task_group_transitions (group_id, project_id, action, from_status, to_status, user_id, request_id)
SELECT id, project_id, $3::text, $4::smallint, NULL, $5::text, $6::text FROM removed`,
  values: (p) => [p.groupId, p.projectId, p.action, p.from, p.userId, p.requestId],
};

// ------------------------------------------------------ the bandwidth update

/** The group's new bandwidth policy and its audit row (status → same status). */
export const SET_GROUP_BANDWIDTH: Statement<
  GroupWrite & { readonly policy: readonly BandwidthPeriod[] },
  unknown
> = {
  // $1 group, $2 project, $3 policy, $4 action, $5 status, $6 user, $7 request id.
  name: 'task-group-set-bandwidth',
  text: `
WITH updated AS (
  UPDATE task_groups SET bandwidth_policy = $3::jsonb, updated_at = now()
  WHERE id = $1 AND project_id = $2
  RETURNING id, project_id
)
INSERT INTO task_group_transitions (group_id, project_id, action, from_status, to_status, user_id, request_id)
SELECT id, project_id, $4::text, $5::smallint, $5::smallint, $6::text, $7::text FROM updated`,
  values: (p) => [
    p.groupId,
    p.projectId,
    JSON.stringify(p.policy),
    p.action,
    p.from,
    p.userId,
    p.requestId,
  ],
};

/** The edit update_bandwidth (TASK_EDITS) of every unfinished task of the group, audited. */
export const SET_GROUP_TASKS_BANDWIDTH: Statement<
  GroupKey & {
    readonly policy: readonly BandwidthPeriod[];
    readonly in: readonly TaskStatus[];
    readonly userId: string;
    readonly requestId: string;
  },
  { task_id: string }
> = {
  // $1 group, $2 project, $3 policy, $4 statuses, $5 user, $6 request id.
  name: 'task-group-set-tasks-bandwidth',
  text: `
WITH updated AS (
  UPDATE tasks SET updated_at = now()
  WHERE group_id = $1 AND project_id = $2 AND status = ANY($4::smallint[])
  RETURNING id, project_id, status
), detailed AS (
  UPDATE task_details SET bandwidth_policy = $3::jsonb
  FROM updated WHERE task_details.task_id = updated.id
)
INSERT INTO task_transitions (task_id, project_id, action, from_status, to_status, user_id, request_id)
SELECT id, project_id, 'update_bandwidth', status, status, $5, $6 FROM updated
RETURNING task_id`,
  values: (p) => [p.groupId, p.projectId, JSON.stringify(p.policy), p.in, p.userId, p.requestId],
};

// ---------------------------------------------------- lost-answer look-up

/** Waits for any write of the group still running on the server (its row lock). */
export const AWAIT_GROUP_WRITES: Statement<GroupKey, unknown> = {
  // $1 group, $2 project.
  name: 'task-group-await-writes',
  text: 'SELECT 1 FROM task_groups WHERE id = $1 AND project_id = $2 FOR UPDATE',
  values: (p) => [p.groupId, p.projectId],
};

/** The group's latest audit row, if it is this write's (same action and request). */
export const LATEST_GROUP_AUDIT_ROW: Statement<
  GroupKey & { readonly action: GroupAuditAction; readonly requestId: string },
  { from_status: GroupStatus | null }
> = {
  // $1 group, $2 project, $3 action, $4 request id.
  name: 'task-group-latest-audit-row',
  text: `
SELECT from_status FROM (
  SELECT from_status, action, request_id FROM task_group_transitions
  WHERE group_id = $1 AND project_id = $2 ORDER BY id DESC LIMIT 1
) latest
WHERE action = $3::text AND request_id = $4::text`,
  values: (p) => [p.groupId, p.projectId, p.action, p.requestId],
};

// ---------------------------------------------------------------- counters

export interface GroupCountersRow {
  group_id: string;
  total_task_num: string;
  waiting_task_num: string;
  executing_task_num: string;
  paused_task_num: string;
  failed_task_num: string;
  complete_task_num: string;
  total_num: string;
  success_num: string;
  fail_num: string;
  skip_num: string;
  total_size: string;
  complete_size: string;
  migrate_speed: string;
  start_time: Date | null;
  total_time: string;
}

/** The counters of each group, counted from its tasks (a group without tasks has no row). */
export const GROUP_COUNTERS: Statement<
  {
    readonly projectId: string;
    readonly groupIds: readonly string[];
    readonly waiting: readonly TaskStatus[];
    readonly executing: readonly TaskStatus[];
    readonly paused: readonly TaskStatus[];
    readonly failed: readonly TaskStatus[];
    readonly complete: readonly TaskStatus[];
  },
  GroupCountersRow
> = {
  // $1 project, $2 groups, $3 waiting, $4 executing, $5 paused, $6 failed,
  // $7 complete statuses.
  name: 'task-group-counters',
  text: `
SELECT t.group_id,
  count(*) AS total_task_num,
  count(*) FILTER (WHERE t.status = ANY($3::smallint[])) AS waiting_task_num,
  count(*) FILTER (WHERE t.status = ANY($4::smallint[])) AS executing_task_num,
  count(*) FILTER (WHERE t.status = ANY($5::smallint[])) AS paused_task_num,
  count(*) FILTER (WHERE t.status = ANY($6::smallint[])) AS failed_task_num,
  count(*) FILTER (WHERE t.status = ANY($7::smallint[])) AS complete_task_num,
  sum(COALESCE(d.total_num, 0)) AS total_num, sum(COALESCE(d.successful_num, 0)) AS success_num,
  sum(COALESCE(d.failed_num, 0)) AS fail_num, sum(COALESCE(d.skipped_num, 0)) AS skip_num,
  sum(COALESCE(d.total_size, 0)) AS total_size,
  sum(COALESCE(d.complete_size, 0)) AS complete_size,
  sum(COALESCE(d.migrate_speed, 0)) AS migrate_speed, min(t.start_time) AS start_time,
  max(COALESCE(d.total_time, 0)) AS total_time
FROM tasks t LEFT JOIN task_details d ON d.task_id = t.id
WHERE t.project_id = $1 AND t.group_id = ANY($2::text[])
GROUP BY t.group_id`,
  values: (p) => [p.projectId, p.groupIds, p.waiting, p.executing, p.paused, p.failed, p.complete],
};

// --------------------------------------------------------- the settlement
//
// After the data plane moves a task of a group (task-settlement.ts): lock
// the group, count its tasks, and let GROUP_SETTLEMENTS decide.

/** The group of a task, locked; no row for a task without one. */
export const LOCK_GROUP_OF_TASK: Statement<
  { readonly taskId: string; readonly projectId: string },
  { group_id: string; status: GroupStatus }
> = {
  // $1 task, $2 project.
  name: 'task-group-lock-of-task',
  text: `
SELECT task_groups.id AS group_id, task_groups.status FROM task_groups
JOIN tasks ON tasks.group_id = task_groups.id AND tasks.project_id = task_groups.project_id
WHERE tasks.id = $1 AND tasks.project_id = $2
FOR UPDATE OF task_groups`,
  values: (p) => [p.taskId, p.projectId],
};

export const GROUP_TASK_COUNTS: Statement<
  GroupKey & {
    readonly pausing: TaskStatus;
    readonly succeeded: TaskStatus;
    readonly failed: TaskStatus;
  },
  { pausing: number; unfinished: number; failed: number }
> = {
  // $1 group, $2 project, $3 pausing, $4 succeeded, $5 failed.
  name: 'task-group-task-counts',
  text: `
SELECT count(*) FILTER (WHERE status = $3::smallint)::int AS pausing,
       count(*) FILTER (WHERE status NOT IN ($4::smallint, $5::smallint))::int AS unfinished,
       count(*) FILTER (WHERE status = $5::smallint)::int AS failed
FROM tasks WHERE group_id = $1 AND project_id = $2`,
  values: (p) => [p.groupId, p.projectId, p.pausing, p.succeeded, p.failed],
};
