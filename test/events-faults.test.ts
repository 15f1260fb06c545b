// Events across faults, on a private nats-server (its own port and store):
// the broker killed and started again under a load of stops, and the
// replica that relays killed with SIGKILL while two service processes share
// one database. Either way the stream ends up holding every audit row once,
// in id order, with no gap; meanwhile the API keeps answering.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { NatsConnection } from 'nats';
import pg from 'pg';
import request from 'supertest';
import { FakeKeystone } from './support/fake-keystone.js';
import { eventsEnv, natsClient, PrivateNats, streamCount, streamMessages } from './support/nats.js';
import { parseMetrics, valueOf } from './support/metrics-text.js';
import {
  killServiceProcess,
  startServiceProcess,
  type ServiceProcess,
} from './support/service-process.js';
import { seedMigratingTasks, StopLoad } from './support/stop-load.js';
import { testDatabaseUrl } from './support/test-app.js';
import { waitUntil } from './support/wait-until.js';

let keystone: FakeKeystone;
let db: pg.Pool;
let nats: PrivateNats;
let nc: NatsConnection;

before(async () => {
  keystone = await FakeKeystone.start();
  db = new pg.Pool({ connectionString: testDatabaseUrl(), max: 3 });
  nats = await PrivateNats.start();
  nc = await natsClient(nats.url);
});
after(async () => {
  await nc.close();
  await nats.close();
  await db.end();
  await keystone.stop();
});

async function freshTables(): Promise<void> {
  await db.query(
    'TRUNCATE tasks, task_details, task_transitions, task_leases, event_relay_cursors RESTART IDENTITY',
  );
}

function startService(env: Record<string, string>): ServiceProcess {
  return startServiceProcess({
    NODE_ENV: 'production',
    DATABASE_URL: testDatabaseUrl(),
    IAM_ENDPOINT: keystone.endpoint,
    SCHEDULER_SWEEP_INTERVAL_MS: '0',
    ...env,
  });
}

function load(port: number, project: string, token: string, ids: readonly string[], tag: string) {
  return new StopLoad({
    baseUrl: `http://127.0.0.1:${port}`,
    projectId: project,
    token,
    taskIds: ids,
    concurrency: 8,
    timeoutMs: 10_000,
    duplicateEvery: 7,
    requestIdPrefix: tag,
    backoffMs: 20,
  }).start();
}

/** The stream holds exactly the audit rows, one message each, in id order. */
async function assertEveryAuditRowOnce(stream: string): Promise<number> {
  const { rows } = await db.query<{ id: string }>(
    'SELECT a.id::text AS id FROM task_transitions AS a ORDER BY a.id',
  );
  await waitUntil(
    () => `${stream} to hold the ${rows.length} audit rows`,
    async () => (await streamCount(nc, stream)) === rows.length,
    { timeoutMs: 30_000, everyMs: 100 },
  );
  const messages = await streamMessages(nc, stream);
  assert.deepEqual(
    messages.map((m) => m.msgId),
    rows.map((row) => `task_transitions-${row.id}`),
    'every audit row once, in id order',
  );
  return rows.length;
}

async function metricsOf(port: number) {
  return parseMetrics((await request(`http://127.0.0.1:${port}`).get('/metrics')).text);
}

describe('NATS stopped and started under load', () => {
  test('events wait while it is down (the API still answers, readiness too), then all go out once, in order', async () => {
    await freshTables();
    const project = 'events-outage';
    const token = keystone.issue({ projectId: project, userId: 'u-outage' });
    const ids = await seedMigratingTasks(db, project, 1500);
    const { env, streamPrefix } = eventsEnv(nats.url);
    const stream = `${streamPrefix}_TASK_EVENTS`;
    const service = startService(env);
    try {
      const port = await service.port;
      const stops = load(port, project, token, ids, 'outage');
      await stops.waitFor((o) => o.status === 200, 100);
      await nats.stop();
      const atOutage = (await db.query('SELECT count(*)::int AS n FROM task_transitions')).rows[0]
        .n;
      await stops.waitFor((o) => o.status === 200, atOutage + 100);
      const ready = await request(`http://127.0.0.1:${port}`).get('/health/ready');
      assert.equal(ready.status, 200, 'readiness does not fail for NATS');
      assert.deepEqual(ready.body.checks.events, { status: 'down', leader: true });
      const down = await metricsOf(port);
      assert.equal(valueOf(down, 'oms_events_broker_connected'), 0);

      await nats.start();
      const outcomes = await stops.halt();
      // Answered as without events: 200, or 400 for a repeated stop (503 only
      // if the shared machine starves the database; never anything else).
      const odd = outcomes.filter((o) => ![200, 400, 503].includes(o.status));
      assert.deepEqual(
        odd.map((o) => `${o.status} ${o.error ?? o.text}`),
        [],
        'every stop answered',
      );
      const published = await assertEveryAuditRowOnce(stream);
      assert.ok(published >= 200, `${published} events`);
      const up = await metricsOf(port);
      assert.equal(valueOf(up, 'oms_events_broker_connected'), 1);
      assert.equal(valueOf(up, 'oms_events_relay_lag', { outbox: 'task_transitions' }), 0);
    } finally {
      await killServiceProcess(service);
    }
  });
});

describe('the relaying replica killed with SIGKILL, two replicas on one database', () => {
  test('the other takes over: every audit row once, in order', async () => {
    await freshTables();
    const project = 'events-takeover';
    const token = keystone.issue({ projectId: project, userId: 'u-takeover' });
    const ids = await seedMigratingTasks(db, project, 800);
    const { env, streamPrefix } = eventsEnv(nats.url);
    const stream = `${streamPrefix}_TASK_EVENTS`;
    const replicas = [startService(env), startService(env)];
    try {
      const ports = await Promise.all(replicas.map((replica) => replica.port));
      const leaderIndex = await waitUntil('one replica to lead', async () => {
        const leaders = await Promise.all(
          ports.map(async (port) => valueOf(await metricsOf(port), 'oms_events_relay_leader')),
        );
        const index = leaders.indexOf(1);
        return index >= 0 && leaders.filter((value) => value === 1).length === 1 && index;
      });
      const other = 1 - leaderIndex;
      const half = ids.length / 2;
      const loads = [
        load(ports[0], project, token, ids.slice(0, half), 'takeover-a'),
        load(ports[1], project, token, ids.slice(half), 'takeover-b'),
      ];
      await loads[leaderIndex].waitFor((o) => o.status === 200, 150);
      replicas[leaderIndex].child.kill('SIGKILL');
      assert.equal(await replicas[leaderIndex].exited, 'SIGKILL');
      await loads[leaderIndex].halt();

      await waitUntil('the other replica to take over', async () => {
        return valueOf(await metricsOf(ports[other]), 'oms_events_relay_leader') === 1;
      });
      await loads[other].halt();
      const published = await assertEveryAuditRowOnce(stream);
      assert.ok(published >= 150, `${published} events`);
    } finally {
      await Promise.all(replicas.map((replica) => killServiceProcess(replica)));
    }
  });
});
