// The outboxes: every audit table is one, and every row of it one event.
// Data, not code: the relay (event-relay.ts) runs the same loop over each
// entry, so a new audit table is one more entry here and one more read in
// events.sql.ts. Each outbox has its JetStream stream and subject root; a
// subject is `<root>.<project>.<resource id>.<action>`, each token encoded
// by subject-token.ts.

import type { Statement } from '../database/statement.js';
import {
  READ_SYNC_TASK_OUTBOX,
  READ_TASK_GROUP_OUTBOX,
  READ_TASK_OUTBOX,
  type OutboxReadParams,
  type OutboxRow,
} from './events.sql.js';

export interface Outbox {
  /** The audit table; also the cursor's key and the message id's prefix (`<name>-<id>`). */
  readonly name: string;
  /** What the payload's `kind` says, and the key its resource id goes under. */
  readonly kind: 'task' | 'task_group' | 'sync_task';
  readonly resourceKey: 'task_id' | 'group_id' | 'sync_task_id';
  /** The stream, after EVENTS_STREAM_PREFIX and an underscore. */
  readonly stream: string;
  /** The subjects' first tokens, after EVENTS_SUBJECT_PREFIX. */
  readonly subjectRoot: string;
  readonly read: Statement<OutboxReadParams, OutboxRow>;
  /** Its notifications go to the notifications stream (tasks only, for now). */
  readonly notifies: boolean;
}

export const OUTBOXES: readonly Outbox[] = [
  {
    name: 'task_transitions',
    kind: 'task',
    resourceKey: 'task_id',
    stream: 'TASK_EVENTS',
    subjectRoot: 'oms.task',
    read: READ_TASK_OUTBOX,
    notifies: true,
  },
  {
    // Comes with the group audit trail's migration; left out while its
    // table is missing, so this entry may land before that migration.
    name: 'task_group_transitions',
    kind: 'task_group',
    resourceKey: 'group_id',
    stream: 'TASK_GROUP_EVENTS',
    subjectRoot: 'oms.taskgroup',
    read: READ_TASK_GROUP_OUTBOX,
    notifies: false,
  },
  {
    name: 'sync_task_transitions',
    kind: 'sync_task',
    resourceKey: 'sync_task_id',
    stream: 'SYNC_TASK_EVENTS',
    subjectRoot: 'oms.synctask',
    read: READ_SYNC_TASK_OUTBOX,
    notifies: false,
  },
];

/** Where notifications go: a stream of its own, subjects `smn.<topic urn>`. */
export const NOTIFICATIONS = { stream: 'NOTIFICATIONS', subjectRoot: 'smn' } as const;

/** The message id of an audit row's event: JetStream drops a second one in its window. */
export function eventMessageId(outbox: Outbox, id: string): string {
  return `${outbox.name}-${id}`;
}

/** The audit row id a message id names, if it is one of this outbox's. */
export function idOfMessage(outbox: Outbox, messageId: string | undefined): string | undefined {
  if (messageId === undefined || !messageId.startsWith(`${outbox.name}-`)) return undefined;
  const id = messageId.slice(outbox.name.length + 1);
  return /^[1-9][0-9]{0,18}$/.test(id) ? id : undefined;
}
