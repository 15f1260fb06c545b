// The pure parts of events: subject tokens encode any id reversibly into
// what NATS allows; EVENTS_* configuration is validated, and credentials
// never appear in its messages; a notification is due exactly when the
// final status is one smn_config's trigger lists.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { notificationMessage, type AuditRow } from '../src/events/event-messages.js';
import { decodeSubjectToken, encodeSubjectToken } from '../src/events/subject-token.js';
import { TaskStatus } from '../src/tasks/task-state.js';

test('a subject token holds only [A-Za-z0-9_%-] and decodes back to the id, whatever it is', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme' }), (id) => {
      const token = encodeSubjectToken(id);
      assert.match(token, /^[A-Za-z0-9_%-]+$/);
      assert.equal(decodeSubjectToken(token), id);
    }),
  );
  assert.equal(encodeSubjectToken('0123abc_-Z'), '0123abc_-Z');
  assert.equal(encodeSubjectToken('a.b *>%'), 'a%2Eb%20%2A%3E%25');
  assert.equal(encodeSubjectToken('项'), '%E9%A1%B9');
  assert.equal(encodeSubjectToken(''), '%');
  assert.notEqual(encodeSubjectToken('a%2Eb'), encodeSubjectToken('a.b'));
});

test('EVENTS_NATS_URL turns events on, with defaults; unset, they are off', () => {
  assert.equal(loadConfig({}).events, undefined);
  assert.deepEqual(loadConfig({ EVENTS_NATS_URL: 'nats://127.0.0.1:4222' }).events, {
    natsServers: ['nats://127.0.0.1:4222'],
    natsUser: undefined,
    natsPassword: undefined,
    natsToken: undefined,
    pollMs: 20,
    batchSize: 500,
    gapGraceMs: 250,
    streamPrefix: 'OMS',
    subjectPrefix: '',
  });
});

test('credentials in the URL move out of it; a bad value names the variable, never the secret', () => {
  const events = loadConfig({
    EVENTS_NATS_URL: 'nats://relay:s3cr%40t@nats-1:4222,nats://nats-2:4222',
  }).events!;
  assert.deepEqual(events.natsServers, ['nats://nats-1:4222', 'nats://nats-2:4222']);
  assert.equal(events.natsUser, 'relay');
  assert.equal(events.natsPassword, 's3cr@t');
  for (const [env, message] of [
    [{ EVENTS_NATS_URL: 'http://u:hunter2@x:1' }, /EVENTS_NATS_URL: protocol http:/],
    [{ EVENTS_NATS_URL: 'not a url hunter2' }, /EVENTS_NATS_URL: not a valid URL/],
    [{ EVENTS_NATS_URL: 'nats://x:1', EVENTS_NATS_USER: 'u' }, /go together/],
    [
      {
        EVENTS_NATS_URL: 'nats://x:1',
        EVENTS_NATS_TOKEN: 'hunter2',
        EVENTS_NATS_USER: 'u',
        EVENTS_NATS_PASSWORD: 'hunter2',
      },
      /not both/,
    ],
    [{ EVENTS_NATS_URL: 'nats://x:1', EVENTS_POLL_MS: '0' }, /EVENTS_POLL_MS/],
    [{ EVENTS_NATS_URL: 'nats://x:1', EVENTS_STREAM_PREFIX: 'a.b' }, /EVENTS_STREAM_PREFIX/],
    [{ EVENTS_NATS_URL: 'nats://x:1', EVENTS_SUBJECT_PREFIX: 'a.*' }, /EVENTS_SUBJECT_PREFIX/],
  ] as const) {
    assert.throws(
      () => loadConfig(env),
      (error: unknown) =>
        error instanceof ConfigError &&
        message.test(error.message) &&
        !error.message.includes('hunter2'),
    );
  }
});

function finished(to: number, smn: unknown, name: string | null = 'copy'): AuditRow {
  return {
    snapshot: '1:1:',
    gap_settled: null,
    max_id: '7',
    lock_held: true,
    id: '7',
    project_id: 'p',
    resource_id: '3',
    action: 'finish',
    from_status: TaskStatus.Migrating,
    to_status: to,
    user_id: 'worker',
    request_id: 'r',
    created_ms: 1_700_000_000_000,
    task_name: name,
    smn_config: smn,
  };
}

test('a notification is due only for a final status its trigger lists, on a task still there', () => {
  const smn = { topic_urn: 'urn:smn:x:y:t', trigger_conditions: ['SUCCESS'], language: 'zh-cn' };
  const due = notificationMessage(finished(TaskStatus.Succeeded, smn), '');
  assert.equal(due?.messageId, 'smn-task-7');
  assert.equal(due?.subject, 'smn.urn%3Asmn%3Ax%3Ay%3At');
  assert.equal(JSON.parse(Buffer.from(due!.payload).toString()).message, '迁移任务 copy 已成功。');
  assert.equal(notificationMessage(finished(TaskStatus.Failed, smn), ''), undefined);
  assert.equal(notificationMessage(finished(TaskStatus.Paused, smn), ''), undefined);
  assert.equal(notificationMessage(finished(TaskStatus.Succeeded, smn, null), ''), undefined);
  assert.equal(
    notificationMessage(finished(TaskStatus.Succeeded, { topic_urn: 1 }), ''),
    undefined,
  );
  assert.equal(notificationMessage(finished(TaskStatus.Succeeded, null), ''), undefined);
});
