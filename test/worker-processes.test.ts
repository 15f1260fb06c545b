// The data plane as processes: the service (`node dist/src/main.js`, against
// the Keystone double and this file's PostgreSQL) and demo workers
// (`node dist/scripts/worker.js`). A worker pauses on a stop and goes on
// after a start; a worker killed mid-task loses its tasks to another (or,
// for a pausing one, to the lease sweep); two workers on two replicas never
// hold one task at once. Every step is checked in the audit rows. The
// protocol call by call, with a clock the test moves: worker.http.test.ts.

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import pg from 'pg';
import { FakeKeystone } from './support/fake-keystone.js';
import { deleteStreams, eventsEnv, MACHINE_NATS_URL, natsClient } from './support/nats.js';
import {
  killServiceProcess,
  startServiceProcess,
  type ServiceProcess,
} from './support/service-process.js';
import { createBody, startBody, TaskApi } from './support/task-api.js';
import { auditRows, testDatabaseUrl } from './support/test-app.js';
import { waitUntil } from './support/wait-until.js';
import {
  killWorkerProcess,
  startWorkerProcess,
  type WorkerProcess,
} from './support/worker-process.js';

const LEASE_TTL_MS = 2000;
const HEARTBEAT_MS = 200;

const SERVICE_ENV = {
  NODE_ENV: 'production',
  WORKER_LEASE_TTL_MS: String(LEASE_TTL_MS),
  WORKER_HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS),
  WORKER_LEASE_SWEEP_INTERVAL_MS: '100',
  MAX_PARALLEL_TASKS: '10',
};

let keystone: FakeKeystone;
let db: pg.Pool;
let service: ServiceProcess;
let base: string;
const workers: WorkerProcess[] = [];
const services: ServiceProcess[] = [];

function startService(): ServiceProcess {
  const started = startServiceProcess({
    ...SERVICE_ENV,
    DATABASE_URL: testDatabaseUrl(),
    IAM_ENDPOINT: keystone.endpoint,
  });
  services.push(started);
  return started;
}

before(async () => {
  keystone = await FakeKeystone.start();
  db = new pg.Pool({ connectionString: testDatabaseUrl(), max: 3 });
  service = startService();
  base = `http://127.0.0.1:${await service.port}`;
});
// Workers lease across projects: none outlives its test.
afterEach(async () => {
  await Promise.all(workers.splice(0).map(killWorkerProcess));
});
after(async () => {
  await Promise.all(services.map(killServiceProcess));
  await db.end();
  await keystone.stop();
});

/** A worker process on `url`, as user `user` with the worker role (its audit rows say who). */
async function worker(
  id: string,
  url: string,
  env: Record<string, string> = {},
): Promise<WorkerProcess> {
  const token = keystone.issue({
    projectId: 'workers',
    userId: `user-${id}`,
    roles: ['oms_worker'],
  });
  const started = await startWorkerProcess({
    OMS_URL: url,
    OMS_WORKER_TOKEN: token,
    WORKER_ID: id,
    WORKER_POLL_INTERVAL_MS: '50',
    DEV_WORKER_TASK_SECONDS: '3',
    ...env,
  });
  workers.push(started);
  return started;
}

function tenant(project: string, url = base): TaskApi {
  return TaskApi.at(url, project, keystone.issue({ projectId: project, userId: 'tenant' }));
}

async function createTask(api: TaskApi): Promise<string> {
  const res = await api.create(createBody());
  assert.equal(res.status, 200, res.text);
  return String(res.body.id);
}

async function leaseHolder(taskId: string): Promise<string | undefined> {
  const { rows } = await db.query('SELECT worker_id FROM task_leases WHERE task_id = $1', [taskId]);
  return rows[0]?.worker_id;
}

async function task(taskId: string) {
  const { rows } = await db.query(
    `SELECT status, complete_size::float8 AS complete_size, total_size::float8 AS total_size,
            successful_num::int, total_num::int, progress FROM tasks JOIN task_details ON task_id = id WHERE id = $1`,
    [taskId],
  );
  return rows[0] as {
    status: number;
    complete_size: number;
    total_size: number;
    successful_num: number;
    total_num: number;
    progress: number;
  };
}

const moves = async (taskId: string) =>
  (await auditRows(db, taskId)).map((r) => [r.action, r.from_status, r.to_status, r.user_id]);

