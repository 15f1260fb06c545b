// Every SQL statement of the data plane's protocol (worker.service.ts),
// written out in full. A lease is a row of task_leases (migrations/…-task-
// leases.ts); the data plane's status moves are TASK_ACTIONS moves made by
// TaskTransitions with the lease as a condition (task.sql.ts
// MOVE_LEASED_TASK), so they are audited like every other move.
//
// Times are parameters from the service's Clock, never the database's
// now(): a lease's expiry is decided by one clock, which tests can move.

import type { Statement } from '../database/statement.js';
import type { TaskStatus } from '../tasks/task-state.js';
import type { TaskRow } from '../tasks/task.sql.js';

/**
 * Leases up to `limit` tasks in a leasable status that no worker holds a
 * live lease on, oldest admission first, across projects, with one audit row
 * each (the lease edit: status → same status).
 * The candidates come from the running queue (`queue = 2`, an index that a
 * stop does not write: task.sql.ts), and their status decides.
 *
 * Exclusive across replicas and workers: the task's row is locked (SKIP
 * LOCKED passes over tasks another lease, a stop or a delete holds), and a
 * lease row is only replaced if it has expired, as the database sees it at
 * that instant (ON CONFLICT reads the latest committed lease, not this
 * statement's snapshot), so two workers never both hold a live lease.
 */
export const LEASE_TASKS: Statement<
  {
    readonly leasable: readonly TaskStatus[];
    readonly limit: number;
    readonly workerId: string;
    readonly now: Date;
    readonly expiresAt: Date;
    readonly userId: string;
    readonly requestId: string;
  },
  { task_id: string; project_id: string; lease_id: string; expires_at: Date }
> = {
  // $1 leasable statuses, $2 how many, $3 worker, $4 now, $5 expiry, $6
  // user, $7 request id.
  name: 'worker-lease-tasks',
  text: `
WITH candidates AS (
  SELECT tasks.id, tasks.project_id, tasks.status FROM tasks
  WHERE tasks.queue = 2 AND tasks.status = ANY($1::smallint[])
    AND NOT EXISTS (
      SELECT 1 FROM task_leases WHERE task_id = tasks.id AND expires_at > $4::timestamptz)
  ORDER BY tasks.start_time, tasks.id
  LIMIT $2
  FOR UPDATE OF tasks SKIP LOCKED
), leased AS (
  INSERT INTO task_leases (task_id, project_id, worker_id, lease_id, leased_at, expires_at)
  SELECT id, project_id, $3::text, gen_random_uuid(), $4::timestamptz, $5::timestamptz
  FROM candidates
  ON CONFLICT (task_id) DO UPDATE
    SET worker_id = EXCLUDED.worker_id, lease_id = EXCLUDED.lease_id,
        leased_at = EXCLUDED.leased_at, expires_at = EXCLUDED.expires_at
    WHERE task_leases.expires_at <= $4::timestamptz
  RETURNING task_id, project_id, lease_id, expires_at
), audited AS (
  INSERT INTO task_transitions (task_id, project_id, action, from_status, to_status, user_id, request_id)
  SELECT candidates.id, candidates.project_id, 'lease', candidates.status, candidates.status,
         $6::text, $7::text
  FROM candidates JOIN leased ON leased.task_id = candidates.id
)
SELECT task_id::text, project_id, lease_id::text, expires_at FROM leased ORDER BY task_id`,
  values: (p) => [p.leasable, p.limit, p.workerId, p.now, p.expiresAt, p.userId, p.requestId],
};

/** The leased tasks as a worker is given them: the task object's row and the sealed keys. */
export const LEASED_TASK_ROWS: Statement<
  { readonly taskIds: readonly string[] },
  TaskRow & { secrets: Buffer | null }
