// The task state machine, as data. Every status change anywhere in the
// service is one of TASK_ACTIONS and is checked by checkTransition(); the
// database performs the same check atomically (the action's `from` list
// becomes the UPDATE's WHERE clause), so the table below is the single
// source of truth for both.

import { OmsError, type OmsErrorCode } from '../common/oms-errors.js';

export enum TaskStatus {
  Waiting = 1,
  Migrating = 2,
  Paused = 3,
  Failed = 4,
  Succeeded = 5,
  Retrying = 6,
  Pausing = 7,
}

export const TASK_STATUS_NAMES: Readonly<Record<TaskStatus, string>> = {
  [TaskStatus.Waiting]: 'waiting',
  [TaskStatus.Migrating]: 'migrating',
  [TaskStatus.Paused]: 'paused',
  [TaskStatus.Failed]: 'failed',
  [TaskStatus.Succeeded]: 'succeeded',
  [TaskStatus.Retrying]: 'retrying',
  [TaskStatus.Pausing]: 'pausing',
};

/** Where a task goes: a status, or DELETED when its row is removed. */
export const DELETED = null;
export type TaskDestination = TaskStatus | typeof DELETED;

/** The status every new task starts in (create writes its audit row as null → this). */
export const INITIAL_STATUS = TaskStatus.Waiting;

/** Every move the contract knows, whoever makes it (user, scheduler or data plane). */
export const NEXT_STATUSES: Readonly<Record<TaskStatus, readonly TaskDestination[]>> = {
  // Waiting → paused: a group stop pauses its tasks that are not yet admitted too.
  [TaskStatus.Waiting]: [TaskStatus.Migrating, TaskStatus.Paused, DELETED],
  [TaskStatus.Migrating]: [
    TaskStatus.Paused,
    TaskStatus.Pausing,
    TaskStatus.Failed,
    TaskStatus.Succeeded,
    TaskStatus.Retrying,
  ],
  [TaskStatus.Paused]: [TaskStatus.Waiting, DELETED],
  [TaskStatus.Failed]: [TaskStatus.Waiting, DELETED],
  [TaskStatus.Succeeded]: [DELETED],
  [TaskStatus.Retrying]: [TaskStatus.Migrating, TaskStatus.Failed],
  [TaskStatus.Pausing]: [TaskStatus.Paused],
};

/**
 * One move of a state table, whatever its statuses are: task statuses are
 * numbers, sync-task statuses strings (sync-tasks/sync-task-state.ts). Both
 * tables are checked by moveAllowed() and applied the same way.
 */
export interface StateAction<S extends string | number> {
  readonly from: readonly S[];
  /** A status, or DELETED when the row is removed. */
  readonly to: S | typeof DELETED;
  /** The error code when the row is in a status the action cannot leave. */
  readonly rejectedWith: OmsErrorCode;
  /** Statuses for which the rejection has a more specific code. */
  readonly rejectedWithFrom?: Partial<Record<S, OmsErrorCode>>;
  /** The move also replaces the row's keys and merges options (start brings them). */
  readonly withChanges?: true;
}

/** Task moves only: who may make them and what they do to a worker's lease. */
export interface TaskAction extends StateAction<TaskStatus> {
  /**
   * Where the move goes instead while a worker holds a live lease on the
   * task: a stop of a task being moved asks its worker to drain (2 → 7),
   * one of a task no worker holds pauses it at once (2 → 3).
   */
  readonly whileLeased?: TaskStatus;
  /** Only the worker holding the task's lease may make the move (worker/). */
  readonly byLeaseHolder?: true;
  /** The move ends the task's lease: its worker has nothing left to do. */
  readonly endsLease?: true;
}

/** Whether the action may leave `current`: listed in its `from` and a move the contract knows. */
export function moveAllowed<S extends string | number>(
  spec: StateAction<S>,
  nextStatuses: Readonly<Record<S, readonly (S | typeof DELETED)[]>>,
  current: S,
): boolean {
  return spec.from.includes(current) && nextStatuses[current].includes(spec.to);
}

