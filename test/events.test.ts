// Events on the machine's NATS (JetStream on 127.0.0.1:4222), each test
// under stream names of its own: every audit row is one message of its
// outbox's stream, once, in id order (a load of creates and stops, sync
// tasks too); an id held by an open transaction holds back what comes after
// it until it commits, and one rolled back holds it back no longer than the
// grace; notifications go out once for SUCCESS and FAILURE as smn_config
// asks; and without EVENTS_NATS_URL nothing connects at all.
// The broker's outage and a crash of the relaying replica: events-faults.test.ts.

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { NatsConnection } from 'nats';
import pg from 'pg';
import { JsonLogger } from '../src/logging/json-logger.js';
import { EventRelay } from '../src/events/event-relay.js';
import { decodeSubjectToken } from '../src/events/subject-token.js';
import { TaskStatus } from '../src/tasks/task-state.js';
import { TaskGroupApi } from './support/task-group-api.js';
import { ManualClock } from './support/manual-clock.js';
import { parseMetrics, valueOf } from './support/metrics-text.js';
import {
  deleteStreams,
  eventsEnv,
  MACHINE_NATS_URL,
  natsClient,
  streamCount,
  streamMessages,
} from './support/nats.js';
import { TaskApi } from './support/task-api.js';
import { startTestApp, testDatabaseUrl, type TestApp } from './support/test-app.js';
import { waitUntil } from './support/wait-until.js';
import request from 'supertest';

const PROJECT = 'events-project';
const USER = 'u-events';

let nc: NatsConnection;
let db: pg.Pool;
let t: TestApp | undefined;
let streamPrefix: string | undefined;

before(async () => {
  nc = await natsClient(MACHINE_NATS_URL);
  db = new pg.Pool({ connectionString: testDatabaseUrl(), max: 2 });
});
afterEach(async () => {
  await t?.close();
  t = undefined;
  if (streamPrefix) await deleteStreams(nc, streamPrefix);
  streamPrefix = undefined;
});
after(async () => {
  await nc.close();
  await db.end();
});

/** A fresh database state and an app relaying to streams of its own. */
async function startWithEvents(extraEnv: Record<string, string> = {}, clock?: ManualClock) {
  const events = eventsEnv(MACHINE_NATS_URL, extraEnv);
  streamPrefix = events.streamPrefix;
  // Ids from 1 again, so that no test starts behind a gap of the one before.
  await db.query(
    `TRUNCATE tasks, task_details, task_transitions, task_leases, task_groups, task_group_transitions,
       sync_tasks, sync_task_transitions, sync_task_events, event_relay_cursors RESTART IDENTITY`,
  );
  t = await startTestApp({
    env: events.env,
    clock,
    logger: process.env.EVENTS_TEST_LOG ? new JsonLogger('debug') : undefined,
  });
  const api = new TaskApi(t, PROJECT, t.keystone.issue({ projectId: PROJECT, userId: USER }));
  return { t, api, ...events, relay: t.app.get(EventRelay) };
}

/** Creates a task through the API (its audit row), then puts it to migrating as the scheduler would. */
async function createMigrating(api: TaskApi): Promise<string> {
  const res = await api.create();
  assert.equal(res.status, 200, res.text);
  const id = String(res.body.id);
  await t!.db.query('UPDATE tasks SET status = $2 WHERE id = $1', [id, TaskStatus.Migrating]);
  return id;
}

interface AuditRow {
  id: string;
  project_id: string;
  resource_id: string;
  action: string;
  from_status: number | string | null;
  to_status: number | string | null;
  user_id: string;
  request_id: string;
}

type OutboxTable = 'task_transitions' | 'task_group_transitions' | 'sync_task_transitions';

/** Per audit table: the resource column, the payload's kind and key, the subject's root. */
const OUTBOX_TABLES: Record<
  OutboxTable,
  [column: string, kind: string, key: string, root: string]
> = {
  task_transitions: ['a.task_id::text', 'task', 'task_id', 'oms.task'],
  task_group_transitions: ['a.group_id', 'task_group', 'group_id', 'oms.taskgroup'],
  sync_task_transitions: ['a.sync_task_id', 'sync_task', 'sync_task_id', 'oms.synctask'],
};