> = {
  // $1 task ids.
  name: 'task-leased-rows',
  text: `
SELECT t.id, t.project_id AS "projectId", t.name, t.status, t.group_id AS "groupId",
  t.task_priority AS priority, t.start_time AS "startTime", t.created_at AS "createdAt",
  d.description, d.task_type AS "taskType", d.src_node AS "srcNode", d.dst_node AS "dstNode",
  d.bandwidth_policy AS "bandwidthPolicy", d.options, d.migrate_since AS "migrateSince",
  d.progress, d.complete_size AS "completeSize", d.total_size AS "totalSize",
  d.real_size AS "realSize", d.migrate_speed AS "migrateSpeed", d.left_time AS "leftTime",
  d.total_time AS "totalTime", d.total_num AS "totalNum", d.successful_num AS "successfulNum",
  d.failed_num AS "failedNum", d.skipped_num AS "skippedNum", d.is_query_over AS "isQueryOver",
  d.error_reason AS "errorReason", d.secrets
FROM tasks t LEFT JOIN task_details d ON d.task_id = t.id
WHERE t.id = ANY($1::bigint[])`,
  values: (p) => [p.taskIds],
};

/** What a heartbeat reports; null keeps what the task has. */
export interface ReportedProgress {
  readonly totalSize: number | null;
  readonly completeSize: number | null;
  readonly totalNum: number | null;
  readonly successfulNum: number | null;
  readonly failedNum: number | null;
  readonly skippedNum: number | null;
  readonly migrateSpeed: number | null;
  readonly leftTime: number | null;
  readonly isQueryOver: boolean | null;
}

/**
 * A heartbeat: the lease's worker renews it and reports progress, in one
 * statement, only while the task is in a status a worker works in (`live`).
 * Progress only moves forward: each counter keeps the larger of what the
 * task has and what is reported, and what is done is bounded by the totals
 * (a total can grow while the source is still being listed). Answers the
 * task's status, which tells the worker what to do; no row means the lease
 * is gone (worker.service.ts says why).
 */
export const HEARTBEAT: Statement<
  ReportedProgress & {
    readonly leaseId: string;
    readonly workerId: string;
    readonly live: readonly TaskStatus[];
    readonly expiresAt: Date;
  },
  { task_id: string; project_id: string; status: TaskStatus; expires_at: Date }
> = {
  // $1 lease, $2 worker, $3 live statuses, $4 new expiry, $5 total size, $6
  // complete size, $7 total number, $8 successful, $9 failed, $10 skipped,
  // $11 speed, $12 time left, $13 listing over.
  name: 'worker-heartbeat',
  text: `
WITH held AS (
  SELECT task_id FROM task_leases WHERE lease_id = $1::uuid AND worker_id = $2::text
), reported AS (
  SELECT tasks.id, tasks.project_id, tasks.status,
    GREATEST(d.total_size, COALESCE($5::bigint, 0)) AS total_size,
    GREATEST(d.total_num, COALESCE($7::bigint, 0)) AS total_num,
    GREATEST(d.complete_size, COALESCE($6::bigint, 0)) AS complete_size,
    GREATEST(d.successful_num, COALESCE($8::bigint, 0)) AS successful_num,
    GREATEST(d.failed_num, COALESCE($9::bigint, 0)) AS failed_num,
    GREATEST(d.skipped_num, COALESCE($10::bigint, 0)) AS skipped_num
  FROM tasks JOIN held ON held.task_id = tasks.id
  JOIN task_details d ON d.task_id = tasks.id
  WHERE tasks.status = ANY($3::smallint[])
  FOR UPDATE OF tasks
), recorded AS (
  UPDATE task_details SET
    total_size = reported.total_size,
    total_num = reported.total_num,
    complete_size = LEAST(reported.complete_size, reported.total_size),
    successful_num = LEAST(reported.successful_num, reported.total_num),
    failed_num = LEAST(reported.failed_num, reported.total_num - LEAST(reported.successful_num, reported.total_num)),
    skipped_num = LEAST(reported.skipped_num, reported.total_num
      - LEAST(reported.successful_num, reported.total_num)
      - LEAST(reported.failed_num, reported.total_num - LEAST(reported.successful_num, reported.total_num))),
    progress = CASE WHEN reported.total_size = 0 THEN task_details.progress
      ELSE LEAST(reported.complete_size, reported.total_size)::double precision / reported.total_size END,
    migrate_speed = COALESCE($11::bigint, task_details.migrate_speed),
    left_time = COALESCE($12::bigint, task_details.left_time),
    is_query_over = COALESCE($13::boolean, task_details.is_query_over)
  FROM reported WHERE task_details.task_id = reported.id
  RETURNING task_details.task_id AS id
), progressed AS (
  UPDATE tasks SET updated_at = now()
  FROM recorded WHERE tasks.id = recorded.id
  RETURNING tasks.id, tasks.project_id, tasks.status
), renewed AS (
  UPDATE task_leases SET expires_at = $4::timestamptz
  FROM progressed WHERE task_leases.task_id = progressed.id AND task_leases.lease_id = $1::uuid
  RETURNING task_leases.expires_at
)
SELECT progressed.id::text AS task_id, progressed.project_id, progressed.status, renewed.expires_at
FROM progressed CROSS JOIN renewed`,
  values: (p) => [
    p.leaseId,
    p.workerId,
    p.live,
    p.expiresAt,
    p.totalSize,
    p.completeSize,
    p.totalNum,
    p.successfulNum,
    p.failedNum,
    p.skippedNum,
    p.migrateSpeed,
    p.leftTime,
    p.isQueryOver,
  ],
};

