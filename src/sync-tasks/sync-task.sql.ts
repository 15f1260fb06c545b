// Every SQL statement the sync-tasks feature runs, written out in full, as
// in tasks/task.sql.ts: the moves of SYNC_TASK_ACTIONS, the lost-answer
// look-up, create and the events. Statuses are always parameters, never
// literals: the state table (sync-task-state.ts) is their one source.
//
// Each statement lists the parameters its mapping fills, as `$n name`.

import type { Statement } from '../database/statement.js';
import type { SyncAuditAction, SyncTaskActionName, SyncTaskStatus } from './sync-task-state.js';
import type { SyncTaskOptions } from './sync-task.entity.js';

// ---------------------------------------------------------------- the moves
//
// One statement per move: lock the sync task only if its status is one the
// action may leave, change it (or delete it), write the audit row, all or
// nothing. Of any number of concurrent identical moves exactly one finds the
// row still in a `from` status; the rest find nothing.

export interface SyncMoveParams {
  readonly syncTaskId: string;
  readonly projectId: string;
  readonly from: readonly SyncTaskStatus[];
  readonly action: SyncTaskActionName;
  readonly userId: string;
  readonly requestId: string;
}

export interface SyncMovedRow {
  from_status: SyncTaskStatus;
}

/** A move to a status that changes nothing else (stop). */
export const MOVE_SYNC_TASK: Statement<
  SyncMoveParams & { readonly to: SyncTaskStatus },
  SyncMovedRow
> = {
  // $1 sync task, $2 project, $3 from statuses, $4 to status, $5 action,
  // $6 user, $7 request id.
  name: 'sync-task-move',
  text: `
WITH locked AS (
  SELECT id, project_id, status FROM sync_tasks
  WHERE id = $1 AND project_id = $2 AND status = ANY($3::varchar[])
  FOR UPDATE
), moved AS (
  UPDATE sync_tasks SET status = $4::varchar, updated_at = now()
  FROM locked WHERE sync_tasks.id = locked.id
  RETURNING sync_tasks.id, sync_tasks.project_id, locked.status AS from_status
)
INSERT INTO sync_task_transitions (sync_task_id, project_id, action, from_status, to_status, user_id, request_id)
SELECT id, project_id, $5::text, from_status, $4::varchar, $6::text, $7::text FROM moved
RETURNING from_status`,
  values: (p) => [p.syncTaskId, p.projectId, p.from, p.to, p.action, p.userId, p.requestId],
};

/** A move that also replaces the keys and restarts the clock (start). */
export const MOVE_SYNC_TASK_WITH_CHANGES: Statement<
  SyncMoveParams & { readonly to: SyncTaskStatus; readonly secrets: Buffer },
  SyncMovedRow
> = {
  // $1 sync task, $2 project, $3 from statuses, $4 to status, $5 sealed
  // secrets, $6 action, $7 user, $8 request id.
  name: 'sync-task-move-with-changes',
  text: `
WITH locked AS (
  SELECT id, project_id, status FROM sync_tasks
  WHERE id = $1 AND project_id = $2 AND status = ANY($3::varchar[])
  FOR UPDATE
), moved AS (
  UPDATE sync_tasks SET status = $4::varchar, secrets = $5::bytea,
    last_start_time = now(), updated_at = now()
  FROM locked WHERE sync_tasks.id = locked.id
  RETURNING sync_tasks.id, sync_tasks.project_id, locked.status AS from_status
)
INSERT INTO sync_task_transitions (sync_task_id, project_id, action, from_status, to_status, user_id, request_id)
SELECT id, project_id, $6::text, from_status, $4::varchar, $7::text, $8::text FROM moved
RETURNING from_status`,
  values: (p) => [
    p.syncTaskId,
    p.projectId,
    p.from,
    p.to,
    p.secrets,
    p.action,
    p.userId,
    p.requestId,
  ],
};

/** A move to DELETED: the row and its waiting events go; the audit row says to_status null. */
export const DELETE_SYNC_TASK: Statement<SyncMoveParams, SyncMovedRow> = {
  // $1 sync task, $2 project, $3 from statuses, $4 action, $5 user, $6 request id.
  name: 'sync-task-delete',
  text: `
WITH locked AS (
  SELECT id, project_id, status FROM sync_tasks
  WHERE id = $1 AND project_id = $2 AND status = ANY($3::varchar[])
  FOR UPDATE
), removed AS (
  DELETE FROM sync_tasks USING locked WHERE sync_tasks.id = locked.id
  RETURNING sync_tasks.id, sync_tasks.project_id, locked.status AS from_status
), events AS (
  DELETE FROM sync_task_events USING removed
  WHERE sync_task_events.sync_task_id = removed.id AND sync_task_events.project_id = removed.project_id
)
INSERT INTO sync_task_transitions (sync_task_id, project_id, action, from_status, to_status, user_id, request_id)
SELECT id, project_id, $4::text, from_status, NULL, $5::text, $6::text FROM removed
RETURNING from_status`,
  values: (p) => [p.syncTaskId, p.projectId, p.from, p.action, p.userId, p.requestId],
};

/** Why a move found nothing: the sync task's status now, or no row. */
export const SYNC_TASK_STATUS: Statement<
  { readonly syncTaskId: string; readonly projectId: string },
  { status: SyncTaskStatus }
> = {
  // $1 sync task, $2 project.
  name: 'sync-task-current-status',
  text: 'SELECT status FROM sync_tasks WHERE id = $1 AND project_id = $2',
  values: (p) => [p.syncTaskId, p.projectId],
};

// ------------------------------------------------- the lost-answer look-up

