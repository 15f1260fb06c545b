// Applies a TASK_ACTIONS move to one task, atomically. The move is a single
// statement (task.sql.ts), picked by the action's row in the state table: a
// move to a status, one that also brings changes (start), or one to DELETED.
// It locks the task only if its status is one the action may leave, changes
// it (or deletes it) and writes the audit row, all or nothing. Of any number
// of concurrent identical moves exactly one finds the row still in a `from`
// status; the rest find nothing and are told why.

import { Inject, Injectable, Optional } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DependencyUnavailable, TaskNotFound } from '../common/oms-errors.js';
import { namedQuery, type HeldConnection } from '../database/named-query.js';
import { execute } from '../database/statement.js';
import { auditedWrite, findTaskWrite } from './audited-write.js';
import {
  checkTransition,
  DELETED,
  TASK_ACTIONS,
  TaskStatus,
  type TaskAction,
  type TaskActionName,
} from './task-state.js';
import {
  DELETE_TASK,
  MOVE_TASK,
  MOVE_TASK_WITH_CHANGES,
  PROJECT_HAS_WAITING,
  TASK_STATUS,
  type MovedRow,
  type MoveParams,
} from './task.sql.js';
import type { Caller } from '../iam/caller.js';
import { TRANSITION_OBSERVER, type TransitionObserver } from './transition-observer.js';

/**
 * What a move records of whoever asked for it: the Caller's user id (the
 * scheduler's own moves say "scheduler") goes into the audit row, with the
 * request id.
 */
export type MoveCaller = Pick<Caller, 'userId'>;

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
    caller: MoveCaller,
    requestId: string,
    changes: MoveChanges = {},
  ): Promise<MoveResult> {
    const spec: TaskAction = TASK_ACTIONS[action];
    if (!spec.withChanges && (changes.secrets !== undefined || changes.options !== undefined)) {
      throw new Error(`the ${action} action takes no changes`);
    }
    const params: MoveParams = {
      taskId,
      projectId,
      from: spec.from,
      action,
      userId: caller.userId,
      requestId,
    };
    const run = moveFor(spec, changes, params);
    // A retry is needed only when the task changed status between the move
    // and the look that explains its failure. Such a race is rare; if it
    // keeps happening the caller is told to retry (503), never misled.
    for (let attempt = 0; attempt < 3; attempt++) {
      const moved = await this.move(run, params);
      if (moved.length === 1) {
        this.observer?.transitioned(moved[0].from_status, spec.to);
        return { from: moved[0].from_status, projectHasWaiting: moved[0].project_has_waiting };
      }

      const [current] = await namedQuery(this.db, TASK_STATUS, { taskId, projectId });
      if (current === undefined) throw new TaskNotFound();
      checkTransition(action, current.status); // throws TaskTransitionRejected
    }
    throw new DependencyUnavailable('database');
  }

  /** Runs the move; a lost answer is settled by the move's audit row. */
  private move(
    run: (connection: HeldConnection) => Promise<MovedRow[]>,
    write: MoveParams,
  ): Promise<MovedRow[]> {
    return auditedWrite<MovedRow[]>(this.db, {
      run,
      findCommitted: async (tx) => {
        const found = await findTaskWrite(tx, write);
        if (found === undefined) return undefined;
        const [{ project_has_waiting }] = await execute(tx, PROJECT_HAS_WAITING, {
          projectId: write.projectId,
        });
        return [{ from_status: found.from as TaskStatus, project_has_waiting }];
      },
    });
  }
}

/**
 * The one of the literal move statements the action's row calls for, bound
 * to its parameters: to DELETED, to a status with changes (start), or to a
 * status and nothing else (stop: no jsonb rebuilt on the hot path).
 */
function moveFor(
  spec: TaskAction,
  changes: MoveChanges,
  params: MoveParams,
): (connection: HeldConnection) => Promise<MovedRow[]> {
  const to = spec.to;
  if (to === DELETED) return (connection) => connection.namedQuery(DELETE_TASK, params);
  if (spec.withChanges) {
    const withChanges = {
      ...params,
      to,
      secrets: changes.secrets ?? null,
      options: changes.options ?? {},
    };
    return (connection) => connection.namedQuery(MOVE_TASK_WITH_CHANGES, withChanges);
  }
  const toStatus = { ...params, to };
  return (connection) => connection.namedQuery(MOVE_TASK, toStatus);
}
