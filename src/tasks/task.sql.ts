// Every SQL statement the tasks feature runs, written out in full: the
// moves, the lost-answer look-up, create, the bandwidth update, the
// scheduler and the demo tasks. Nothing here is put together from pieces;
// what varies between callers (the action, the statuses the state table
// names) is a parameter, so one text per statement is all there is to read,
// and the name a hot statement is prepared under always stands for it.
// The advisory locks these writes take are in database/advisory-locks.ts.
//
// Each statement lists the parameters its mapping fills, as `$n name`.
// Statuses are always parameters, cast to smallint, and never numbers in the
// text: the state table (task-state.ts) is their one source.
//
// No index covers `status`, so that a stop is a HOT update (no index written):
// the waiting and running queues are indexed through `queue`, a hint the
// stop leaves as it is (see the scheduler's section below). `queue = 1` and
// `queue = 2` are written out as numbers, because PostgreSQL uses a partial
// index only when the query states its condition; they are queue codes of
// the migration, not statuses.
//
// Every UPDATE that writes `status` also writes `queue = task_queue(the new
// status, queue)`, except the stop's (MOVE_TASK), whose moves keep the queue
// as it is. task_queue() is the database's one word on which queue a status
// is in (it keeps a paused task's queue); writing the queue here spares
// `tasks` a BEFORE UPDATE trigger, which would lock the row before every
// write (migrations/…-stop-takes-no-row-lock.ts). An AFTER trigger puts the
// queue right, with a second update, after any write that leaves it wrong;
// none of these does.

import type { Statement } from '../database/statement.js';
import { TaskStatus, type AuditAction, type TaskActionName } from './task-state.js';
import type {
  BandwidthPeriod,
  DestinationNode,
  SourceNode,
  TaskOptions,
  TaskType,
} from './task.entity.js';

// ---------------------------------------------------------------- the moves
//
// A move of TASK_ACTIONS is one statement: lock the task only if its status
// is one the action may leave, change it (or delete it), write the audit row,
// all or nothing, and answer one row: what it moved (nothing, if it did not)
// and the status it found the task in (so a refusal is explained without a
// second round trip). Whether the project has waiting tasks a move does not
// ask: the scheduler, woken after it, asks once for all the projects woken in
// the same moment (task-scheduler.ts). Of any number of concurrent identical
// moves exactly one finds the row still in a `from` status; the rest find
// nothing.
// The action's row in the state table picks one of the three below
// (task-transitions.ts); they differ only in what they change.

/** What every move names: the task, the statuses it may leave, who asks. */
export interface MoveParams {
  readonly taskId: string;
  readonly projectId: string;
  readonly from: readonly TaskStatus[];
  readonly action: TaskActionName;
  readonly userId: string;
  readonly requestId: string;
}

/** A move's answer, always one row: what it moved, or what it found. */
export interface MovedRow {
  /** The status the move left; null if it moved nothing. */
  from_status: TaskStatus | null;
  /** Null for a deletion, or if it moved nothing. */
  to_status: TaskStatus | null;
  /**
   * Only when it moved nothing: the task's status as the statement found
   * it, null if there is no such task in the project (why nothing moved,
   * without a second round trip). Null after a move.
   */
  status_seen: TaskStatus | null;
}

/**
 * A move from one status to another that changes nothing else (stop: every
 * action without changes leaves exactly one status): only the status and the
 * time are written, no jsonb rebuilt. The stop's statement, the service's hot
 * path.
 *
 * One status to leave makes the move a plain conditional UPDATE: the row is
 * locked by the update itself, and the status it left is the one it asked
 * for, so no row lock is taken before it (which would cost a WAL record of
 * its own) and nothing is read back on success. Of concurrent moves, the
 * ones that waited for the row see its new status and move nothing.
 *
 * A task a worker holds a live lease on goes to the action's whileLeased
 * status instead (a stop: 7, pausing, until its worker confirms); for an
 * action without one, whileLeased is `to`. Whether it does is read from the
 * row itself, `lease_expires_at`, which a trigger on task_leases keeps: a
 * lease committed while the stop waited for the task's row writes that row
 * too, so the stop re-reads it once the lock is released and sees the lease.
 *
 * The answer is read from `moved`, not from the audit row's RETURNING: the
 * two are one statement, so a moved row is an audited one, and the audit
 * row need not be kept to be read back.
 *
 * It writes no `queue`: its moves (a stop: 2 to 3, which keeps its queue, or
 * to 7, in the running queue already) leave the queue as it is, and an
 * unwritten column costs the update nothing.
 */
