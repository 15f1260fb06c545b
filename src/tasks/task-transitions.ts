// Applies a TASK_ACTIONS move to one task, atomically. The move is a single
// statement: lock the row only if its status is one the action may leave,
// update it, and write the audit row, all or nothing. Of any number of
// concurrent identical moves exactly one finds the row still in a `from`
// status; the rest find nothing and are told why.

import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DependencyUnavailable, TaskNotFound } from '../common/oms-errors.js';
import { mayHaveCommitted } from '../database/database-errors.js';
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

// Waits for any move of the task still running on the server (its row lock),
// so that the audit row looked up next is final.
const AWAIT_MOVES_SQL = 'SELECT 1 FROM tasks WHERE id = $1 AND project_id = $2 FOR UPDATE';
// The task's latest move, if it is this one: the same request and target.
// Only the latest, because request ids can repeat (a caller's own, reused);
// an older row with this id is an earlier request's.
const COMMITTED_MOVE_SQL = `
SELECT from_status FROM (
  SELECT from_status, to_status, request_id FROM task_transitions
  WHERE task_id = $1 AND project_id = $2 ORDER BY id DESC LIMIT 1
) latest
WHERE to_status = $3 AND request_id = $4`;

type Moved = { from_status: TaskStatus }[];

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
      const moved = await this.move([taskId, projectId, from, to, actor.userId, actor.requestId]);
      if (moved.length === 1) return moved[0].from_status;

      const [current]: { status: TaskStatus }[] = await this.db.query(CURRENT_STATUS_SQL, [
        taskId,
        projectId,
      ]);
      if (current === undefined) throw new TaskNotFound();
      checkTransition(action, current.status); // throws TaskTransitionRejected
    }
    throw new DependencyUnavailable('database');
  }

  /**
   * Runs MOVE_SQL. A connection lost after the statement went out leaves its
   * outcome unknown: the server may have committed it and lost only the
   * answer. The audit row, which names this request, tells; if it cannot be
   * looked at either, the original error stands (503).
   */
  private async move(params: [string, string, readonly TaskStatus[], TaskStatus, string, string]) {
    const runner = this.db.createQueryRunner();
    await runner.connect(); // failing here, nothing was sent
    let lost: unknown;
    try {
      return (await runner.query(MOVE_SQL, params)) as Moved;
    } catch (error) {
      if (!mayHaveCommitted(error)) throw error;
      lost = error;
    } finally {
      // Before the look below: under load, holding this connection while
      // waiting for another could drain the pool.
      await runner.release();
    }
    const [taskId, projectId, , to, , requestId] = params;
    const committed = await this.db
      .transaction(async (tx) => {
        await tx.query(AWAIT_MOVES_SQL, [taskId, projectId]);
        return (await tx.query(COMMITTED_MOVE_SQL, [taskId, projectId, to, requestId])) as Moved;
      })
      .catch((): Moved => []);
    if (committed.length === 0) throw lost;
    return committed.slice(0, 1);
  }
}
