// Applies a TASK_ACTIONS move to one task, atomically. The move is a single
// statement (task.sql.ts), picked by the action's row in the state table: a
// move to a status, one that also brings changes (start), or one to DELETED.
// It locks the task only if its status is one the action may leave, changes
// it (or deletes it) and writes the audit row, all or nothing. Of any number
// of concurrent identical moves exactly one finds the row still in a `from`
// status; the rest find nothing and are told why.
//
// The data plane's moves (byLeaseHolder in the state table) are the same
// mechanism with one more condition: the row must be leased to the worker
// that asks (worker/).

import { Inject, Injectable, Optional } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CLOCK, type Clock } from '../common/clock.js';
import { DependencyUnavailable, LeaseNotHeld, TaskNotFound } from '../common/oms-errors.js';
import type { HeldConnection } from '../database/named-query.js';
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
  MOVE_LEASED_TASK,
  MOVE_TASK,
  MOVE_TASK_WITH_CHANGES,
  type LeaseHolder,
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

/**
 * What a move brings besides the status: new keys and options (a move
 * withChanges: start), or the lease it is made under (byLeaseHolder: the
 * data plane's moves) with a failure's reason.
 */
export interface MoveChanges {
  /** Sealed TaskSecrets replacing the stored ones. */
  readonly secrets?: Buffer;
  /** Merged into the task's options. */
  readonly options?: Record<string, unknown>;
  readonly lease?: LeaseHolder;
  /** OMS's error_reason object, recorded with a failure. */
  readonly errorReason?: Record<string, unknown>;
}

export interface MoveResult {
  readonly from: TaskStatus;
  /** Where the task went: null when deleted. */
  readonly to: TaskStatus | null;
}

@Injectable()
export class TaskTransitions {
  constructor(
    private readonly db: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
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
    if (Boolean(spec.byLeaseHolder) !== (changes.lease !== undefined)) {
      throw new Error(
        `the ${action} action is made ${spec.byLeaseHolder ? 'only' : 'never'} under a lease`,
      );
    }
    const params: MoveParams = {
      taskId,
      projectId,
      from: spec.from,
      action,
      userId: caller.userId,
      requestId,
    };
    const run = moveFor(spec, changes, params, new Date(this.clock.now()));
    // A retry is needed only when the task changed status after the move's
    // snapshot was taken (it waited for the row and found it moved on). Such
    // a race is rare; if it keeps happening the caller is told to retry
    // (503), never misled.
    for (let attempt = 0; attempt < 3; attempt++) {
      const moved = await this.move(run, params);
      const { from_status: from, to_status: to, status_seen } = moved;
      if (from !== null) {
        this.observer?.transitioned(from, to);
        return { from, to };
      }

      // Nothing moved: the statement says what it found instead.
      if (status_seen === null) throw new TaskNotFound();
      checkTransition(action, status_seen); // throws TaskTransitionRejected
      // The status allowed the move as the statement's snapshot saw it: the
      // task moved on meanwhile (the next attempt sees how), or, for a data
      // plane's move seen so twice, the lease was what stopped it.
      if (spec.byLeaseHolder && attempt > 0) throw new LeaseNotHeld();
    }
    throw new DependencyUnavailable('database');
  }

  /** Runs the move; a lost answer is settled by the move's audit row. */
  private move(
    run: (connection: HeldConnection) => Promise<MovedRow[]>,
    write: MoveParams,
  ): Promise<MovedRow> {
    return auditedWrite<MovedRow>(this.db, {
      run: async (connection) => (await run(connection))[0],
      findCommitted: async (tx) => {
        const found = await findTaskWrite(tx, write);
        if (found === undefined) return undefined;
        const from = found.from as TaskStatus;
        return { from_status: from, to_status: found.to, status_seen: from };
      },
    });
  }
}

// MOVE_TASK leaves the one status it is given: every action it makes (no
// changes, no lease, not a deletion, not a group's) must name exactly one.
// Checked once, when the module loads, rather than on every stop.
for (const [name, spec] of Object.entries(TASK_ACTIONS) as [string, TaskAction][]) {
  const plain = spec.to !== DELETED && !spec.withChanges && !spec.byLeaseHolder;
  if (plain && !name.startsWith('group_') && spec.from.length !== 1) {
    throw new Error(`the ${name} action is a plain move from ${spec.from.length} statuses`);
  }
}

/**
 * The one of the literal move statements the action's row calls for, bound
 * to its parameters: to DELETED, to a status with changes (start), under a
 * worker's lease (the data plane's), or to a status and nothing else (stop:
 * no jsonb rebuilt on the hot path).
 *
 * Each statement's parameters are one object literal naming every field, not
 * `{ ...params, to, … }`: on Node 20 a spread followed by more properties
 * builds the object on V8's slow path (new hidden-class transitions each
 * time), about 1.5 µs per added property, 4–7 µs per stop in a loop here.
 */
function moveFor(
  spec: TaskAction,
  changes: MoveChanges,
  params: MoveParams,
  now: Date,
): (connection: HeldConnection) => Promise<MovedRow[]> {
  const to = spec.to;
  if (to === DELETED) return (connection) => connection.namedQuery(DELETE_TASK, params);
  if (changes.lease) {
    const leased = {
      taskId: params.taskId,
      projectId: params.projectId,
      from: params.from,
      action: params.action,
      userId: params.userId,
      requestId: params.requestId,
      leaseId: changes.lease.leaseId,
      workerId: changes.lease.workerId,
      to,
      endsLease: spec.endsLease === true,
      errorReason: changes.errorReason ?? null,
    };
    return (connection) => connection.namedQuery(MOVE_LEASED_TASK, leased);
  }
  if (spec.withChanges) {
    const withChanges = {
      taskId: params.taskId,
      projectId: params.projectId,
      from: params.from,
      action: params.action,
      userId: params.userId,
      requestId: params.requestId,
      to,
      secrets: changes.secrets ?? null,
      options: changes.options ?? {},
    };
    return (connection) => connection.namedQuery(MOVE_TASK_WITH_CHANGES, withChanges);
  }
  const toStatus = {
    taskId: params.taskId,
    projectId: params.projectId,
    from: params.from,
    action: params.action,
    userId: params.userId,
    requestId: params.requestId,
    to,
    whileLeased: spec.whileLeased ?? to,
    now,
  };
  return (connection) => connection.namedQuery(MOVE_TASK, toStatus);
}
