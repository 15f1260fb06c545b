// The service process itself fails or is told to stop. SIGKILL mid-load:
// requests in flight get no answer, and after a restart on the same database
// the ledger still holds (every 200 a paused task with one audit row, no move
// without its audit row, nothing half-written). SIGTERM: no new connections,
// requests in flight answered, idle keep-alive connections do not hold the
// exit, the process exits 0.

import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { FakeKeystone } from './support/fake-keystone.js';
import {
  killServiceProcess,
  startServiceProcess,
  type ServiceProcess,
} from './support/service-process.js';
import { checkLedger, seedMigratingTasks, StopLoad } from './support/stop-load.js';
import { testDatabaseUrl } from './support/test-app.js';
import { waitUntil } from './support/wait-until.js';
import { assertPaused } from './support/stop-checks.js';

const USER = 'u-faults-process';

let keystone: FakeKeystone;
let db: pg.Pool;

before(async () => {
  keystone = await FakeKeystone.start();
  db = new pg.Pool({ connectionString: testDatabaseUrl(), max: 3 });
});
after(async () => {
  await db.end();
  await keystone.stop();
});

function start(env: Record<string, string> = {}): ServiceProcess {
  return startServiceProcess({
    NODE_ENV: 'production',
    DATABASE_URL: testDatabaseUrl(),
    IAM_ENDPOINT: keystone.endpoint,
    ...env,
  });
}

describe('SIGKILL mid-load, then a restart on the same database', () => {
  test('the ledger holds: no answer may or may not have committed, nothing half-written', async () => {
    const project = 'faults-sigkill';
    await db.query('DELETE FROM task_transitions WHERE project_id = $1', [project]);
    await db.query('DELETE FROM tasks WHERE project_id = $1', [project]);
    const token = keystone.issue({ projectId: project, userId: USER });
    const taskIds = await seedMigratingTasks(db, project, 1500);
    const loadOn = (port: number, ids: readonly string[], prefix: string) =>
      new StopLoad({
        baseUrl: `http://127.0.0.1:${port}`,
        projectId: project,
        token,
        taskIds: ids,
        concurrency: 12,
        timeoutMs: 10_000,
        duplicateEvery: 5,
        requestIdPrefix: prefix,
        backoffMs: 20,
      }).start();

    const first = start();
    let second: ServiceProcess | undefined;
    try {
      const firstLoad = loadOn(await first.port, taskIds, 'kill-a');
      await firstLoad.waitFor((o) => o.status === 200, 60);
      first.child.kill('SIGKILL');
      assert.equal(await first.exited, 'SIGKILL');
      const before = await firstLoad.halt();
      const unanswered = before.filter((o) => o.status === 0);
      assert.ok(unanswered.length >= 1, 'no request was in flight at the kill');

      // The same database, a new process: the unanswered tasks are sent
      // again (200 if the kill came before the commit, OMS.0066 if after),
      // then fresh ones.
      second = start();
      const port = await second.port;
      const retried = unanswered.map((o) => o.taskId);
      const sentBefore = new Set(before.map((o) => o.taskId));
      const fresh = taskIds.filter((id) => !sentBefore.has(id)).slice(0, 200);
      const afterRestart = await loadOn(port, [...retried, ...fresh], 'kill-b').finished();
      for (const o of afterRestart) {
        assert.ok([200, 400].includes(o.status), `${o.status} after the restart: ${o.text}`);
      }

      const outcomes = [...before, ...afterRestart];
      const counts = await checkLedger(db, project, USER, outcomes, { allowUnanswered: true });
      console.log('SIGKILL:', counts);
      // Every task sent at all ends paused: after the restart each was sent
      // until it got an answer.
      const sent = new Set(outcomes.map((o) => o.taskId));
      assert.equal(counts.paused, sent.size);
    } finally {
      await killServiceProcess(first);
      if (second) await killServiceProcess(second);
    }
  });
});

describe('SIGTERM', () => {
  test('refuses new connections, answers the requests in flight (one pipelined), exits 0', async () => {
    const project = 'faults-sigterm';
    await db.query('DELETE FROM task_transitions WHERE project_id = $1', [project]);
    await db.query('DELETE FROM tasks WHERE project_id = $1', [project]);
    const [busy, pipelined, idle] = await seedMigratingTasks(db, project, 3);
    const token = keystone.issue({ projectId: project, userId: USER });
    // Room for the test to hold the lock as long as it needs.
    const service = start({ DATABASE_STATEMENT_TIMEOUT_MS: '20000' });
    const locker = await db.connect();
    const agent = new Agent({ keepAlive: true });
    try {
      const port = await service.port;
      const post = (id: string, requestId: string) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = httpRequest(
            {
              port,
              host: '127.0.0.1',
              method: 'POST',
              path: `/v2/${project}/tasks/${id}/stop`,
              headers: { 'X-Auth-Token': token, 'X-Request-Id': requestId },
              agent,
              timeout: 30_000,
            },
            (res) => {
              let body = '';
              res.on('data', (chunk) => (body += chunk));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
            },
          );
          req.on('error', reject);
          req.on('timeout', () => req.destroy(new Error('no answer')));
          req.end();
        });

      // A keep-alive connection left idle, which must not hold up the exit.
      assert.equal((await post(idle, 'sigterm-idle')).status, 200);

      // The request in flight waits for a row lock the test holds. It has a
      // connection of its own (the keep-alive one stays idle), on which a
      // second request follows once SIGTERM has come.
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM tasks WHERE id = $1 FOR UPDATE', [busy]);
      const raw = (id: string, requestId: string) =>
        `POST /v2/${project}/tasks/${id}/stop HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
        `X-Auth-Token: ${token}\r\nX-Request-Id: ${requestId}\r\n\r\n`;
      const socket = connect(port, '127.0.0.1');
      let received = '';
      socket.on('data', (chunk) => (received += chunk));
      const closed = new Promise((resolve) => socket.on('close', resolve));
      socket.write(raw(busy, 'sigterm-busy'));
      await waitUntil('the stop to wait for the lock', async () => (await lockWaiters()) > 0, {
        timeoutMs: 15_000,
      });

      service.child.kill('SIGTERM');
      await waitUntil('new connections to be refused', async () => !(await accepts(port)), {
        timeoutMs: 15_000,
      });
      socket.write(raw(pipelined, 'sigterm-pipelined'));
      // A real process that must not exit: nothing marks "would have exited
      // by now", so it is given 300 ms of real time to do it.
      await sleep(300);
      assert.equal(service.child.exitCode, null, 'exited with a request in flight');

      await locker.query('COMMIT');
      const stopping = Date.now();
      await closed;
      const statuses = [...received.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => m[1]);
      assert.deepEqual(statuses, ['200', '200'], received);
      assert.equal(await service.exited, 0);
      const took = Date.now() - stopping;
      assert.ok(took < 8000, `exit took ${took} ms after the last request`);

      for (const [id, requestId] of [
        [busy, 'sigterm-busy'],
        [pipelined, 'sigterm-pipelined'],
      ]) {
        await assertPaused(db, id, { projectId: project, userId: USER, requestId });
      }
      assert.match(service.output(), /SIGTERM: finishing requests in flight/);
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      locker.release();
      agent.destroy();
      await killServiceProcess(service);
    }
  });
});

/** How many sessions wait for a row lock in a stop's statement. */
async function lockWaiters(): Promise<number> {
  const { rows } = await db.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity
     WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO task_transitions%'
       AND datname = current_database()`,
  );
  return rows[0].n;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}