/** The code a refused move answers with, from `current`. */
export function rejectionCode<S extends string | number>(
  spec: StateAction<S>,
  current: S,
): OmsErrorCode {
  return spec.rejectedWithFrom?.[current] ?? spec.rejectedWith;
}

/** The moves this service performs. */
export const TASK_ACTIONS = {
  stop: {
    from: [TaskStatus.Migrating],
    to: TaskStatus.Paused,
    whileLeased: TaskStatus.Pausing,
    rejectedWith: 'OMS.0066',
  },
  start: {
    from: [TaskStatus.Paused, TaskStatus.Failed],
    to: TaskStatus.Waiting,
    rejectedWith: 'OMS.0065',
    rejectedWithFrom: { [TaskStatus.Succeeded]: 'OMS.0070' },
    withChanges: true,
  },
  admit: { from: [TaskStatus.Waiting], to: TaskStatus.Migrating, rejectedWith: 'OMS.0065' },
  delete: {
    from: [TaskStatus.Waiting, TaskStatus.Paused, TaskStatus.Failed, TaskStatus.Succeeded],
    to: DELETED,
    rejectedWith: 'OMS.0063',
  },
  /**
   * The tasks' side of a group stop (task-groups/): every task of the group
   * that is waiting or migrating, in one set-based statement.
   */
  group_stop: {
    from: [TaskStatus.Waiting, TaskStatus.Migrating],
    to: TaskStatus.Paused,
    whileLeased: TaskStatus.Pausing,
    rejectedWith: 'OMS.0066',
  },
  /** The tasks' side of a group start or retry: back to waiting, with fresh keys. */
  group_start: {
    from: [TaskStatus.Paused, TaskStatus.Failed],
    to: TaskStatus.Waiting,
    rejectedWith: 'OMS.0065',
    withChanges: true,
  },

  // The data plane's moves (worker/): made by the worker holding the task's
  // lease, reporting what happened to the data. A task that is pausing can
  // only be confirmed paused: a worker told to pause reports paused, even if
  // it finished meanwhile (the next lease finds nothing left and succeeds).

  /** The worker has drained after a stop. */
  confirm_pause: {
    from: [TaskStatus.Pausing],
    to: TaskStatus.Paused,
    rejectedWith: 'OMS.0066',
    byLeaseHolder: true,
    endsLease: true,
  },
  succeed: {
    from: [TaskStatus.Migrating],
    to: TaskStatus.Succeeded,
    rejectedWith: 'OMS.0066',
    byLeaseHolder: true,
    endsLease: true,
  },
  fail: {
    from: [TaskStatus.Migrating, TaskStatus.Retrying],
    to: TaskStatus.Failed,
    rejectedWith: 'OMS.0066',
    byLeaseHolder: true,
    endsLease: true,
  },
  /** The worker goes back over the objects that failed (2 → 6). */
  retry_objects: {
    from: [TaskStatus.Migrating],
    to: TaskStatus.Retrying,
    rejectedWith: 'OMS.0066',
    byLeaseHolder: true,
  },
  /** The retry pass is over; the migration goes on (6 → 2). */
  resume: {
    from: [TaskStatus.Retrying],
    to: TaskStatus.Migrating,
    rejectedWith: 'OMS.0065',
    byLeaseHolder: true,
  },
  /**
   * The lease sweep's move: a pausing task whose worker stopped renewing its
   * lease (it died, or lost the service) is paused, since nobody moves it.
   */
  lease_expire: {
    from: [TaskStatus.Pausing],
    to: TaskStatus.Paused,
    rejectedWith: 'OMS.0066',
    endsLease: true,
  },
} as const satisfies Record<string, TaskAction>;

export type TaskActionName = keyof typeof TASK_ACTIONS;