/** The task a worker's lease is on, if the worker holds it: what an outcome acts on. */
export const LEASED_TASK: Statement<
  { readonly leaseId: string; readonly workerId: string },
  { task_id: string; project_id: string }
> = {
  // $1 lease, $2 worker.
  name: 'worker-leased-task',
  text: `
SELECT task_id::text, project_id FROM task_leases WHERE lease_id = $1::uuid AND worker_id = $2::text`,
  values: (p) => [p.leaseId, p.workerId],
};

/**
 * The lease sweep: every pausing task whose lease has expired is paused
 * (lease_expire), its lease removed, one audit row each; rows someone else
 * holds are left for the next sweep. Correct with any number of replicas
 * sweeping at once, since each row is moved under its lock and only from
 * pausing.
 */
export const EXPIRE_PAUSING_LEASES: Statement<
  {
    readonly from: readonly TaskStatus[];
    readonly to: TaskStatus;
    readonly now: Date;
    readonly requestId: string;
  },
  { task_id: string; project_id: string; group_id: string | null }
> = {
  // $1 from statuses, $2 to status, $3 now, $4 request id.
  name: 'worker-expire-pausing-leases',
  text: `
WITH expired AS (
  SELECT tasks.id, tasks.project_id, tasks.status FROM tasks
  JOIN task_leases ON task_leases.task_id = tasks.id
  WHERE task_leases.expires_at <= $3::timestamptz AND tasks.status = ANY($1::smallint[])
  ORDER BY tasks.id
  LIMIT 1000
  FOR UPDATE OF tasks SKIP LOCKED
), moved AS (
  UPDATE tasks SET status = $2::smallint, queue = task_queue($2::smallint, tasks.queue), updated_at = now()
  FROM expired WHERE tasks.id = expired.id
  RETURNING tasks.id, tasks.project_id, tasks.group_id, expired.status AS from_status
), released AS (
  DELETE FROM task_leases USING moved WHERE task_leases.task_id = moved.id
), audited AS (
  INSERT INTO task_transitions (task_id, project_id, action, from_status, to_status, user_id, request_id)
  SELECT id, project_id, 'lease_expire', from_status, $2::smallint, 'lease-sweep', $4::text FROM moved
)
SELECT id::text AS task_id, project_id, group_id FROM moved`,
  values: (p) => [p.from, p.to, p.now, p.requestId],
};