/** Waits for any write of the sync task still running on the server (its row lock). */
export const AWAIT_SYNC_TASK_WRITES: Statement<
  { readonly syncTaskId: string; readonly projectId: string },
  unknown
> = {
  // $1 sync task, $2 project.
  name: 'sync-task-await-writes',
  text: 'SELECT 1 FROM sync_tasks WHERE id = $1 AND project_id = $2 FOR UPDATE',
  values: (p) => [p.syncTaskId, p.projectId],
};

/** The sync task's latest audit row, if it is this write's (same request and action). */
export const LATEST_SYNC_AUDIT_ROW: Statement<
  {
    readonly syncTaskId: string;
    readonly projectId: string;
    readonly action: SyncAuditAction;
    readonly requestId: string;
  },
  { from_status: SyncTaskStatus | null }
> = {
  // $1 sync task, $2 project, $3 action, $4 request id.
  name: 'sync-task-latest-audit-row',
  text: `
SELECT from_status FROM (
  SELECT from_status, action, request_id FROM sync_task_transitions
  WHERE sync_task_id = $1 AND project_id = $2 ORDER BY id DESC LIMIT 1
) latest
WHERE action = $3::text AND request_id = $4::text`,
  values: (p) => [p.syncTaskId, p.projectId, p.action, p.requestId],
};

// ------------------------------------------------------------------ create

export interface CreateSyncTaskParams {
  readonly id: string;
  readonly projectId: string;
  readonly status: SyncTaskStatus;
  readonly srcCloudType: string;
  readonly srcRegion: string;
  readonly srcBucket: string;
  readonly dstRegion: string;
  readonly dstBucket: string;
  readonly description: string;
  readonly options: SyncTaskOptions;
  /** Sealed secrets. */
  readonly secrets: Buffer;
  readonly userId: string;
  readonly requestId: string;
}

/** The sync task and its audit row (null → the initial status), in one statement. */
export const CREATE_SYNC_TASK: Statement<CreateSyncTaskParams, { sync_task_id: string }> = {
  // $1 id, $2 project, $3 status, $4 source cloud type, $5 source region,
  // $6 source bucket, $7 destination region, $8 destination bucket,
  // $9 description, $10 options, $11 sealed secrets, $12 user, $13 request id.
  name: 'sync-task-create',
  text: `
WITH created AS (
  INSERT INTO sync_tasks (id, project_id, status, src_cloud_type, src_region, src_bucket,
                          dst_region, dst_bucket, description, options, secrets)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
  RETURNING id, project_id, status
)
INSERT INTO sync_task_transitions (sync_task_id, project_id, action, from_status, to_status, user_id, request_id)
SELECT id, project_id, 'create', NULL, status, $12, $13 FROM created
RETURNING sync_task_id`,
  values: (p) => [
    p.id,
    p.projectId,
    p.status,
    p.srcCloudType,
    p.srcRegion,
    p.srcBucket,
    p.dstRegion,
    p.dstBucket,
    p.description,
    JSON.stringify(p.options),
    p.secrets,
    p.userId,
    p.requestId,
  ],
};

/** How many sync tasks the project holds (under its SYNC_TASK_QUOTA lock). */
export const COUNT_SYNC_TASKS: Statement<{ readonly projectId: string }, { count: number }> = {
  // $1 project.
  name: 'sync-task-count',
  text: 'SELECT count(*)::int AS count FROM sync_tasks WHERE project_id = $1',
  values: (p) => [p.projectId],
};

/** After a lost answer to a create: ids are never reused, so the create row settles it. */
export const SYNC_TASK_CREATED: Statement<
  { readonly syncTaskId: string; readonly requestId: string },
  unknown
> = {
  // $1 sync task, $2 request id.
  name: 'sync-task-created',
  text: `
SELECT 1 FROM sync_task_transitions WHERE sync_task_id = $1 AND action = 'create' AND request_id = $2`,
  values: (p) => [p.syncTaskId, p.requestId],
};

// ------------------------------------------------------------------ events
//
// The event rows name the request that recorded them: they are that write's
// record, and what settles a lost answer to it (SYNC_EVENTS_RECORDED).

/**
 * The keys, one row each, for a data plane to pick up; nothing is inserted
 * (no row comes back) when the project has no such sync task.
 */
export const RECORD_SYNC_EVENTS: Statement<
  {
    readonly syncTaskId: string;
    readonly projectId: string;
    readonly objectKeys: readonly string[];
    readonly requestId: string;
  },
  { id: string }
> = {
  // $1 sync task, $2 project, $3 object keys, $4 request id.
  name: 'sync-task-record-events',
  text: `
INSERT INTO sync_task_events (sync_task_id, project_id, object_key, request_id)
SELECT t.id, t.project_id, k.key, $4::text
FROM (SELECT id, project_id FROM sync_tasks WHERE id = $1 AND project_id = $2 FOR SHARE) t,
  unnest($3::text[]) WITH ORDINALITY AS k(key, n)
ORDER BY k.n
RETURNING id`,
  values: (p) => [p.syncTaskId, p.projectId, p.objectKeys, p.requestId],
};

/** After a lost answer to RECORD_SYNC_EVENTS: how many rows that request recorded. */
export const SYNC_EVENTS_RECORDED: Statement<
  { readonly syncTaskId: string; readonly projectId: string; readonly requestId: string },
  { count: number }
> = {
  // $1 sync task, $2 project, $3 request id.
  name: 'sync-task-events-recorded',
  text: `
SELECT count(*)::int AS count FROM sync_task_events
WHERE sync_task_id = $1 AND project_id = $2 AND request_id = $3`,
  values: (p) => [p.syncTaskId, p.projectId, p.requestId],
};
