// Applies a SYNC_TASK_ACTIONS move to one sync task, atomically, as
// tasks/task-transitions.ts does for TASK_ACTIONS: the action's row picks
// one literal statement (sync-task.sql.ts), which locks the row only if its
// status is one the action may leave, moves or deletes it and writes the
// audit row; auditedWrite settles a lost answer by that row. Of any number
// of concurrent identical moves exactly one finds the row in a `from`
// status; the rest are told why by checkSyncTransition.

import { Inject, Injectable, Optional } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DependencyUnavailable, SyncTaskNotFound } from '../common/oms-errors.js';
import { namedQuery, type HeldConnection } from '../database/named-query.js';
import { execute } from '../database/statement.js';
import { auditedWrite } from '../tasks/audited-write.js';
import { DELETED } from '../tasks/task-state.js';
import type { MoveCaller } from '../tasks/task-transitions.js';
import {
  checkSyncTransition,
  SYNC_TASK_ACTIONS,
  type SyncTaskAction,
  type SyncTaskActionName,
  type SyncTaskStatus,
} from './sync-task-state.js';
import {
  AWAIT_SYNC_TASK_WRITES,
  DELETE_SYNC_TASK,
  LATEST_SYNC_AUDIT_ROW,
  MOVE_SYNC_TASK,
  MOVE_SYNC_TASK_WITH_CHANGES,
  SYNC_TASK_STATUS,
  type SyncMovedRow,
  type SyncMoveParams,
} from './sync-task.sql.js';
import {
  SYNC_TRANSITION_OBSERVER,
  type SyncTransitionObserver,
} from './sync-transition-observer.js';

@Injectable()
export class SyncTaskTransitions {
  constructor(
    private readonly db: DataSource,
    @Optional()
    @Inject(SYNC_TRANSITION_OBSERVER)
    private readonly observer?: SyncTransitionObserver,
  ) {}

  /**
   * Moves the sync task and says what it left; throws if it may not move.
   * `secrets` (sealed) is what a move withChanges (start) brings.
   */
  async apply(
    action: SyncTaskActionName,
    projectId: string,
    syncTaskId: string,
    caller: MoveCaller,
    requestId: string,
    secrets?: Buffer,
  ): Promise<SyncTaskStatus> {
    const spec: SyncTaskAction = SYNC_TASK_ACTIONS[action];
    if (Boolean(spec.withChanges) !== (secrets !== undefined)) {
      throw new Error(`the ${action} action ${spec.withChanges ? 'needs' : 'takes no'} changes`);
    }
    const params: SyncMoveParams = {
      syncTaskId,
      projectId,
      from: spec.from,
      action,
      userId: caller.userId,
      requestId,
    };
    const run = moveFor(spec, params, secrets);
    // As for tasks: a retry only when the row changed between the move and
    // the look that explains its failure; if that keeps happening, 503.
    for (let attempt = 0; attempt < 3; attempt++) {
      const moved = await auditedWrite<SyncMovedRow[]>(this.db, {
        run,
        findCommitted: async (tx) => {
          await execute(tx, AWAIT_SYNC_TASK_WRITES, params);
          const [row] = await execute(tx, LATEST_SYNC_AUDIT_ROW, params);
          return row && [{ from_status: row.from_status as SyncTaskStatus }];
        },
      });
      if (moved.length === 1) {
        this.observer?.syncTransitioned(moved[0].from_status, spec.to);
        return moved[0].from_status;
      }

      const [current] = await namedQuery(this.db, SYNC_TASK_STATUS, { syncTaskId, projectId });
      if (current === undefined) throw new SyncTaskNotFound();
      checkSyncTransition(action, current.status); // throws SyncTaskTransitionRejected
    }
    throw new DependencyUnavailable('database');
  }
}

/** The literal statement the action's row calls for, bound to its parameters. */
function moveFor(
  spec: SyncTaskAction,
  params: SyncMoveParams,
  secrets: Buffer | undefined,
): (connection: HeldConnection) => Promise<SyncMovedRow[]> {
  const to = spec.to;
  if (to === DELETED) return (connection) => connection.namedQuery(DELETE_SYNC_TASK, params);
  if (secrets !== undefined) {
    const withChanges = { ...params, to, secrets };
    return (connection) => connection.namedQuery(MOVE_SYNC_TASK_WITH_CHANGES, withChanges);
  }
  const toStatus = { ...params, to };
  return (connection) => connection.namedQuery(MOVE_SYNC_TASK, toStatus);
}