export const MOVE_TASK: Statement<
  MoveParams & { readonly to: TaskStatus; readonly whileLeased: TaskStatus; readonly now: Date },
  MovedRow
> = {
  // $1 task, $2 project, $3 the one status to leave, $4 to status, $5
  // action, $6 user, $7 request id, $8 to status while leased, $9 now.
  name: 'task-move',
  text: `
WITH moved AS (
  UPDATE tasks SET updated_at = now(),
    status = CASE WHEN lease_expires_at > $9::timestamptz THEN $8::smallint ELSE $4::smallint END
  WHERE id = $1 AND project_id = $2 AND status = $3::smallint
  RETURNING id, project_id, status AS to_status
), audited AS (
  INSERT INTO task_transitions (task_id, project_id, action, from_status, to_status, user_id, request_id)
  SELECT id, project_id, $5::text, $3::smallint, to_status, $6::text, $7::text FROM moved
)
SELECT CASE WHEN moved.id IS NOT NULL THEN $3::smallint END AS from_status, moved.to_status,
  CASE WHEN moved.id IS NULL
    THEN (SELECT status FROM tasks WHERE id = $1 AND project_id = $2) END AS status_seen
FROM (VALUES (1)) AS answer LEFT JOIN moved ON true`,
  values: (p) => [
    p.taskId,
    p.projectId,
    p.from[0],
    p.to,
    p.action,
    p.userId,
    p.requestId,
    p.whileLeased,
    p.now,
  ],
};

/** Which worker's lease a data-plane move (byLeaseHolder) must be made under. */
export interface LeaseHolder {
  readonly leaseId: string;
  readonly workerId: string;
}

/**
 * A data plane's move (TASK_ACTIONS byLeaseHolder): as MOVE_TASK, but only
 * for the worker holding the task's lease (its lease id and worker id; an
 * expired lease still counts until another worker takes it over, since
 * nobody else moved the data). A move that endsLease removes the lease row;
 * a failure records the worker's error_reason.
 */
export const MOVE_LEASED_TASK: Statement<
  MoveParams &
    LeaseHolder & {
      readonly to: TaskStatus;
      readonly endsLease: boolean;
      /** Recorded with a failure (null keeps the task's). */
      readonly errorReason: Readonly<Record<string, unknown>> | null;
    },
  MovedRow
> = {
  // $1 task, $2 project, $3 from statuses, $4 to status, $5 action, $6 user,
  // $7 request id, $8 lease id, $9 worker id, $10 whether the move ends the
  // lease, $11 error reason or NULL.
  name: 'task-move-leased',
  text: `
WITH locked AS (
  SELECT tasks.id, tasks.project_id, tasks.status FROM tasks
  JOIN task_leases ON task_leases.task_id = tasks.id
  WHERE tasks.id = $1 AND tasks.project_id = $2 AND tasks.status = ANY($3::smallint[])
    AND task_leases.lease_id = $8::uuid AND task_leases.worker_id = $9::text
  FOR UPDATE OF tasks
), moved AS (
  UPDATE tasks SET status = $4::smallint, queue = task_queue($4::smallint, tasks.queue), updated_at = now()
  FROM locked WHERE tasks.id = locked.id
  RETURNING tasks.id, tasks.project_id, locked.status AS from_status, tasks.status AS to_status
), failed AS (
  UPDATE task_details SET error_reason = $11::jsonb
  FROM moved WHERE task_details.task_id = moved.id AND $11::jsonb IS NOT NULL
), released AS (
  DELETE FROM task_leases USING moved WHERE task_leases.task_id = moved.id AND $10::boolean
), audited AS (
  INSERT INTO task_transitions (task_id, project_id, action, from_status, to_status, user_id, request_id)
  SELECT id, project_id, $5::text, from_status, to_status, $6::text, $7::text FROM moved
  RETURNING from_status, to_status
)
SELECT audited.from_status, audited.to_status,
  CASE WHEN audited.from_status IS NULL
    THEN (SELECT status FROM tasks WHERE id = $1 AND project_id = $2) END AS status_seen
FROM (VALUES (1)) AS answer LEFT JOIN audited ON true`,
  values: (p) => [
    p.taskId,
    p.projectId,
    p.from,
    p.to,
    p.action,
    p.userId,
    p.requestId,
    p.leaseId,
    p.workerId,
    p.endsLease,
    p.errorReason === null ? null : JSON.stringify(p.errorReason),
  ],
};