function waitForStatus(taskId: string, status: number, timeoutMs = 20_000) {
  return waitUntil(
    `task ${taskId} to reach status ${status}`,
    async () => (await task(taskId)).status === status,
    { timeoutMs, everyMs: 20 },
  );
}

describe('a worker process', () => {
  test('leases, reports progress, pauses on a stop, goes on after a start with its progress, succeeds', async () => {
    const api = tenant('proc-a');
    const w = await worker('wa', base, { DEV_WORKER_TASK_SECONDS: '4' });
    const id = await createTask(api);
    await waitUntil('the worker to lease the task', async () => (await leaseHolder(id)) === 'wa');
    await waitUntil('progress', async () => (await task(id)).complete_size > 0);

    const stop = await api.stop(id);
    assert.equal(stop.status, 200, stop.text);
    const stoppedAt = Date.now();
    await waitForStatus(id, 3, 5000);
    // One heartbeat interval, and room for a busy machine; the lease sweep
    // would have taken the TTL, and its audit row says lease_expire.
    assert.ok(Date.now() - stoppedAt < HEARTBEAT_MS + 2000, 'confirmed within a heartbeat');
    const paused = await task(id);
    assert.ok(paused.complete_size > 0 && paused.complete_size < paused.total_size, 'midway');
    assert.equal(await leaseHolder(id), undefined, 'the lease ended with the pause');
    assert.deepEqual((await moves(id)).slice(2), [
      ['lease', 2, 2, 'user-wa'],
      ['stop', 2, 7, 'tenant'],
      ['confirm_pause', 7, 3, 'user-wa'],
    ]);

    assert.equal((await api.start(id, startBody())).status, 200);
    await waitForStatus(id, 5);
    const done = await task(id);
    assert.equal(done.complete_size, done.total_size);
    assert.equal(done.successful_num, done.total_num);
    assert.equal(done.progress, 1);
    assert.deepEqual(
      (await moves(id)).map(([action, from, to]) => [action, from, to]),
      [
        ['create', null, 1],
        ['admit', 1, 2],
        ['lease', 2, 2],
        ['stop', 2, 7],
        ['confirm_pause', 7, 3],
        ['start', 3, 1],
        ['admit', 1, 2],
        ['lease', 2, 2],
        ['succeed', 2, 5],
      ],
    );
    // The second lease went on from what the pause kept.
    const leased = w.lines().filter((line) => line.msg === `leased task ${id}`);
    assert.deepEqual(
      leased.map((line) => line.complete_size),
      [0, paused.complete_size],
    );

    // Neither the task's keys nor the worker's token are in any log line.
    for (const secret of ['src-secret-key-never-shown-0001', 'src-secret-key-on-start-0011']) {
      assert.ok(!w.output().includes(secret) && !service.output().includes(secret));
    }
    // Leases and heartbeats are logged at debug level; the outcomes, which move tasks, at info.
    const access = service
      .output()
      .split('\n')
      .filter((line) => line.includes('"request answered"') && line.includes('/v2/workers/'));
    assert.ok(access.length > 0 && access.every((line) => line.includes('/outcome"')));
  });
});

describe('a worker killed mid-task', () => {
  test('its lease expires and another worker takes the task; a pausing one is paused by the sweep', async () => {
    const api = tenant('proc-b');
    // Slow enough that it never finishes on its own.
    const doomed = await worker('wb-1', base, {
      DEV_WORKER_TASK_SECONDS: '600',
      WORKER_MAX_TASKS: '2',
    });
    const pausing = await createTask(api);
    const orphan = await createTask(api);
    await waitUntil('the first worker to hold both tasks', async () => {
      const holders = await Promise.all([leaseHolder(pausing), leaseHolder(orphan)]);
      return holders.every((holder) => holder === 'wb-1');
    });
    await waitUntil('progress', async () => (await task(orphan)).complete_size > 0);

    doomed.child.kill('SIGKILL');
    assert.equal(await doomed.exited, 'SIGKILL');
    // Its lease is still live: the stop asks the dead worker to drain.
    assert.equal((await api.stop(pausing)).status, 200);
    assert.deepEqual((await moves(pausing)).at(-1), ['stop', 2, 7, 'tenant']);
    const kept = (await task(orphan)).complete_size;

    const heir = await worker('wb-2', base);
    await waitForStatus(pausing, 3);
    assert.deepEqual((await moves(pausing)).at(-1), ['lease_expire', 7, 3, 'lease-sweep']);
    await waitForStatus(orphan, 5);
    const leases = (await moves(orphan)).filter(([action]) => action === 'lease');
    assert.deepEqual(
      leases.map(([, , , user]) => user),
      ['user-wb-1', 'user-wb-2'],
    );
    assert.deepEqual((await moves(orphan)).at(-1), ['succeed', 2, 5, 'user-wb-2']);
    const taken = heir.lines().find((line) => line.msg === `leased task ${orphan}`);
    assert.ok(Number(taken?.complete_size) >= kept, 'the heir went on from the progress reported');
    assert.ok(
      !heir.lines().some((line) => line.msg === `leased task ${pausing}`),
      'a pausing task is not leased',
    );
  });
});

