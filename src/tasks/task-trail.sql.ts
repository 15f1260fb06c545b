// The statement behind GET /v2/{project_id}/tasks/{task_id}/transitions:
// one page of a task's audit trail, read from task_transitions alone, so a
// deleted task's trail stays readable (the table has no foreign key to
// tasks). Kept apart from task.sql.ts, which holds the statements that write.

import type { Statement } from '../database/statement.js';
import type { AuditAction, TaskStatus } from './task-state.js';

/** Which page of whose trail. */
export interface TrailPageParams {
  readonly taskId: string;
  readonly projectId: string;
  readonly limit: number;
  readonly offset: number;
}

/**
 * Every row carries the totals; the audit row's fields are null on the one
 * row that comes back when the page is empty (past the end, or no trail).
 */
export interface TrailPageRow {
  /** Audit rows of the task in this project, not only this page. */
  count: number;
  /** Whether the task itself still exists (an operator's may have no audit row). */
  task_exists: boolean;
  id: string | null;
  created_at: Date | null;
  action: AuditAction | null;
  from_status: TaskStatus | null;
  to_status: TaskStatus | null;
  user_id: string | null;
  request_id: string | null;
}

/**
 * The count and the page in one statement, so both come from one snapshot:
 * a page never holds a row the count has not seen. Oldest first by id: ids
 * grow in commit order, so a move made while a client pages lands on the
 * last page and never shifts a page already read. The page walks the
 * (task_id, id) index in order and stops after limit + offset rows.
 */
export const TASK_TRAIL_PAGE: Statement<TrailPageParams, TrailPageRow> = {
  // $1 task, $2 project, $3 limit, $4 offset.
  name: 'task-trail-page',
  text: `
SELECT total.count, total.task_exists, page.id, page.created_at, page.action,
       page.from_status, page.to_status, page.user_id, page.request_id
FROM (
  SELECT count(*)::int AS count,
         EXISTS (SELECT 1 FROM tasks WHERE id = $1 AND project_id = $2) AS task_exists
  FROM task_transitions WHERE task_id = $1 AND project_id = $2
) total
LEFT JOIN LATERAL (
  SELECT id, created_at, action, from_status, to_status, user_id, request_id
  FROM task_transitions WHERE task_id = $1 AND project_id = $2
  ORDER BY id LIMIT $3 OFFSET $4
) page ON true
ORDER BY page.id`,
  values: (p) => [p.taskId, p.projectId, p.limit, p.offset],
};