/** What a move withChanges (start) changes besides the status: new keys, options. */
export interface MoveChangesParams {
  readonly to: TaskStatus;
  /** Sealed TaskSecrets replacing the stored ones, or null to keep them. */
  readonly secrets: Buffer | null;
  /** Merged into the task's options. */
  readonly options: Readonly<Record<string, unknown>>;
}

/** A move to a status that also replaces the task's keys and merges options (start). */
export const MOVE_TASK_WITH_CHANGES: Statement<MoveParams & MoveChangesParams, MovedRow> = {
  // $1 task, $2 project, $3 from statuses, $4 to status, $5 sealed secrets or
  // NULL, $6 options to merge, $7 action, $8 user, $9 request id.
  name: 'task-move-with-changes',
  text: `
WITH locked AS (
  SELECT id, project_id, status FROM tasks
  WHERE id = $1 AND project_id = $2 AND status = ANY($3::smallint[])
  FOR UPDATE
), moved AS (
  UPDATE tasks SET status = $4::smallint, queue = task_queue($4::smallint, tasks.queue), updated_at = now()
  FROM locked WHERE tasks.id = locked.id
  RETURNING tasks.id, tasks.project_id, locked.status AS from_status
), changed AS (
  UPDATE task_details SET secrets = COALESCE($5::bytea, task_details.secrets),
    options = task_details.options || $6::jsonb
  FROM moved WHERE task_details.task_id = moved.id
), audited AS (
  INSERT INTO task_transitions (task_id, project_id, action, from_status, to_status, user_id, request_id)
  SELECT id, project_id, $7::text, from_status, $4::smallint, $8::text, $9::text FROM moved
  RETURNING from_status, to_status
)
SELECT audited.from_status, audited.to_status,
  CASE WHEN audited.from_status IS NULL
    THEN (SELECT status FROM tasks WHERE id = $1 AND project_id = $2) END AS status_seen
FROM (VALUES (1)) AS answer LEFT JOIN audited ON true`,
  values: (p) => [
    p.taskId,
    p.projectId,
    p.from,
    p.to,
    p.secrets,
    JSON.stringify(p.options),
    p.action,
    p.userId,
    p.requestId,
  ],
};

/** A move to DELETED: the row goes, its audit row says to_status null. */
export const DELETE_TASK: Statement<MoveParams, MovedRow> = {
  // $1 task, $2 project, $3 from statuses, $4 action, $5 user, $6 request id.
  name: 'task-delete',
  text: `
WITH locked AS (
  SELECT id, project_id, status FROM tasks
  WHERE id = $1 AND project_id = $2 AND status = ANY($3::smallint[])
  FOR UPDATE
), removed AS (
  DELETE FROM tasks USING locked WHERE tasks.id = locked.id
  RETURNING tasks.id, tasks.project_id, locked.status AS from_status
), audited AS (
  INSERT INTO task_transitions (task_id, project_id, action, from_status, to_status, user_id, request_id)
  SELECT id, project_id, $4::text, from_status, NULL, $5::text, $6::text FROM removed
  RETURNING from_status, to_status
)
SELECT audited.from_status, audited.to_status,
  CASE WHEN audited.from_status IS NULL
    THEN (SELECT status FROM tasks WHERE id = $1 AND project_id = $2) END AS status_seen
FROM (VALUES (1)) AS answer LEFT JOIN audited ON true`,
  values: (p) => [p.taskId, p.projectId, p.from, p.action, p.userId, p.requestId],
};