async function auditRows(db: pg.Pool, table: OutboxTable) {
  const [resource] = OUTBOX_TABLES[table];
  const { rows } = await db.query<AuditRow>(
    `SELECT a.id::text AS id, a.project_id, ${resource} AS resource_id, a.action, a.from_status,
       a.to_status, a.user_id, a.request_id FROM ${table} AS a ORDER BY a.id`,
  );
  return rows;
}

/**
 * Waits until the stream holds as many messages as the table has rows,
 * then checks they are the rows, one each, in id order, payload and subject.
 */
async function assertStreamIsTheOutbox(stream: string, table: OutboxTable, subjectPrefix: string) {
  const rows = await auditRows(t!.db, table);
  await waitUntil(
    `${stream} to hold the ${rows.length} rows of ${table}`,
    async () => (await streamCount(nc, stream)) === rows.length,
    { timeoutMs: 20_000 },
  );
  const messages = await streamMessages(nc, stream);
  assert.deepEqual(
    messages.map((m) => m.msgId),
    rows.map((row) => `${table}-${row.id}`),
    `one message per audit row, in id order, no gap, no duplicate: ${JSON.stringify(messages.map((m) => m.msgId))}`,
  );
  const [, kind, resourceKey, root] = OUTBOX_TABLES[table];
  messages.forEach((message, i) => {
    const row = rows[i];
    assert.deepEqual(
      { ...message.data, time: undefined },
      {
        id: Number(row.id),
        outbox: table,
        kind,
        project_id: row.project_id,
        [resourceKey]: row.resource_id,
        action: row.action,
        from_status: row.from_status,
        to_status: row.to_status,
        user_id: row.user_id,
        request_id: row.request_id,
        time: undefined,
      },
    );
    assert.equal(typeof message.data.time, 'number');
    const tokens = message.subject.split('.');
    assert.equal(tokens.slice(0, -3).join('.'), `${subjectPrefix}.${root}`);
    assert.deepEqual(tokens.slice(-3).map(decodeSubjectToken), [
      row.project_id,
      row.resource_id,
      row.action,
    ]);
  });
  return rows;
}

