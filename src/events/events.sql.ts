// Every SQL statement of the events relay, written out in full: one read per
// outbox (the audit tables), the relay's cursors, and the record of a
// task's notification. Each outbox read is one statement that returns, with
// the rows after the cursor, the snapshot it read them in (so a gap can be
// judged later against exactly that snapshot, event-relay.ts says how),
// whether an earlier snapshot's transactions have all ended, the outbox's
// highest id (for the lag), and, when there is something to publish,
// whether this session still holds the relay's lock (pg_locks shows a bigint
// key split in two oids: the high half as classid, the low as objid; it is
// read only when rows wait, so an idle poll stays one index probe). Always
// at least one row: with no audit rows after the cursor, one whose `id` is
// null.

import { ADVISORY_LOCKS } from '../database/advisory-locks.js';
import type { Statement } from '../database/statement.js';
import { TaskStatus } from '../tasks/task-state.js';

/** What every outbox read is given. */
export interface OutboxReadParams {
  /** The last id published (or skipped): the read starts after it. */
  readonly after: string;
  readonly limit: number;
  /** The snapshot a gap was first seen in, as text; null when there is no gap. */
  readonly gapSnapshot: string | null;
}

/** One audit row as an outbox read returns it, with the read's own columns. */
export interface OutboxRow {
  /** pg_current_snapshot() of the read, as text. */
  snapshot: string;
  /** Every transaction in progress at gapSnapshot has ended; null without one. */
  gap_settled: boolean | null;
  /** The outbox's highest visible id; null when it is empty. */
  max_id: string | null;
  /** This session holds the relay's lock; null when no row is after the cursor (not looked at). */
  lock_held: boolean | null;
  /** null: no audit row after the cursor (the read's one row says so). */
  id: string | null;
  project_id: string;
  resource_id: string;
  action: string;
  from_status: number | string | null;
  to_status: number | string | null;
  user_id: string;
  request_id: string;
  /** created_at, ms since the epoch. */
  created_ms: number;
  /** Only for a task's row that may notify (to succeeded or failed), if the task is still there. */
  task_name: string | null;
  smn_config: unknown;
}

/**
 * task_transitions after the cursor. A row that moves its task to
 * succeeded or failed brings the task's name and options.smn_config (its
 * notification); a task deleted since brings nothing and is not notified.
 */
export const READ_TASK_OUTBOX: Statement<OutboxReadParams, OutboxRow> = {
  // $1 after, $2 limit, $3 gap snapshot or NULL, $4 the statuses that
  // notify, $5 the relay's lock.
  name: 'events-read-task-outbox',
  text: `
SELECT pg_current_snapshot()::text AS snapshot,
  pg_snapshot_xmin(pg_current_snapshot()) >= pg_snapshot_xmax($3::text::pg_snapshot) AS gap_settled,
  (SELECT max(id) FROM task_transitions)::text AS max_id,
  (SELECT EXISTS (
     SELECT 1 FROM pg_locks
     WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted AND objsubid = 1
       AND ((classid::bigint << 32) | objid::bigint) = $5::bigint)
   WHERE EXISTS (SELECT 1 FROM task_transitions WHERE id > $1::bigint)) AS lock_held,
  e.*
FROM (SELECT 1) AS one LEFT JOIN LATERAL (
  SELECT a.id, a.project_id, a.task_id::text AS resource_id, a.action, a.from_status, a.to_status,
    a.user_id, a.request_id, floor(extract(epoch FROM a.created_at) * 1000)::float8 AS created_ms,
    t.name AS task_name, d.options -> 'smn_config' AS smn_config
  FROM task_transitions a
  LEFT JOIN tasks t
    ON t.id = a.task_id AND t.project_id = a.project_id AND a.to_status = ANY($4::smallint[])
  LEFT JOIN task_details d ON d.task_id = t.id
  WHERE a.id > $1::bigint
  ORDER BY a.id LIMIT $2
) AS e ON true
ORDER BY e.id`,
  values: (p) => [
    p.after,
    p.limit,
    p.gapSnapshot,
    [TaskStatus.Succeeded, TaskStatus.Failed],
    ADVISORY_LOCKS.EVENT_RELAY,
  ],
};

