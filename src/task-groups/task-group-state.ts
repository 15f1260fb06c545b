// The task-group state machine, as data, like TASK_ACTIONS for tasks: every
// status change of a group is one row of GROUP_ACTIONS, and the group's row
// lock plus the row's `from` list decide it atomically (task-groups.service).
// Each group move names the task move it applies to the group's tasks, so
// the tasks change through their own table too.

import { OmsError, type OmsErrorCode } from '../common/oms-errors.js';
import type { TaskActionName } from '../tasks/task-state.js';

export enum GroupStatus {
  Waiting = 0,
  CreatingTasks = 1,
  Monitoring = 2,
  Paused = 3,
  CreationFailed = 4,
  MigrationFailed = 5,
  Completed = 6,
  Pausing = 7,
  WaitingForDeletion = 8,
  Deleting = 9,
}

export const GROUP_STATUS_NAMES: Readonly<Record<GroupStatus, string>> = {
  [GroupStatus.Waiting]: 'waiting',
  [GroupStatus.CreatingTasks]: 'creating tasks',
  [GroupStatus.Monitoring]: 'monitoring',
  [GroupStatus.Paused]: 'paused',
  [GroupStatus.CreationFailed]: 'task creation failed',
  [GroupStatus.MigrationFailed]: 'migration failed',
  [GroupStatus.Completed]: 'migration completed',
  [GroupStatus.Pausing]: 'pausing',
  [GroupStatus.WaitingForDeletion]: 'waiting for deletion',
  [GroupStatus.Deleting]: 'deleting',
};

/**
 * The status a group has once create commits. (ours) Create inserts the
 * group and all its tasks in one transaction, so 0 (waiting) and 1
 * (creating tasks) are never visible: the group is 2 (monitoring) from the
 * first moment anyone can read it.
 */
export const GROUP_INITIAL_STATUS = GroupStatus.Monitoring;

/** Where a group goes: a status, or deletion. */
export const GROUP_DELETED = null;

export interface GroupAction {
  readonly from: readonly GroupStatus[];
  readonly to: GroupStatus | typeof GROUP_DELETED;
  readonly rejectedWith: OmsErrorCode;
  /** The TASK_ACTIONS move applied to every task of the group (set-based). */
  readonly tasks: TaskActionName;
  /**
   * Where the group goes instead while some of its tasks are still being
   * drained by their workers (a stop: 7, until the last confirms).
   */
  readonly whileTasksPausing?: GroupStatus;
}

export const GROUP_ACTIONS = {
  stop: {
    from: [GroupStatus.CreatingTasks, GroupStatus.Monitoring],
    to: GroupStatus.Paused,
    whileTasksPausing: GroupStatus.Pausing,
    rejectedWith: 'OMS.0066',
    tasks: 'group_stop',
  },
  start: {
    from: [GroupStatus.Paused],
    to: GroupStatus.Monitoring,
    rejectedWith: 'OMS.0065',
    tasks: 'group_start',
  },
  retry: {
    from: [GroupStatus.CreationFailed, GroupStatus.MigrationFailed],
    to: GroupStatus.Monitoring,
    rejectedWith: 'OMS.0065',
    tasks: 'group_start',
  },
  delete: {
    // Refused while 1, 2 or 7: tasks are being created or may be running.
    from: [
      GroupStatus.Waiting,
      GroupStatus.Paused,
      GroupStatus.CreationFailed,
      GroupStatus.MigrationFailed,
      GroupStatus.Completed,
      GroupStatus.WaitingForDeletion,
      GroupStatus.Deleting,
    ],
    to: GROUP_DELETED,
    rejectedWith: 'OMS.0063',
    tasks: 'delete',
  },
} as const satisfies Record<string, GroupAction>;

export type GroupActionName = keyof typeof GROUP_ACTIONS;

/** How many of a group's tasks are where, for GROUP_SETTLEMENTS. */
export interface GroupTaskCounts {
  readonly pausing: number;
  /** Neither succeeded nor failed. */
  readonly unfinished: number;
  readonly failed: number;
}

/**
 * How a group follows its tasks once the data plane moves them (a worker's
 * outcome, the lease sweep): the first row whose `from` is the group's
 * status and whose condition holds gives its new status. Not actions anyone
 * asks for, so they have no rejection; a row that does not apply changes
 * nothing.
 */
export const GROUP_SETTLEMENTS = [
  {
    name: 'settle_paused',
    from: GroupStatus.Pausing,
    to: GroupStatus.Paused,
    when: (tasks: GroupTaskCounts) => tasks.pausing === 0,
  },
  {
    name: 'settle_done',
    from: GroupStatus.Monitoring,
    to: GroupStatus.Completed,
    when: (tasks: GroupTaskCounts) => tasks.unfinished === 0 && tasks.failed === 0,
  },
  {
    name: 'settle_failed',
    from: GroupStatus.Monitoring,
    to: GroupStatus.MigrationFailed,
    when: (tasks: GroupTaskCounts) => tasks.unfinished === 0 && tasks.failed > 0,
  },
] as const;

/** What a task_group_transitions row records: the creation, a move, or the bandwidth update. */
export type GroupAuditAction =
  'create' | GroupActionName | 'update' | (typeof GROUP_SETTLEMENTS)[number]['name'];

/** A group in one of these admits none of its tasks (the scheduler's ADMIT_TASKS). */
export const GROUP_PAUSED_STATUSES: readonly GroupStatus[] = [
  GroupStatus.Paused,
  GroupStatus.Pausing,
];

/** The bandwidth update is an edit, not a move: allowed in every status but 6. */
export const GROUP_UPDATE_IN: readonly GroupStatus[] = Object.values(GroupStatus).filter(
  (status): status is GroupStatus => typeof status === 'number' && status !== GroupStatus.Completed,
);

export class GroupTransitionRejected extends OmsError {
  constructor(action: GroupActionName, from: GroupStatus) {
    super(
      GROUP_ACTIONS[action].rejectedWith,
      `The task group cannot be ${PAST_TENSE[action]}: its status is ${from} (${GROUP_STATUS_NAMES[from]}).`,
    );
  }
}

const PAST_TENSE: Record<GroupActionName, string> = {
  stop: 'paused',
  start: 'started; only a paused group can',
  retry: 'retried; only a failed group can',
  delete: 'deleted while its tasks are being created or are running; pause it first',
};

/** Throws unless the action may leave `current`. */
export function checkGroupTransition(action: GroupActionName, current: GroupStatus): void {
  const from: readonly GroupStatus[] = GROUP_ACTIONS[action].from;
  if (!from.includes(current)) throw new GroupTransitionRejected(action, current);
}

/** Update refused: the group has completed (6). */
export class GroupFinished extends OmsError {
  constructor() {
    super('OMS.0070', 'The task group has completed; its bandwidth policy can no longer change.');
  }
}

/** Delete refused: some of the group's tasks are still running (the data plane moved them). */
export class GroupTasksRunning extends OmsError {
  constructor(count: number) {
    super('OMS.0063', `The task group cannot be deleted: ${count} of its tasks are running.`);
  }
}
