// The sync-task state machine, as data: the second table of moves beside
// TASK_ACTIONS (tasks/task-state.ts), checked by the same moveAllowed() and
// applied the same way (one statement per move, the action's `from` list as
// its WHERE clause, the audit row in the same statement, auditedWrite
// settling a lost answer). Statuses are the strings OMS shows.

import { OmsError } from '../common/oms-errors.js';
import { DELETED, moveAllowed, rejectionCode, type StateAction } from '../tasks/task-state.js';

export const SYNC_TASK_STATUSES = ['SYNCHRONIZING', 'STOPPED'] as const;
export type SyncTaskStatus = (typeof SYNC_TASK_STATUSES)[number];

export type SyncTaskDestination = SyncTaskStatus | typeof DELETED;

/** A sync task synchronizes from its creation on: no start call is needed. */
export const SYNC_INITIAL_STATUS: SyncTaskStatus = 'SYNCHRONIZING';

/** Every move the contract knows for a sync task. */
export const SYNC_NEXT_STATUSES: Readonly<Record<SyncTaskStatus, readonly SyncTaskDestination[]>> =
  {
    SYNCHRONIZING: ['STOPPED'],
    STOPPED: ['SYNCHRONIZING', DELETED],
  };

export type SyncTaskAction = StateAction<SyncTaskStatus>;

/** The moves this service performs on sync tasks. */
export const SYNC_TASK_ACTIONS = {
  stop: { from: ['SYNCHRONIZING'], to: 'STOPPED', rejectedWith: 'OMS.0066' },
  start: { from: ['STOPPED'], to: 'SYNCHRONIZING', rejectedWith: 'OMS.0065', withChanges: true },
  delete: { from: ['STOPPED'], to: DELETED, rejectedWith: 'OMS.0063' },
} as const satisfies Record<string, SyncTaskAction>;

export type SyncTaskActionName = keyof typeof SYNC_TASK_ACTIONS;

/** What a sync-task audit row records: its creation or a move (at most 16 characters). */
export type SyncAuditAction = 'create' | SyncTaskActionName;

export function isSyncTaskStatus(value: unknown): value is SyncTaskStatus {
  return (SYNC_TASK_STATUSES as readonly unknown[]).includes(value);
}

export class SyncTaskTransitionRejected extends OmsError {
  constructor(
    readonly action: SyncTaskActionName,
    readonly from: SyncTaskStatus,
  ) {
    super(
      rejectionCode<SyncTaskStatus>(SYNC_TASK_ACTIONS[action], from),
      `The sync task cannot be ${ACTION_PAST_TENSE[action]}: its status is ${from}.`,
    );
  }
}

const ACTION_PAST_TENSE: Record<SyncTaskActionName, string> = {
  stop: 'stopped, it is not synchronizing',
  start: 'started, it is not stopped',
  delete: 'deleted while it is synchronizing; stop it first',
};

/** Where the action leads from `current`, or SyncTaskTransitionRejected. */
export function checkSyncTransition(
  action: SyncTaskActionName,
  current: SyncTaskStatus,
): SyncTaskDestination {
  const spec: SyncTaskAction = SYNC_TASK_ACTIONS[action];
  if (!moveAllowed(spec, SYNC_NEXT_STATUSES, current)) {
    throw new SyncTaskTransitionRejected(action, current);
  }
  return spec.to;
}
