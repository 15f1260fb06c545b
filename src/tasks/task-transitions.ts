// Applies a TASK_ACTIONS move to one task, atomically. The move is a single
// statement: lock the row only if its status is one the action may leave,
// update it, and write the audit row, all or nothing. Of any number of
// concurrent identical moves exactly one finds the row still in a `from`
// status; the rest find nothing and are told why.

import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DependencyUnavailable, TaskNotFound } from '../common/oms-errors.js';
import { namedQuery } from '../database/named-query.js';
import {
  checkTransition,
  TASK_ACTIONS,
  type TaskActionName,
  type TaskStatus,
} from './task-state.js';

export interface Actor {
  /** IAM user id, or "scheduler" for moves the service makes itself. */
  readonly userId: string;
  readonly requestId: string;
}

const MOVE_SQL = `
WITH locked AS (
  SELECT id, project_id, status FROM tasks
  WHERE id = $1 AND project_id = $2 AND status = ANY($3::smallint[])
  FOR UPDATE
), moved AS (
  UPDATE tasks SET status = $4, updated_at = now()
  FROM locked WHERE tasks.id = locked.id
  RETURNING tasks.id, tasks.project_id, locked.status AS from_status
)
INSERT INTO task_transitions (task_id, project_id, from_status, to_status, user_id, request_id)
SELECT id, project_id, from_status, $4, $5, $6 FROM moved
RETURNING from_status`;

const CURRENT_STATUS_SQL = 'SELECT status FROM tasks WHERE id = $1 AND project_id = $2';

@Injectable()
export class TaskTransitions {
  constructor(private readonly db: DataSource) {}

  /** Moves the task and returns the status it left; throws if it may not move. */
  async apply(
    action: TaskActionName,
    projectId: string,
    taskId: string,
    actor: Actor,
  ): Promise<TaskStatus> {
    const { from, to } = TASK_ACTIONS[action];
    // A retry is needed only when the task changed status between the move
    // and the look that explains its failure. Such a race is rare; if it
    // keeps happening the caller is told to retry (503), never misled.
    for (let attempt = 0; attempt < 3; attempt++) {
      const moved = await namedQuery<{ from_status: TaskStatus }>(
        this.db,
        `task-move-${action}`,
        MOVE_SQL,
        [taskId, projectId, from, to, actor.userId, actor.requestId],
      );
      if (moved.length === 1) return moved[0].from_status;

      const [current] = await namedQuery<{ status: TaskStatus }>(
        this.db,
        'task-current-status',
        CURRENT_STATUS_SQL,
        [taskId, projectId],
      );
      if (current === undefined) throw new TaskNotFound();
      checkTransition(action, current.status); // throws TaskTransitionRejected
    }
    throw new DependencyUnavailable('database');
  }
}
