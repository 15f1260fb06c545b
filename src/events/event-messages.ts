// What the relay publishes: an audit row's event (its subject and JSON
// payload) and, for a task that succeeded or failed and asked for it in
// options.smn_config, its notification. Pure functions of the row, so what
// a subscriber gets is decided here and nowhere else. Nothing secret is in
// an audit row, and nothing else goes into a message.

import { TaskStatus } from '../tasks/task-state.js';
import type { OutboxRow } from './events.sql.js';
import { eventMessageId, NOTIFICATIONS, type Outbox } from './outboxes.js';
import { encodeSubjectToken } from './subject-token.js';

export interface OutgoingMessage {
  readonly subject: string;
  readonly messageId: string;
  readonly payload: Uint8Array;
}

/** An audit row with an id: the rows the read returns for real. */
export type AuditRow = OutboxRow & { id: string };

/** `prefix.` before every subject when EVENTS_SUBJECT_PREFIX is set. */
export function subjectUnder(prefix: string, subject: string): string {
  return prefix === '' ? subject : `${prefix}.${subject}`;
}

export function eventMessage(
  outbox: Outbox,
  row: AuditRow,
  subjectPrefix: string,
): OutgoingMessage {
  const tokens = [row.project_id, row.resource_id, row.action].map(encodeSubjectToken);
  const event = {
    id: Number(row.id),
    outbox: outbox.name,
    kind: outbox.kind,
    project_id: row.project_id,
    [outbox.resourceKey]: row.resource_id,
    action: row.action,
    from_status: row.from_status,
    to_status: row.to_status,
    user_id: row.user_id,
    request_id: row.request_id,
    time: row.created_ms,
  };
  return {
    subject: subjectUnder(subjectPrefix, `${outbox.subjectRoot}.${tokens.join('.')}`),
    messageId: eventMessageId(outbox, row.id),
    payload: Buffer.from(JSON.stringify(event)),
  };
}

/** options.smn_config as create stores it (OMS's SmnConfig). */
interface SmnConfig {
  topic_urn: string;
  trigger_conditions: readonly string[];
  language: string;
}

/** The trigger condition each final status answers to. */
const TRIGGERS: Partial<Record<number, 'SUCCESS' | 'FAILURE'>> = {
  [TaskStatus.Succeeded]: 'SUCCESS',
  [TaskStatus.Failed]: 'FAILURE',
};

const MESSAGES: Record<string, Record<'SUCCESS' | 'FAILURE', (name: string) => string>> = {
  'en-us': {
    SUCCESS: (name) => `The migration task ${name} has succeeded.`,
    FAILURE: (name) => `The migration task ${name} has failed.`,
  },
  'zh-cn': {
    SUCCESS: (name) => `迁移任务 ${name} 已成功。`,
    FAILURE: (name) => `迁移任务 ${name} 已失败。`,
  },
};

function smnConfigOf(value: unknown): SmnConfig | undefined {
  const config = value as Partial<SmnConfig> | null | undefined;
  if (typeof config !== 'object' || config === null) return undefined;
  if (typeof config.topic_urn !== 'string' || config.topic_urn === '') return undefined;
  if (!Array.isArray(config.trigger_conditions)) return undefined;
  return {
    topic_urn: config.topic_urn,
    trigger_conditions: config.trigger_conditions.filter((c): c is string => typeof c === 'string'),
    language: typeof config.language === 'string' ? config.language.toLowerCase() : 'en-us',
  };
}

/**
 * The notification a task's audit row calls for, if any: the row moves the
 * task to succeeded (SUCCESS) or failed (FAILURE), the task is still there
 * and its smn_config lists that condition. Message id `smn-task-<row id>`,
 * so it is published once, as the event is.
 */
export function notificationMessage(
  row: AuditRow,
  subjectPrefix: string,
): OutgoingMessage | undefined {
  const trigger = typeof row.to_status === 'number' ? TRIGGERS[row.to_status] : undefined;
  const config = smnConfigOf(row.smn_config);
  if (trigger === undefined || config === undefined || row.task_name === null) return undefined;
  if (!config.trigger_conditions.includes(trigger)) return undefined;
  const language = config.language in MESSAGES ? config.language : 'en-us';
  const notification = {
    topic_urn: config.topic_urn,
    project_id: row.project_id,
    task_id: row.resource_id,
    task_name: row.task_name,
    status: row.to_status,
    trigger,
    language,
    message: MESSAGES[language][trigger](row.task_name),
    time: row.created_ms,
    audit_id: Number(row.id),
  };
  return {
    subject: subjectUnder(
      subjectPrefix,
      `${NOTIFICATIONS.subjectRoot}.${encodeSubjectToken(config.topic_urn)}`,
    ),
    messageId: `smn-task-${row.id}`,
    payload: Buffer.from(JSON.stringify(notification)),
  };
}