/** sync_task_transitions after the cursor (sync tasks notify nobody). */
export const READ_SYNC_TASK_OUTBOX: Statement<OutboxReadParams, OutboxRow> = {
  // $1 after, $2 limit, $3 gap snapshot or NULL, $4 the relay's lock.
  name: 'events-read-sync-task-outbox',
  text: `
SELECT pg_current_snapshot()::text AS snapshot,
  pg_snapshot_xmin(pg_current_snapshot()) >= pg_snapshot_xmax($3::text::pg_snapshot) AS gap_settled,
  (SELECT max(id) FROM sync_task_transitions)::text AS max_id,
  (SELECT EXISTS (
     SELECT 1 FROM pg_locks
     WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted AND objsubid = 1
       AND ((classid::bigint << 32) | objid::bigint) = $4::bigint)
   WHERE EXISTS (SELECT 1 FROM sync_task_transitions WHERE id > $1::bigint)) AS lock_held,
  e.*
FROM (SELECT 1) AS one LEFT JOIN LATERAL (
  SELECT a.id, a.project_id, a.sync_task_id AS resource_id, a.action, a.from_status, a.to_status,
    a.user_id, a.request_id, floor(extract(epoch FROM a.created_at) * 1000)::float8 AS created_ms,
    NULL::text AS task_name, NULL::jsonb AS smn_config
  FROM sync_task_transitions a
  WHERE a.id > $1::bigint
  ORDER BY a.id LIMIT $2
) AS e ON true
ORDER BY e.id`,
  values: (p) => [p.after, p.limit, p.gapSnapshot, ADVISORY_LOCKS.EVENT_RELAY],
};

/**
 * task_group_transitions after the cursor. The table comes with the group
 * audit trail; until it exists the relay leaves this outbox out
 * (OUTBOX_TABLE_EXISTS).
 */
export const READ_TASK_GROUP_OUTBOX: Statement<OutboxReadParams, OutboxRow> = {
  // $1 after, $2 limit, $3 gap snapshot or NULL, $4 the relay's lock.
  name: 'events-read-task-group-outbox',
  text: `
SELECT pg_current_snapshot()::text AS snapshot,
  pg_snapshot_xmin(pg_current_snapshot()) >= pg_snapshot_xmax($3::text::pg_snapshot) AS gap_settled,
  (SELECT max(id) FROM task_group_transitions)::text AS max_id,
  (SELECT EXISTS (
     SELECT 1 FROM pg_locks
     WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted AND objsubid = 1
       AND ((classid::bigint << 32) | objid::bigint) = $4::bigint)
   WHERE EXISTS (SELECT 1 FROM task_group_transitions WHERE id > $1::bigint)) AS lock_held,
  e.*
FROM (SELECT 1) AS one LEFT JOIN LATERAL (
  SELECT a.id, a.project_id, a.group_id::text AS resource_id, a.action, a.from_status, a.to_status,
    a.user_id, a.request_id, floor(extract(epoch FROM a.created_at) * 1000)::float8 AS created_ms,
    NULL::text AS task_name, NULL::jsonb AS smn_config
  FROM task_group_transitions a
  WHERE a.id > $1::bigint
  ORDER BY a.id LIMIT $2
) AS e ON true
ORDER BY e.id`,
  values: (p) => [p.after, p.limit, p.gapSnapshot, ADVISORY_LOCKS.EVENT_RELAY],
};

/** Whether an outbox's table is there (one that comes with a later migration may not be yet). */
export const OUTBOX_TABLE_EXISTS: Statement<{ readonly table: string }, { exists: boolean }> = {
  // $1 table name.
  name: 'events-outbox-table-exists',
  text: 'SELECT to_regclass($1::text) IS NOT NULL AS exists',
  values: (p) => [p.table],
};

export const READ_RELAY_CURSOR: Statement<{ readonly outbox: string }, { last_id: string }> = {
  // $1 outbox.
  name: 'events-read-relay-cursor',
  text: 'SELECT last_id FROM event_relay_cursors WHERE outbox = $1',
  values: (p) => [p.outbox],
};

export const SAVE_RELAY_CURSOR: Statement<
  { readonly outbox: string; readonly lastId: string },
  never
> = {
  // $1 outbox, $2 last id.
  name: 'events-save-relay-cursor',
  text: `
INSERT INTO event_relay_cursors (outbox, last_id) VALUES ($1, $2::bigint)
ON CONFLICT (outbox) DO UPDATE
SET last_id = GREATEST(event_relay_cursors.last_id, EXCLUDED.last_id), updated_at = now()`,
  values: (p) => [p.outbox, p.lastId],
};

/** What became of a task's notification, kept in its options (the view answers it as smn_info). */
export const RECORD_SMN_RESULT: Statement<
  {
    readonly taskId: string;
    readonly projectId: string;
    readonly result: { readonly notified: boolean; readonly error: string | null };
  },
  never
> = {
  // $1 task, $2 project, $3 the result.
  name: 'events-record-smn-result',
  text: `
UPDATE task_details SET options = jsonb_set(options, '{smn_result}', $3::jsonb)
FROM tasks WHERE tasks.id = $1::bigint AND tasks.project_id = $2 AND task_details.task_id = tasks.id`,
  values: (p) => [p.taskId, p.projectId, JSON.stringify(p.result)],
};