describe('every audit row is one event, in order', () => {
  test('a load of creates and stops (repeated stops included): as many events as audit rows, in id order', async () => {
    const { api, relay, streamPrefix: prefix, subjectPrefix } = await startWithEvents();
    const created = await Promise.all(Array.from({ length: 40 }, () => createMigrating(api)));
    // Every task stopped twice at once: one 200 and one refusal each, one audit row.
    const answers = await Promise.all(created.flatMap((id) => [api.stop(id), api.stop(id)]));
    assert.equal(answers.filter((res) => res.status === 200).length, created.length);
    assert.equal(answers.filter((res) => res.status === 400).length, created.length);
    await Promise.all(created.slice(0, 10).map((id) => api.delete(id)));

    const rows = await assertStreamIsTheOutbox(
      `${prefix}_TASK_EVENTS`,
      'task_transitions',
      subjectPrefix,
    );
    assert.equal(rows.length, 40 + 40 + 10);
    await waitUntil('the cursor at the last row published', async () => {
      const { rows: cursors } = await t!.db.query(
        `SELECT last_id::text FROM event_relay_cursors WHERE outbox = 'task_transitions'`,
      );
      return cursors[0]?.last_id === rows[rows.length - 1].id;
    });
    assert.deepEqual(relay.status, { status: 'up', leader: true });

    const metrics = await request(t!.server).get('/metrics');
    assert.equal(valueOf(parseMetrics(metrics.text), 'oms_events_relay_leader'), 1);
    assert.equal(
      valueOf(parseMetrics(metrics.text), 'oms_events_published_total', {
        outbox: 'task_transitions',
      }),
      rows.length,
    );
    const ready = await request(t!.server).get('/health/ready');
    assert.deepEqual(ready.body.checks.events, { status: 'up', leader: true });
  });

  test("a stop's event reaches a subscriber at once", async () => {
    const { api, subjectPrefix } = await startWithEvents();
    const id = await createMigrating(api);
    const subscription = nc.subscribe(`${subjectPrefix}.oms.task.*.${id}.stop`, { max: 1 });
    await nc.flush();
    const started = Date.now();
    assert.equal((await api.stop(id)).status, 200);
    for await (const message of subscription) {
      const event = JSON.parse(Buffer.from(message.data).toString()) as Record<string, unknown>;
      assert.equal(event.task_id, id);
      assert.equal(event.from_status, TaskStatus.Migrating);
      assert.equal(event.to_status, TaskStatus.Paused);
    }
    // The bench measures it under load (npm run bench); here only a loose bound.
    assert.ok(Date.now() - started < 2000, `${Date.now() - started} ms`);
  });

  test('ids that NATS subjects cannot carry are encoded token by token, and decode back', async () => {
    const { streamPrefix: prefix, subjectPrefix } = await startWithEvents();
    for (const project of ['a.b', 'star*', 'gt>', 'white space', 'ü-项目', '%25']) {
      await t!.db.query(
        `INSERT INTO task_transitions (task_id, project_id, action, from_status, to_status, user_id, request_id)
         VALUES (1, $1, 'stop', $2, $3, 'u', 'r')`,
        [project, TaskStatus.Migrating, TaskStatus.Paused],
      );
    }
    await assertStreamIsTheOutbox(`${prefix}_TASK_EVENTS`, 'task_transitions', subjectPrefix);
  });

  test('sync tasks are an outbox of their own', async () => {
    const { streamPrefix: prefix, subjectPrefix } = await startWithEvents();
    for (const [from, to, action] of [
      [null, 'SYNCHRONIZING', 'create'],
      ['SYNCHRONIZING', 'STOPPED', 'stop'],
    ]) {
      await t!.db.query(
        `INSERT INTO sync_task_transitions (sync_task_id, project_id, action, from_status, to_status, user_id, request_id)
         VALUES ('sync.1', $1, $2, $3, $4, 'u', 'r')`,
        [PROJECT, action, from, to],
      );
    }
    await assertStreamIsTheOutbox(
      `${prefix}_SYNC_TASK_EVENTS`,
      'sync_task_transitions',
      subjectPrefix,
    );
  });

  test("task groups are an outbox of their own, and a group's tasks are events of the tasks' outbox", async () => {
    const { streamPrefix: prefix, subjectPrefix } = await startWithEvents();
    const groups = new TaskGroupApi(t!, PROJECT, t!.keystone.issue({ projectId: PROJECT }));
    const groupId = (await groups.create()).body.group_id;
    assert.equal((await groups.stop(groupId)).status, 200);
    assert.equal((await groups.start(groupId)).status, 200);
    const { rows } = await t!.db.query('SELECT count(*)::int AS n FROM task_group_transitions');
    assert.equal(rows[0].n, 3, 'create, stop and start of the group');
    await assertStreamIsTheOutbox(
      `${prefix}_TASK_GROUP_EVENTS`,
      'task_group_transitions',
      subjectPrefix,
    );
    await assertStreamIsTheOutbox(`${prefix}_TASK_EVENTS`, 'task_transitions', subjectPrefix);
  });
});