describe('two workers, two service replicas, one database', () => {
  test('no task is leased twice; all succeed', async () => {
    const second = startService();
    const secondBase = `http://127.0.0.1:${await second.port}`;
    const one = await worker('wc-1', base, { WORKER_MAX_TASKS: '3' });
    const two = await worker('wc-2', secondBase, { WORKER_MAX_TASKS: '3' });
    const api = tenant('proc-c', secondBase);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await createTask(api));
    for (const id of ids) await waitForStatus(id, 5, 30_000);

    const byWorker = new Map<string, number>();
    for (const id of ids) {
      const rows = (await moves(id)).filter(
        ([action]) => action === 'lease' || action === 'succeed',
      );
      // No worker died and heartbeats come ten times per lease: one lease, by
      // the worker that also reported the success.
      assert.equal(rows.length, 2, `task ${id}: ${JSON.stringify(rows)}`);
      assert.deepEqual(
        rows.map(([action, from, to]) => [action, from, to]),
        [
          ['lease', 2, 2],
          ['succeed', 2, 5],
        ],
      );
      assert.equal(rows[0][3], rows[1][3], `task ${id}: leased and succeeded by one worker`);
      byWorker.set(String(rows[0][3]), (byWorker.get(String(rows[0][3])) ?? 0) + 1);
    }
    assert.deepEqual([...byWorker.keys()].sort(), ['user-wc-1', 'user-wc-2'], 'both worked');
    assert.ok(
      [...byWorker.values()].every((count) => count <= 3),
      'each held at most 3',
    );
    for (const w of [one, two]) {
      assert.ok(!w.output().includes('"level":"warn"'), `no refused call:\n${w.output()}`);
    }
  });
});

describe('with events on', () => {
  test("a stop reaches the worker through its event, long before the worker's next heartbeat", async () => {
    const events = eventsEnv(MACHINE_NATS_URL);
    // Heartbeats 20 s apart: a pause confirmed within a few seconds can only
    // have come from the stop's event on NATS.
    const eventful = startServiceProcess({
      ...SERVICE_ENV,
      WORKER_LEASE_TTL_MS: '60000',
      WORKER_HEARTBEAT_INTERVAL_MS: '20000',
      DATABASE_URL: testDatabaseUrl(),
      IAM_ENDPOINT: keystone.endpoint,
      ...events.env,
    });
    services.push(eventful);
    const url = `http://127.0.0.1:${await eventful.port}`;
    const nc = await natsClient(MACHINE_NATS_URL);
    try {
      const api = tenant('proc-events', url);
      await worker('we', url, {
        DEV_WORKER_TASK_SECONDS: '600',
        EVENTS_NATS_URL: MACHINE_NATS_URL,
        EVENTS_SUBJECT_PREFIX: events.subjectPrefix,
      });
      // The relay leads and reaches NATS first: a stop before that would
      // wait for the relay's start, not for its event.
      await waitUntil('the relay to lead and reach NATS', async () => {
        const res = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(5000) });
        const { checks } = (await res.json()) as { checks?: { events?: unknown } };
        return JSON.stringify(checks?.events) === JSON.stringify({ status: 'up', leader: true });
      });
      const id = await createTask(api);
      await waitUntil('the worker to lease the task', async () => (await leaseHolder(id)) === 'we');
      assert.equal((await api.stop(id)).status, 200);
      await waitForStatus(id, 3, 5000);
      assert.deepEqual((await moves(id)).slice(-2), [
        ['stop', 2, 7, 'tenant'],
        ['confirm_pause', 7, 3, 'user-we'],
      ]);
    } finally {
      await deleteStreams(nc, events.streamPrefix);
      await nc.close();
    }
  });
});
