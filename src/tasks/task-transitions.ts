// Applies a TASK_ACTIONS move to one task, atomically. The move is a single
// statement, built from the action's row in the state table: lock the task
// only if its status is one the action may leave, change it (or delete it),
// and write the audit row, all or nothing. Of any number of concurrent
// identical moves exactly one finds the row still in a `from` status; the
// rest find nothing and are told why.

import { Inject, Injectable, Optional } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DependencyUnavailable, TaskNotFound } from '../common/oms-errors.js';
import { namedQuery } from '../database/named-query.js';
import { auditedWrite, findTaskWrite } from './audited-write.js';
import {
  checkTransition,
  DELETED,
  TASK_ACTIONS,
  TaskStatus,
  type TaskAction,
  type TaskActionName,
} from './task-state.js';
import { TRANSITION_OBSERVER, type TransitionObserver } from './transition-observer.js';

export interface Actor {
  /** IAM user id, or "scheduler" for moves the service makes itself. */
  readonly userId: string;
  readonly requestId: string;
}

/** What a move withChanges (start) changes besides the status: new keys, options. */
export interface MoveChanges {
  /** Sealed TaskSecrets replacing the stored ones. */
  readonly secrets?: Buffer;
  /** Merged into the task's options. */
  readonly options?: Record<string, unknown>;
}

export interface MoveResult {
  readonly from: TaskStatus;
  /** Whether the project has waiting tasks, so the scheduler may have work. */
  readonly projectHasWaiting: boolean;
}

// $1 task id, $2 project, $3 from statuses, $4 user, $5 request id; a move
// to a status adds $6 that status, and a move withChanges $7 sealed secrets
// or NULL, $8 options to merge. (Each statement gets exactly the parameters
// it uses: PostgreSQL wants a type for every parameter it is given.)
const LOCK = `
WITH locked AS (
  SELECT id, project_id, status FROM tasks
  WHERE id = $1 AND project_id = $2 AND status = ANY($3::smallint[])
  FOR UPDATE
)`;

const AUDIT = (action: TaskActionName, source: string, to: string) => `
INSERT INTO task_transitions (task_id, project_id, action, from_status, to_status, user_id, request_id)
SELECT id, project_id, '${action}', from_status, ${to}, $4, $5 FROM ${source}
RETURNING from_status,
  EXISTS (SELECT 1 FROM tasks WHERE project_id = $2 AND status = ${TaskStatus.Waiting}) AS project_has_waiting`;

// Only what the action changes: a stop writes the status and the time, and
// nothing else of the row (no jsonb to rebuild on the hot path).
const CHANGES = `,
    secrets = COALESCE($7::bytea, tasks.secrets), options = tasks.options || $8::jsonb`;

function moveSql(action: TaskActionName): string {
  const spec: TaskAction = TASK_ACTIONS[action];
  if (spec.to === DELETED) {
    return `${LOCK}, removed AS (
  DELETE FROM tasks USING locked WHERE tasks.id = locked.id
  RETURNING tasks.id, tasks.project_id, locked.status AS from_status
)${AUDIT(action, 'removed', 'NULL')}`;
  }
  return `${LOCK}, moved AS (
  UPDATE tasks SET status = $6, updated_at = now()${spec.withChanges ? CHANGES : ''}
  FROM locked WHERE tasks.id = locked.id
  RETURNING tasks.id, tasks.project_id, locked.status AS from_status
)${AUDIT(action, 'moved', '$6::smallint')}`;
}

const MOVE_SQL = Object.fromEntries(
  (Object.keys(TASK_ACTIONS) as TaskActionName[]).map((action) => [action, moveSql(action)]),
) as Record<TaskActionName, string>;

const CURRENT_STATUS_SQL = 'SELECT status FROM tasks WHERE id = $1 AND project_id = $2';

// After a lost answer, the committed move's audit row says what the move
// found; whether the project has waiting tasks is looked at again.
const PROJECT_HAS_WAITING_SQL = `
SELECT EXISTS (SELECT 1 FROM tasks WHERE project_id = $1 AND status = ${TaskStatus.Waiting}) AS project_has_waiting`;

type Moved = { from_status: TaskStatus; project_has_waiting: boolean }[];

@Injectable()
export class TaskTransitions {
  constructor(
    private readonly db: DataSource,
    @Optional() @Inject(TRANSITION_OBSERVER) private readonly observer?: TransitionObserver,
  ) {}

  /** Moves the task and says what it left; throws if it may not move. */
  async apply(
    action: TaskActionName,
    projectId: string,
    taskId: string,
    actor: Actor,
    changes: MoveChanges = {},
  ): Promise<MoveResult> {
    const { from, to, withChanges }: TaskAction = TASK_ACTIONS[action];
    if (!withChanges && (changes.secrets !== undefined || changes.options !== undefined)) {
      throw new Error(`the ${action} action takes no changes`);
    }
    // A retry is needed only when the task changed status between the move
    // and the look that explains its failure. Such a race is rare; if it
    // keeps happening the caller is told to retry (503), never misled.
    for (let attempt = 0; attempt < 3; attempt++) {
      const params: unknown[] = [taskId, projectId, from, actor.userId, actor.requestId];
      if (to !== DELETED) params.push(to);
      if (withChanges) {
        params.push(changes.secrets ?? null, JSON.stringify(changes.options ?? {}));
      }
      const moved = await this.move(action, params);
      if (moved.length === 1) {
        this.observer?.transitioned(moved[0].from_status, to);
        return { from: moved[0].from_status, projectHasWaiting: moved[0].project_has_waiting };
      }

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

  /** Runs the action's MOVE_SQL; a lost answer is settled by the move's audit row. */
  private move(action: TaskActionName, params: unknown[]): Promise<Moved> {
    const [taskId, projectId, , , requestId] = params as string[];
    return auditedWrite<Moved>(this.db, {
      run: (connection) =>
        connection.namedQuery<Moved[number]>(`task-move-${action}`, MOVE_SQL[action], params),
      findCommitted: async (tx) => {
        const found = await findTaskWrite(tx, { taskId, projectId, action, requestId });
        if (found === undefined) return undefined;
        const [{ project_has_waiting }]: Moved = await tx.query(PROJECT_HAS_WAITING_SQL, [
          projectId,
        ]);
        return [{ from_status: found.from as TaskStatus, project_has_waiting }];
      },
    });
  }
}