/**
 * Changes of a task that are not moves: the status stays as it is, and the
 * audit row says so (from = to = the status). Each lists the statuses it may
 * be made in; the write's WHERE clause is this list. Not status transitions,
 * so the transition metrics do not count them.
 */
export const TASK_EDITS = {
  /** Every status but succeeded: a finished task's bandwidth no longer matters. */
  update_bandwidth: {
    in: [
      TaskStatus.Waiting,
      TaskStatus.Migrating,
      TaskStatus.Paused,
      TaskStatus.Failed,
      TaskStatus.Retrying,
      TaskStatus.Pausing,
    ],
  },
  /**
   * A batch update of bandwidth policies (POST tasks/batch-update): the
   * statuses of update_bandwidth.
   */
  batch_update: {
    in: [
      TaskStatus.Waiting,
      TaskStatus.Migrating,
      TaskStatus.Paused,
      TaskStatus.Failed,
      TaskStatus.Retrying,
      TaskStatus.Pausing,
    ],
  },
  /**
   * A batch update that also sets task_priority: OMS changes a priority only
   * while the task is not running (waiting, paused or failed).
   */
  batch_priority: {
    in: [TaskStatus.Waiting, TaskStatus.Paused, TaskStatus.Failed],
  },
  /** A worker takes the task's lease (worker/): the statuses a worker moves data in. */
  lease: {
    in: [TaskStatus.Migrating, TaskStatus.Retrying],
  },
} as const satisfies Record<string, { readonly in: readonly TaskStatus[] }>;

export type TaskEditName = keyof typeof TASK_EDITS;

/** What an audit row records: a creation, a move or an edit (at most 16 characters). */
export type AuditAction = 'create' | TaskActionName | TaskEditName;

export function isTaskStatus(value: unknown): value is TaskStatus {
  return typeof value === 'number' && value in TASK_STATUS_NAMES;
}

export class TaskTransitionRejected extends OmsError {
  constructor(
    readonly action: TaskActionName,
    readonly from: TaskStatus,
  ) {
    super(
      rejectionCode<TaskStatus>(TASK_ACTIONS[action], from),
      `The task cannot be ${ACTION_PAST_TENSE[action]}: its status is ${from} (${TASK_STATUS_NAMES[from]}).`,
    );
  }
}

/**
 * An edit refused for the status of one of its tasks: a task that has
 * succeeded is OMS.0070, as for update_bandwidth; one still running (the
 * priority of a migrating task) is OMS.0063, as delete refuses it.
 */
export class TaskEditRejected extends OmsError {
  constructor(
    readonly edit: TaskEditName,
    readonly taskId: string,
    readonly from: TaskStatus,
  ) {
    super(
      from === TaskStatus.Succeeded ? 'OMS.0070' : 'OMS.0063',
      `Task ${taskId} cannot be changed: its status is ${from} (${TASK_STATUS_NAMES[from]}); nothing was changed.`,
    );
  }
}

const ACTION_PAST_TENSE: Record<TaskActionName, string> = {
  stop: 'paused, it is not migrating',
  start: 'started',
  admit: 'admitted',
  delete: 'deleted while it is running; pause it first',
  group_stop: 'paused with its group',
  group_start: 'started with its group',
  confirm_pause: 'confirmed paused, it is not pausing',
  succeed: 'marked succeeded, it is not migrating',
  fail: 'marked failed, it is not migrating or retrying',
  retry_objects: 'put to retrying, it is not migrating',
  resume: 'resumed, it is not retrying',
  lease_expire: 'paused by the lease sweep, it is not pausing',
};

/** Where the action leads from `current`, or TaskTransitionRejected. */
export function checkTransition(action: TaskActionName, current: TaskStatus): TaskDestination {
  const spec: TaskAction = TASK_ACTIONS[action];
  if (!moveAllowed(spec, NEXT_STATUSES, current)) {
    throw new TaskTransitionRejected(action, current);
  }
  return spec.to;
}