// ------------------------------------------------- the lost-answer look-up
//
// After a lost answer (audited-write.ts), a write of an existing task is
// settled by its audit row.

/**
 * Waits for any write of the task still running on the server (its row
 * lock), so that the audit row looked up next is final.
 */
export const AWAIT_TASK_WRITES: Statement<
  { readonly taskId: string; readonly projectId: string },
  unknown
> = {
  // $1 task, $2 project.
  name: 'task-await-writes',
  text: 'SELECT 1 FROM tasks WHERE id = $1 AND project_id = $2 FOR UPDATE',
  values: (p) => [p.taskId, p.projectId],
};

/**
 * The task's latest audit row, if it is this write's: the same request and
 * action. Only the latest, because request ids can repeat (a caller's own,
 * reused); an older row with this id is an earlier request's.
 */
export const LATEST_AUDIT_ROW: Statement<
  {
    readonly taskId: string;
    readonly projectId: string;
    readonly action: AuditAction;
    readonly requestId: string;
  },
  { from_status: TaskStatus | null; to_status: TaskStatus | null }
> = {
  // $1 task, $2 project, $3 action, $4 request id.
  name: 'task-latest-audit-row',
  text: `
SELECT from_status, to_status FROM (
  SELECT from_status, to_status, action, request_id FROM task_transitions
  WHERE task_id = $1 AND project_id = $2 ORDER BY id DESC LIMIT 1
) latest
WHERE action = $3::text AND request_id = $4::text`,
  values: (p) => [p.taskId, p.projectId, p.action, p.requestId],
};

// ------------------------------------------------------ reading a task
//
// A task object is its row of `tasks` and its row of `task_details`
// (migrations/…-narrow-tasks.ts). Every task has both, but the join is an
// outer one, so that a task is never hidden by a missing details row; the
// view (task-view.ts) shows defaults for one. The columns come back named
// as TaskRow names them; bigints stay strings (as pg returns them) and
// become JSON numbers only in the task object. The sealed keys are never
// among them: only a worker's lease reads those (worker.sql.ts).

/** A task as the task object is made from it. */
export interface TaskRow {
  id: string;
  projectId: string;
  name: string;
  status: TaskStatus;
  groupId: string | null;
  priority: number;
  startTime: Date | null;
  createdAt: Date;
  description: string | null;
  taskType: TaskType | null;
  srcNode: SourceNode | null;
  dstNode: DestinationNode | null;
  bandwidthPolicy: BandwidthPeriod[] | null;
  options: TaskOptions | null;
  migrateSince: Date | null;
  progress: number | null;
  completeSize: string | null;
  totalSize: string | null;
  realSize: string | null;
  migrateSpeed: string | null;
  leftTime: string | null;
  totalTime: string | null;
  totalNum: string | null;
  successfulNum: string | null;
  failedNum: string | null;
  skippedNum: string | null;
  isQueryOver: boolean | null;
  errorReason: { error_code: string; error_msg: string } | null;
}

/** One task of the project. */
export const TASK_OF_PROJECT: Statement<
  { readonly taskId: string; readonly projectId: string },
  TaskRow
> = {
  // $1 task, $2 project.
  name: 'task-of-project',
  text: `
SELECT t.id, t.project_id AS "projectId", t.name, t.status, t.group_id AS "groupId",
  t.task_priority AS priority, t.start_time AS "startTime", t.created_at AS "createdAt",
  d.description, d.task_type AS "taskType", d.src_node AS "srcNode", d.dst_node AS "dstNode",
  d.bandwidth_policy AS "bandwidthPolicy", d.options, d.migrate_since AS "migrateSince",
  d.progress, d.complete_size AS "completeSize", d.total_size AS "totalSize",
  d.real_size AS "realSize", d.migrate_speed AS "migrateSpeed", d.left_time AS "leftTime",
  d.total_time AS "totalTime", d.total_num AS "totalNum", d.successful_num AS "successfulNum",
  d.failed_num AS "failedNum", d.skipped_num AS "skippedNum", d.is_query_over AS "isQueryOver",
  d.error_reason AS "errorReason"
FROM tasks t LEFT JOIN task_details d ON d.task_id = t.id
WHERE t.id = $1 AND t.project_id = $2`,
  values: (p) => [p.taskId, p.projectId],
};