describe('an id that may still appear is waited for; one that never will, no longer than the grace', () => {
  const GRACE_MS = 200;

  async function insertOpen(client: pg.PoolClient, taskId: string): Promise<string> {
    await client.query('BEGIN');
    const { rows } = await client.query(
      `INSERT INTO task_transitions (task_id, project_id, action, from_status, to_status, user_id, request_id)
       VALUES ($1, $2, 'succeed', $3, $4, 'worker', 'open-tx') RETURNING id::text`,
      [taskId, PROJECT, TaskStatus.Migrating, TaskStatus.Succeeded],
    );
    return rows[0].id;
  }

  test('a transaction holding a smaller id open while later rows commit: every event, in id order', async () => {
    const clock = new ManualClock();
    const {
      api,
      relay,
      streamPrefix: prefix,
      subjectPrefix,
    } = await startWithEvents({ EVENTS_GAP_GRACE_MS: String(GRACE_MS) }, clock);
    const stream = `${prefix}_TASK_EVENTS`;
    const ids = [await createMigrating(api), await createMigrating(api)];
    await waitUntil('the creates published', async () => (await streamCount(nc, stream)) === 2);

    const client = await t!.db.connect();
    try {
      const held = await insertOpen(client, ids[0]);
      for (const id of ids) assert.equal((await api.stop(id)).status, 200);
      // Long past the grace, the open transaction still holds everything after its id.
      await relay.afterRounds(3);
      await clock.advance(GRACE_MS * 50);
      await relay.afterRounds(5);
      assert.equal(await streamCount(nc, stream), 2, 'nothing published past the open id');

      await client.query('COMMIT');
      const rows = await assertStreamIsTheOutbox(stream, 'task_transitions', subjectPrefix);
      assert.deepEqual(
        rows.slice(2).map((row) => row.action),
        ['succeed', 'stop', 'stop'],
        `the held id ${held} first, then the stops`,
      );
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
  });

  test('a rolled-back id holds back what follows until the grace has passed, then is skipped', async () => {
    const clock = new ManualClock();
    const {
      api,
      relay,
      streamPrefix: prefix,
    } = await startWithEvents({ EVENTS_GAP_GRACE_MS: String(GRACE_MS) }, clock);
    const stream = `${prefix}_TASK_EVENTS`;
    const first = await createMigrating(api);
    await waitUntil('the create published', async () => (await streamCount(nc, stream)) === 1);

    const client = await t!.db.connect();
    let rolledBack: string;
    try {
      rolledBack = await insertOpen(client, first);
      assert.equal((await api.stop(first)).status, 200);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    // Its transaction has ended, but the grace has not passed on the app's clock.
    await relay.afterRounds(5);
    assert.equal(await streamCount(nc, stream), 1, 'skipped before the grace');

    await clock.advance(GRACE_MS);
    await waitUntil('the stop after the gap', async () => (await streamCount(nc, stream)) === 2);
    const messages = await streamMessages(nc, stream);
    const published = messages.map((m) => String(m.data.id));
    assert.ok(!published.includes(rolledBack), 'the rolled-back id is no event');
    const audit = (await auditRows(t!.db, 'task_transitions')).map((row) => row.id);
    assert.deepEqual(published, audit);
    const metrics = await request(t!.server).get('/metrics');
    assert.equal(
      valueOf(parseMetrics(metrics.text), 'oms_events_skipped_ids_total', {
        outbox: 'task_transitions',
      }),
      1,
    );
  });
});

describe('notifications (smn_config) for tasks that succeed or fail', () => {
  const TOPIC = 'urn:smn:cn-north-4:0123456789abcdef:oms.topic';

  async function taskWithSmn(db: pg.Pool, name: string, smn: unknown): Promise<string> {
    const { rows } = await db.query(
      `INSERT INTO tasks (project_id, name, status) VALUES ($1, $2, $3) RETURNING id::text`,
      [PROJECT, name, TaskStatus.Migrating],
    );
    await db.query('UPDATE task_details SET options = $2 WHERE task_id = $1', [
      rows[0].id,
      JSON.stringify(smn ? { smn_config: smn } : {}),
    ]);
    return rows[0].id;
  }

  /** As a data plane ends a task: the status and its audit row in one transaction. */
  async function finish(db: pg.Pool, taskId: string, to: TaskStatus): Promise<string> {
    const { rows } = await db.query(
      `WITH moved AS (UPDATE tasks SET status = $2 WHERE id = $1 RETURNING id, project_id)
       INSERT INTO task_transitions (task_id, project_id, action, from_status, to_status, user_id, request_id)
       SELECT id, project_id, 'finish', $3, $2, 'worker', 'w-1' FROM moved RETURNING id::text`,
      [taskId, to, TaskStatus.Migrating],
    );
    return rows[0].id;
  }

  test('SUCCESS and FAILURE once each, as the trigger lists them, in the language asked; the result on the task', async () => {
    const { streamPrefix: prefix, subjectPrefix, env } = await startWithEvents();
    const db = t!.db;
    const succeeds = await taskWithSmn(db, 'copy-photos', {
      topic_urn: TOPIC,
      trigger_conditions: ['SUCCESS'],
      language: 'en-us',
    });
    const fails = await taskWithSmn(db, 'copy-logs', {
      topic_urn: TOPIC,
      trigger_conditions: ['FAILURE', 'SUCCESS'],
      language: 'zh-cn',
    });
    const notListed = await taskWithSmn(db, 'quiet', {
      topic_urn: TOPIC,
      trigger_conditions: ['FAILURE'],
      language: 'en-us',
    });
    const none = await taskWithSmn(db, 'no-smn', undefined);
    const audit = {
      succeeds: await finish(db, succeeds, TaskStatus.Succeeded),
      fails: await finish(db, fails, TaskStatus.Failed),
      notListed: await finish(db, notListed, TaskStatus.Succeeded),
      none: await finish(db, none, TaskStatus.Failed),
    };
    await assertStreamIsTheOutbox(`${prefix}_TASK_EVENTS`, 'task_transitions', subjectPrefix);

    const notifications = `${prefix}_NOTIFICATIONS`;
    await waitUntil('two notifications', async () => (await streamCount(nc, notifications)) === 2);
    const messages = await streamMessages(nc, notifications);
    assert.deepEqual(
      messages.map((m) => m.msgId),
      [`smn-task-${audit.succeeds}`, `smn-task-${audit.fails}`],
    );
    for (const message of messages) {
      const token = 'urn%3Asmn%3Acn-north-4%3A0123456789abcdef%3Aoms%2Etopic';
      assert.equal(message.subject, `${subjectPrefix}.smn.${token}`);
      assert.equal(decodeSubjectToken(token), TOPIC);
    }
    assert.deepEqual(
      messages.map(({ data }) => ({ ...data, time: undefined })),
      [
        {
          topic_urn: TOPIC,
          project_id: PROJECT,
          task_id: succeeds,
          task_name: 'copy-photos',
          status: TaskStatus.Succeeded,
          trigger: 'SUCCESS',
          language: 'en-us',
          message: 'The migration task copy-photos has succeeded.',
          time: undefined,
          audit_id: Number(audit.succeeds),
        },
        {
          topic_urn: TOPIC,
          project_id: PROJECT,
          task_id: fails,
          task_name: 'copy-logs',
          status: TaskStatus.Failed,
          trigger: 'FAILURE',
          language: 'zh-cn',
          message: '迁移任务 copy-logs 已失败。',
          time: undefined,
          audit_id: Number(audit.fails),
        },
      ],
    );
    const results = await db.query(
      `SELECT id::text, options -> 'smn_result' AS result FROM tasks JOIN task_details ON task_id = id ORDER BY id`,
    );
    assert.deepEqual(Object.fromEntries(results.rows.map((row) => [row.id, row.result])), {
      [succeeds]: { notified: true, error: null },
      [fails]: { notified: true, error: null },
      [notListed]: null,
      [none]: null,
    });

    // Another relay on the same database and streams (a restart) sends nothing again.
    await t!.close();
    t = await startTestApp({ env });
    await t.app.get(EventRelay).afterRounds(5);
    assert.deepEqual(t.app.get(EventRelay).status, { status: 'up', leader: true });
    assert.equal(await streamCount(nc, notifications), 2);
    assert.equal(await streamCount(nc, `${prefix}_TASK_EVENTS`), 4);
  });
});

describe('without EVENTS_NATS_URL', () => {
  test('nothing connects: no relay session, no stream, readiness says off', async () => {
    t = await startTestApp();
    const relay = t.app.get(EventRelay);
    assert.deepEqual(relay.status, { status: 'off', leader: false });
    const api = new TaskApi(t, PROJECT, t.keystone.issue({ projectId: PROJECT, userId: USER }));
    const created = await api.create();
    assert.equal(created.status, 200);
    const sessions = await t.db.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'oms-events-relay' AND datname = current_database()`,
    );
    assert.equal(sessions.rows[0].n, 0);
    const ready = await request(t.server).get('/health/ready');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body.checks.events, { status: 'off', leader: false });
    const metrics = await request(t.server).get('/metrics');
    assert.equal(valueOf(parseMetrics(metrics.text), 'oms_events_relay_leader'), 0);
  });
});