/** What a list of a project's tasks is narrowed to; null means any. */
export interface TaskListFilter {
  readonly projectId: string;
  readonly status: TaskStatus | null;
  readonly groupId: string | null;
}

/**
 * A page of the project's tasks, oldest first by id: a project's ids grow
 * in commit order (creates take theirs under the project's lock), so a task
 * created while a client pages lands on the last page and never shifts an
 * earlier one. (The contract fixes no order.)
 */
export const TASK_PAGE: Statement<
  TaskListFilter & { readonly offset: number; readonly limit: number },
  TaskRow
> = {
  // $1 project, $2 status or NULL, $3 group or NULL, $4 offset, $5 limit.
  name: 'task-page',
  text: `
SELECT t.id, t.project_id AS "projectId", t.name, t.status, t.group_id AS "groupId",
  t.task_priority AS priority, t.start_time AS "startTime", t.created_at AS "createdAt",
  d.description, d.task_type AS "taskType", d.src_node AS "srcNode", d.dst_node AS "dstNode",
  d.bandwidth_policy AS "bandwidthPolicy", d.options, d.migrate_since AS "migrateSince",
  d.progress, d.complete_size AS "completeSize", d.total_size AS "totalSize",
  d.real_size AS "realSize", d.migrate_speed AS "migrateSpeed", d.left_time AS "leftTime",
  d.total_time AS "totalTime", d.total_num AS "totalNum", d.successful_num AS "successfulNum",
  d.failed_num AS "failedNum", d.skipped_num AS "skippedNum", d.is_query_over AS "isQueryOver",
  d.error_reason AS "errorReason"
FROM tasks t LEFT JOIN task_details d ON d.task_id = t.id
WHERE t.project_id = $1 AND ($2::smallint IS NULL OR t.status = $2::smallint)
  AND ($3::text IS NULL OR t.group_id = $3::text)
ORDER BY t.id
OFFSET $4 LIMIT $5`,
  values: (p) => [p.projectId, p.status, p.groupId, p.offset, p.limit],
};

/** How many tasks the list's filter matches, not only its page. */
export const TASK_LIST_COUNT: Statement<TaskListFilter, { count: number }> = {
  // $1 project, $2 status or NULL, $3 group or NULL.
  name: 'task-list-count',
  text: `
SELECT count(*)::int AS count FROM tasks
WHERE project_id = $1 AND ($2::smallint IS NULL OR status = $2::smallint)
  AND ($3::text IS NULL OR group_id = $3::text)`,
  values: (p) => [p.projectId, p.status, p.groupId],
};

/** The task's type, which decides what a start must bring; no row: no such task. */
export const TASK_TYPE: Statement<
  { readonly taskId: string; readonly projectId: string },
  { task_type: TaskType | null }
> = {
  // $1 task, $2 project.
  name: 'task-type',
  text: `
SELECT d.task_type FROM tasks t LEFT JOIN task_details d ON d.task_id = t.id
WHERE t.id = $1 AND t.project_id = $2`,
  values: (p) => [p.taskId, p.projectId],
};

// ------------------------------------------------------------------ create
//
// Under the project's TASK_QUOTA lock: count, take an id, insert the task
// and its audit row (null → the initial status) in one statement.

export const COUNT_TASKS: Statement<{ readonly projectId: string }, { count: number }> = {
  // $1 project.
  name: 'task-count',
  text: 'SELECT count(*)::int AS count FROM tasks WHERE project_id = $1',
  values: (p) => [p.projectId],
};

export const NEXT_TASK_ID: Statement<void, { id: string }> = {
  name: 'task-next-id',
  text: `SELECT nextval(pg_get_serial_sequence('tasks', 'id'))::text AS id`,
  values: () => [],
};

export interface CreateTaskParams {
  readonly id: string;
  readonly projectId: string;
  readonly name: string;
  readonly status: TaskStatus;
  readonly description: string;
  readonly taskType: string;
  readonly priority: number;
  readonly source: SourceNode;
  readonly destination: DestinationNode;
  readonly bandwidth: readonly BandwidthPeriod[];
  readonly options: TaskOptions;
  /** Sealed TaskSecrets. */
  readonly secrets: Buffer;
  /** Seconds since the epoch, or null. */
  readonly migrateSince: number | null;
  readonly userId: string;
  readonly requestId: string;
}

/**
 * The task and its audit row. An operator may have inserted a row with an
 * id the sequence has not reached yet; ON CONFLICT lets create simply take
 * the next number (no row comes back).
 */
export const CREATE_TASK: Statement<CreateTaskParams, { task_id: string }> = {
  // $1 id, $2 project, $3 name, $4 status, $5 description, $6 task type,
  // $7 priority, $8 source, $9 destination, $10 bandwidth policy, $11
  // options, $12 sealed secrets, $13 migrate since, $14 user, $15 request id.
  name: 'task-create',
  text: `
WITH created AS (
  INSERT INTO tasks (id, project_id, name, status, task_priority)
  VALUES ($1, $2, $3, $4, $7)
  ON CONFLICT (id) DO NOTHING
  RETURNING id, project_id, status
), detailed AS (
  INSERT INTO task_details (task_id, description, task_type, src_node, dst_node,
                            bandwidth_policy, options, secrets, migrate_since)
  SELECT id, $5, $6, $8, $9, $10, $11, $12, to_timestamp($13) FROM created
)
INSERT INTO task_transitions (task_id, project_id, action, from_status, to_status, user_id, request_id)
SELECT id, project_id, 'create', NULL, status, $14, $15 FROM created
RETURNING task_id`,
  values: (p) => [
    p.id,
    p.projectId,
    p.name,
    p.status,
    p.description,
    p.taskType,
    p.priority,
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

/**
 * After a lost answer to a create: ids are never reused, so a create row
 * naming the id and the request is this create's, whatever came after it.
 */
export const TASK_CREATED: Statement<
  { readonly taskId: string; readonly requestId: string },
  unknown
> = {
  // $1 task, $2 request id.
  name: 'task-created',
  text: `
SELECT 1 FROM task_transitions WHERE task_id = $1 AND action = 'create' AND request_id = $2`,
  values: (p) => [p.taskId, p.requestId],
};

// ------------------------------------------------------ the bandwidth update

/**
 * An edit (TASK_EDITS): the policy changes only in a status the edit is
 * allowed in, and the audit row says status → same status.
 */
export const SET_BANDWIDTH_POLICY: Statement<
  {
    readonly taskId: string;
    readonly projectId: string;
    readonly policy: readonly BandwidthPeriod[];
    readonly in: readonly TaskStatus[];
    readonly userId: string;
    readonly requestId: string;
  },
  { task_id: string }
> = {
  // $1 task, $2 project, $3 policy, $4 the statuses TASK_EDITS allows, $5
  // user, $6 request id.
  name: 'task-set-bandwidth-policy',
  text: `
WITH updated AS (
  UPDATE tasks SET updated_at = now()
  WHERE id = $1 AND project_id = $2 AND status = ANY($4::smallint[])
  RETURNING id, project_id, status
), detailed AS (
  UPDATE task_details SET bandwidth_policy = $3::jsonb
  FROM updated WHERE task_details.task_id = updated.id
)
INSERT INTO task_transitions (task_id, project_id, action, from_status, to_status, user_id, request_id)
SELECT id, project_id, 'update_bandwidth', status, status, $5, $6 FROM updated
RETURNING task_id`,
  values: (p) => [p.taskId, p.projectId, JSON.stringify(p.policy), p.in, p.userId, p.requestId],
};

// ---------------------------------------------------------- the scheduler
//
// Under the project's SCHEDULER lock: admit waiting tasks, best priority
// first, then oldest, while the project has fewer than the limit running.
// FOR UPDATE SKIP LOCKED passes over rows someone else (a delete, a start)
// holds, so a task is never admitted twice or while being deleted.
//
// The queues are found through `queue` (1 waiting, 2 running), which a
// move writes beside `status` (task_queue(), above) except on a pause:
// so `queue = 1` or `queue = 2` picks the index, and the status condition
// beside it is the truth. A task paused from running keeps `queue = 2`
// until it moves again; the admission clears those of its project
// (`unqueued`), so the running count does not keep reading them.

export const ADMIT_TASKS: Statement<
  {
    readonly projectId: string;
    /** Statuses that hold one of the project's slots. */
    readonly running: readonly TaskStatus[];
    readonly from: readonly TaskStatus[];
    readonly maxParallel: number;
    readonly to: TaskStatus;
    readonly requestId: string;
    /** Statuses of a task group (task-groups/) whose tasks are not admitted. */
    readonly pausedGroups: readonly number[];
  },
  { task_id: string }
> = {
  // $1 project, $2 running statuses, $3 from statuses, $4 max parallel,
  // $5 to status, $6 request id, $7 paused group statuses.
  //
  // A task of a paused group is never admitted, whatever its own status (a
  // group stop pauses them all, but an operator's or a data plane's write
  // could leave one waiting).
  name: 'task-admit',
  text: `
WITH running AS (
  SELECT count(*) AS n FROM tasks
  WHERE project_id = $1 AND queue = 2 AND status = ANY($2::smallint[])
), unqueued AS (
  UPDATE tasks SET queue = NULL
  WHERE id IN (
    SELECT id FROM tasks
    WHERE project_id = $1 AND queue = 2 AND status <> ALL($2::smallint[])
    FOR UPDATE SKIP LOCKED)
), chosen AS (
  SELECT id, status FROM tasks
  WHERE project_id = $1 AND queue = 1 AND status = ANY($3::smallint[])
    AND (group_id IS NULL OR NOT EXISTS (
      SELECT 1 FROM task_groups g
      WHERE g.id = tasks.group_id AND g.project_id = $1 AND g.status = ANY($7::smallint[])))
  ORDER BY task_priority DESC, created_at, id
  LIMIT GREATEST(0, $4 - (SELECT n FROM running))
  FOR UPDATE SKIP LOCKED
), moved AS (
  UPDATE tasks SET status = $5::smallint, queue = task_queue($5::smallint, tasks.queue), start_time = now(),
    updated_at = now()
  FROM chosen WHERE tasks.id = chosen.id
  RETURNING tasks.id, tasks.project_id, chosen.status AS from_status
)
INSERT INTO task_transitions (task_id, project_id, action, from_status, to_status, user_id, request_id)
SELECT id, project_id, 'admit', from_status, $5::smallint, 'scheduler', $6 FROM moved
RETURNING task_id`,
  values: (p) => [p.projectId, p.running, p.from, p.maxParallel, p.to, p.requestId, p.pausedGroups],
};

/** The sweep's list: projects with waiting tasks. */
export const PROJECTS_WITH_WAITING: Statement<void, { project_id: string }> = {
  // $1 the waiting status.
  name: 'task-projects-with-waiting',
  text: 'SELECT DISTINCT project_id FROM tasks WHERE queue = 1 AND status = $1::smallint',
  values: () => [TaskStatus.Waiting],
};

/**
 * Of the projects the scheduler was woken for, those with waiting tasks: one
 * probe of the waiting queue's index each, in one statement for all of them.
 */
export const PROJECTS_WAITING_AMONG: Statement<
  { readonly projectIds: readonly string[] },
  { project_id: string }
> = {
  // $1 the projects, $2 the waiting status.
  name: 'task-projects-waiting-among',
  text: `
SELECT asked.project_id FROM unnest($1::text[]) AS asked (project_id)
WHERE EXISTS (
  SELECT 1 FROM tasks
  WHERE tasks.project_id = asked.project_id AND queue = 1 AND status = $2::smallint
)`,
  values: (p) => [p.projectIds, TaskStatus.Waiting],
};

// ---------------------------------------------------------- the demo tasks
//
// Development only (demo-tasks.ts): a few tasks to pause; with COUNT_TASKS.

export const INSERT_DEMO_TASK: Statement<
  { readonly projectId: string; readonly name: string; readonly status: TaskStatus },
  unknown
> = {
  // $1 project, $2 name, $3 status.
  name: 'task-insert-demo',
  text: 'INSERT INTO tasks (project_id, name, status) VALUES ($1, $2, $3)',
  values: (p) => [p.projectId, p.name, p.status],
};

export const TASK_IDS_IN_STATUS: Statement<
  { readonly projectId: string; readonly status: TaskStatus },
  { id: string }
> = {
  // $1 project, $2 status.
  name: 'task-ids-in-status',
  text: 'SELECT id FROM tasks WHERE project_id = $1 AND status = $2::smallint ORDER BY id',
  values: (p) => [p.projectId, p.status],
};

// ------------------------------------------------------- the batch update
//
// All or nothing, in one transaction: lock every task the batch names (by
// id order, so two batches over the same tasks cannot deadlock), let the
// service check them all, then change them all with one audit row each.

/** The tasks a batch names, locked: by ids, or by group (the other is null). */
export const LOCK_BATCH_TASKS: Statement<
  {
    readonly projectId: string;
    readonly ids: readonly string[] | null;
    readonly groupId: string | null;
  },
  { id: string; status: TaskStatus }
> = {
  // $1 project, $2 task ids, $3 group id.
  name: 'task-lock-batch',
  text: `
SELECT id, status FROM tasks
WHERE project_id = $1 AND (id = ANY($2::bigint[]) OR group_id = $3)
ORDER BY id
FOR UPDATE`,
  values: (p) => [p.projectId, p.ids, p.groupId],
};

/** The batch edit of the locked tasks; the audit row says status → same status. */
export const BATCH_UPDATE_TASKS: Statement<
  {
    readonly projectId: string;
    readonly ids: readonly string[];
    readonly policy: readonly BandwidthPeriod[];
    /** The new priority rank, or null to keep each task's. */
    readonly priority: number | null;
    readonly action: AuditAction;
    readonly userId: string;
    readonly requestId: string;
  },
  { task_id: string }
> = {
  // $1 project, $2 task ids, $3 policy, $4 priority, $5 action, $6 user, $7
  // request id.
  name: 'task-batch-update',
  text: `
WITH updated AS (
  UPDATE tasks SET task_priority = COALESCE($4::smallint, task_priority), updated_at = now()
  WHERE project_id = $1 AND id = ANY($2::bigint[])
  RETURNING id, project_id, status
), detailed AS (
  UPDATE task_details SET bandwidth_policy = $3::jsonb
  FROM updated WHERE task_details.task_id = updated.id
)
INSERT INTO task_transitions (task_id, project_id, action, from_status, to_status, user_id, request_id)
SELECT id, project_id, $5, status, status, $6, $7 FROM updated
RETURNING task_id`,
  values: (p) => [
    p.projectId,
    p.ids,
    JSON.stringify(p.policy),
    p.priority,
    p.action,
    p.userId,
    p.requestId,
  ],
};

/**
 * After a lost answer to a batch: how many of the tasks have this batch's
 * audit row as their latest (all of them if it committed, none if not).
 */
export const BATCH_UPDATE_WRITTEN: Statement<
  {
    readonly projectId: string;
    readonly ids: readonly string[];
    readonly action: AuditAction;
    readonly requestId: string;
  },
  { written: number }
> = {
  // $1 project, $2 task ids, $3 action, $4 request id.
  name: 'task-batch-update-written',
  text: `
SELECT count(*)::int AS written FROM (
  SELECT DISTINCT ON (task_id) action, request_id FROM task_transitions
  WHERE project_id = $1 AND task_id = ANY($2::bigint[])
  ORDER BY task_id, id DESC
) latest
WHERE action = $3 AND request_id = $4`,
  values: (p) => [p.projectId, p.ids, p.action, p.requestId],
};
