// The scheduler: who is admitted first, how many, when, and that two
// service processes on one database never admit past a project's limit or
// admit a task twice. The audit trail is the witness: replaying it per
// project must never show more than the limit migrating. In one process the
// tests wait for the scheduler to be idle (TaskScheduler.whenIdle), and its
// sweep runs when a ManualClock is advanced, not after a delay.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type pg from 'pg';
import { JsonLogger } from '../src/logging/json-logger.js';
import { TaskScheduler, WAKE_COALESCE_MS } from '../src/tasks/task-scheduler.js';
import { TaskStatus } from '../src/tasks/task-state.js';
import { ManualClock } from './support/manual-clock.js';
import {
  startServiceProcess as startService,
  type ServiceProcess,
} from './support/service-process.js';
import { createBody, startBody, TaskApi } from './support/task-api.js';
import {
  auditRows,
  emptyTables,
  insertTask,
  startTestApp,
  taskStatus,
  TEST_SECRETS_KEY,
  testDatabaseUrl,
  type TestApp,
} from './support/test-app.js';
import { waitUntil } from './support/wait-until.js';

interface AuditEvent {
  id: string;
  task_id: string;
  project_id: string;
  action: string;
  from_status: number | null;
  to_status: number | null;
}

async function auditEvents(db: pg.Pool): Promise<AuditEvent[]> {
  const { rows } = await db.query(
    'SELECT id, task_id, project_id, action, from_status, to_status FROM task_transitions ORDER BY id',
  );
  return rows;
}

/**
 * The most tasks each project ever had migrating, replaying the audit trail
 * in id order. An admission's row is written after its count of running
 * tasks, under the project's lock, so a stop it relied on has a lower id:
 * the replay can only under-count a moment, never invent an excess.
 */
function peakMigrating(events: AuditEvent[]): Map<string, number> {
  const now = new Map<string, number>();
  const peak = new Map<string, number>();
  for (const event of events) {
    let n = now.get(event.project_id) ?? 0;
    if (event.to_status === TaskStatus.Migrating) n++;
    if (event.from_status === TaskStatus.Migrating) n--;
    now.set(event.project_id, n);
    peak.set(event.project_id, Math.max(peak.get(event.project_id) ?? 0, n));
  }
  return peak;
}

/** Each task's rows chain up: every move leaves the status the previous one reached. */
function assertTrailsChain(events: AuditEvent[]) {
  const last = new Map<string, number | null>();
  for (const event of events) {
    if (last.has(event.task_id)) {
      assert.equal(
        event.from_status,
        last.get(event.task_id),
        `task ${event.task_id}: ${event.action} from ${event.from_status}, but it was at ${last.get(event.task_id)}`,
      );
    } else {
      assert.equal(event.action, 'create', `task ${event.task_id} begins with ${event.action}`);
    }
    last.set(event.task_id, event.to_status);
  }
}

describe('admission in one process', () => {
  const PROJECT = 'project-scheduler';
  let t: TestApp;
  let api: TaskApi;
  let scheduler: TaskScheduler;

  const logged: string[] = [];

  before(async () => {
    // The sweep is on, but its clock never moves: after the one sweep at
    // start-up, whatever moves here moves because it was woken.
    t = await startTestApp({
      clock: new ManualClock(),
      env: { MAX_PARALLEL_TASKS: '2', SCHEDULER_SWEEP_INTERVAL_MS: '60000' },
      logger: new JsonLogger('info', (line) => logged.push(line)),
    });
    api = new TaskApi(t, PROJECT, t.keystone.issue({ projectId: PROJECT }));
    scheduler = t.app.get(TaskScheduler);
    await scheduler.whenIdle();
  });
  after(async () => t.close());
  beforeEach(async () => emptyTables(t.db));

  async function waiting(priority: number, ageSeconds: number, project = PROJECT) {
    const { rows } = await t.db.query(
      `INSERT INTO tasks (project_id, name, status, task_priority, created_at)
       VALUES ($1, 'w', 1, $2, now() - make_interval(secs => $3)) RETURNING id`,
      [project, priority, ageSeconds],
    );
    return rows[0].id as string;
  }

  test('higher priority first, then oldest; never past the limit', async () => {
    const lowOld = await waiting(1, 300);
    const highNew = await waiting(3, 10);
    const mediumOld = await waiting(2, 200);
    const mediumNew = await waiting(2, 100);
    const highOld = await waiting(3, 20);
    assert.deepEqual((await scheduler.admit(PROJECT)).sort(), [highOld, highNew].sort());
    assert.deepEqual(await scheduler.admit(PROJECT), [], 'the limit is reached');
    await t.db.query('UPDATE tasks SET status = 3 WHERE id = $1', [highOld]);
    assert.deepEqual(await scheduler.admit(PROJECT), [mediumOld]);
    await t.db.query('UPDATE tasks SET status = 3 WHERE id = ANY($1)', [[highNew, mediumOld]]);
    assert.deepEqual((await scheduler.admit(PROJECT)).sort(), [mediumNew, lowOld].sort());
  });

  test("an admission takes its project's paused tasks out of the running queue, and only those", async () => {
    const queueOf = async (id: string) =>
      (await t.db.query('SELECT queue FROM tasks WHERE id = $1', [id])).rows[0].queue;
    const ours = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const theirs = await insertTask(t.db, 'another-project', TaskStatus.Migrating);
    const running = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    await t.db.query('UPDATE tasks SET status = 3 WHERE id = ANY($1)', [[ours, theirs]]);
    assert.equal(await queueOf(ours), 2, 'a pause leaves the task in the running queue');
    const first = await waiting(2, 10);
    await waiting(2, 5);
    assert.deepEqual(await scheduler.admit(PROJECT), [first], 'the paused task holds no slot');
    assert.equal(await queueOf(ours), null);
    assert.equal(await queueOf(theirs), 2, "another project's admission is not this one's");
    assert.equal(await queueOf(running), 2);
  });

  test('retrying and pausing tasks hold slots too; other projects do not', async () => {
    await insertTask(t.db, PROJECT, TaskStatus.Retrying);
    await insertTask(t.db, 'another-project', TaskStatus.Migrating);
    await insertTask(t.db, 'another-project', TaskStatus.Migrating);
    const first = await waiting(2, 10);
    await waiting(2, 5);
    assert.deepEqual(await scheduler.admit(PROJECT), [first]);
  });

  test('an admission is audited as the scheduler, 1 → 2, sets start_time, and is logged', async () => {
    const id = await waiting(2, 10);
    logged.length = 0;
    await scheduler.admit(PROJECT);
    const lines = logged.map((line) => JSON.parse(line) as Record<string, unknown>);
    const line = lines.find(
      (l) => l.context === 'TaskScheduler' && String(l.msg).startsWith('admitted'),
    );
    assert.ok(line, 'no log line for the admission');
    assert.equal(line.level, 'info');
    assert.equal(line.project_id, PROJECT);
    assert.deepEqual(line.task_ids, [id]);
    const [audit] = await auditRows(t.db, id);
    assert.equal(line.request_id, audit.request_id, 'the line leads to the audit row');
    const { rows } = await t.db.query(
      `SELECT t.status, t.start_time IS NOT NULL AS started, a.action, a.from_status, a.to_status, a.user_id
       FROM tasks t JOIN task_transitions a ON a.task_id = t.id WHERE t.id = $1`,
      [id],
    );
    assert.deepEqual(rows, [
      {
        status: 2,
        started: true,
        action: 'admit',
        from_status: 1,
        to_status: 2,
        user_id: 'scheduler',
      },
    ]);
  });

  test('create, stop, start and delete wake it, and the pass that follows admits', async () => {
    // Each answer comes after the scheduler was woken; whenIdle() waits for
    // the pass it was woken for, so a status read then is its outcome.
    const settled = async (id: string) => {
      await scheduler.whenIdle();
      return (await api.show(id)).body.status;
    };
    const a = (await api.create()).body.id;
    const b = (await api.create()).body.id;
    const c = (await api.create()).body.id;
    assert.equal(await settled(a), TaskStatus.Migrating);
    assert.equal(await settled(b), TaskStatus.Migrating);
    assert.equal(await settled(c), TaskStatus.Waiting, 'the limit is 2');

    assert.equal((await api.stop(a)).status, 200); // frees a slot
    assert.equal(await settled(c), TaskStatus.Migrating);

    assert.equal((await api.start(a)).status, 200); // back in the queue, no slot
    assert.equal(await settled(a), TaskStatus.Waiting);

    assert.equal((await api.stop(b)).status, 200);
    assert.equal(await settled(a), TaskStatus.Migrating);

    // A delete of a waiting task in a full project wakes it too; it finds nothing to do.
    const d = (await api.create()).body.id;
    assert.equal((await api.delete(d)).status, 200);
    await scheduler.whenIdle();
    assert.deepEqual(peakMigrating(await auditEvents(t.db)), new Map([[PROJECT, 2]]));
  });

  /** Records the projects the scheduler admits into, calling through. */
  function admissions(): { projects: string[]; restore: () => void } {
    const projects: string[] = [];
    const admit = scheduler.admit;
    scheduler.admit = (projectId) => {
      projects.push(projectId);
      return admit.call(scheduler, projectId);
    };
    return { projects, restore: () => void (scheduler.admit = admit) };
  }

  test('a pass admits only in the woken projects that have waiting tasks, asking once for all', async () => {
    const id = await waiting(2, 10, 'project-with-waiting');
    await insertTask(t.db, 'project-with-paused', TaskStatus.Paused);
    const seen = admissions();
    try {
      for (const project of ['project-with-paused', 'project-with-waiting', 'project-empty']) {
        scheduler.wake(project);
      }
      await scheduler.whenIdle();
      assert.deepEqual(seen.projects, ['project-with-waiting']);
      assert.equal(await taskStatus(t.db, id), TaskStatus.Migrating);
    } finally {
      seen.restore();
    }
  });

  test('wake-ups within WAKE_COALESCE_MS of each other share one pass', async () => {
    await waiting(2, 10);
    const seen = admissions();
    try {
      scheduler.wake(PROJECT);
      await new Promise((resolve) => setTimeout(resolve, WAKE_COALESCE_MS / 4));
      scheduler.wake(PROJECT);
      await scheduler.whenIdle();
      assert.deepEqual(seen.projects, [PROJECT], 'two passes for one moment');
    } finally {
      seen.restore();
    }
  });

  test('the sweep finds waiting tasks nobody woke it for', async () => {
    const clock = new ManualClock();
    const sweeping = await startTestApp({ clock, env: { SCHEDULER_SWEEP_INTERVAL_MS: '60000' } });
    try {
      const swept = sweeping.app.get(TaskScheduler);
      await swept.whenIdle(); // the sweep at start-up, before the task exists
      const id = await waiting(2, 1, 'project-swept');
      await clock.advance(59_999);
      await swept.whenIdle();
      assert.equal(await taskStatus(t.db, id), TaskStatus.Waiting, 'admitted before the sweep');
      await clock.advance(1);
      await swept.whenIdle();
      assert.equal(await taskStatus(t.db, id), TaskStatus.Migrating, 'the sweep did not admit it');
    } finally {
      await sweeping.close();
    }
  });
});

describe('two service processes on one database', () => {
  const LIMIT = 3;
  const PROJECTS = ['contended-a', 'contended-b', 'contended-c', 'contended-d'];
  const TASKS_PER_PROJECT = 10;
  let services: ServiceProcess[] = [];
  /** For its database pool and its Keystone double, which both processes use. */
  let t: TestApp;

  before(async () => {
    t = await startTestApp();
    await emptyTables(t.db);
    const env = {
      NODE_ENV: 'production',
      DATABASE_URL: testDatabaseUrl(),
      IAM_ENDPOINT: t.keystone.endpoint,
      SECRETS_KEY: TEST_SECRETS_KEY.toString('base64'),
      MAX_PARALLEL_TASKS: String(LIMIT),
      SCHEDULER_SWEEP_INTERVAL_MS: '300',
      LOG_LEVEL: 'info',
    };
    services = [startService(env), startService(env)];
  });
  after(async () => {
    for (const service of services) service.child.kill('SIGKILL');
    await Promise.all(services.map((service) => service.exited));
    await t.close();
  });

  test('a burst of creates, stops and starts never admits past the limit, and everyone migrates', async () => {
    const ports = await Promise.all(services.map((service) => service.port));
    // A client per project per process, so every project is driven through both.
    const clients = PROJECTS.flatMap((project) => {
      const token = t.keystone.issue({ projectId: project });
      return ports.map((port) => ({
        project,
        api: TaskApi.at(`http://127.0.0.1:${port}`, project, token),
      }));
    });

    // Watch live, too: the limit must hold at every moment we can see.
    let livePeak = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const { rows } = await t.db.query(
          `SELECT count(*)::int AS n FROM tasks WHERE status = 2 GROUP BY project_id`,
        );
        livePeak = Math.max(livePeak, ...rows.map((row) => row.n));
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();

    // The burst: every client creates its share at once.
    const created = await Promise.all(
      clients.flatMap(({ api }) =>
        Array.from({ length: TASKS_PER_PROJECT / 2 }, async () => {
          const res = await api.create(createBody());
          assert.equal(res.status, 200, res.text);
          return res.body.id as number;
        }),
      ),
    );
    assert.equal(created.length, PROJECTS.length * TASKS_PER_PROJECT);

    // Churn: stop whatever migrates, start whatever is paused, through
    // alternating processes, in overlapping rounds.
    for (let round = 0; round < 6; round++) {
      const { rows } = await t.db.query('SELECT id, project_id, status FROM tasks');
      await Promise.all(
        rows.map((row, i) => {
          const client = clients.filter((c) => c.project === row.project_id)[(i + round) % 2];
          if (row.status === TaskStatus.Migrating && (i + round) % 3 !== 0)
            return client.api.stop(row.id);
          if (row.status === TaskStatus.Paused) return client.api.start(row.id, startBody());
          return undefined;
        }),
      );
    }

    // Drain: keep freeing slots (stop whatever migrates) until every task
    // has had its turn. Nothing is restarted, so this ends.
    const everAdmitted = async () =>
      new Set(
        (await auditEvents(t.db)).filter((e) => e.action === 'admit').map((e) => Number(e.task_id)),
      );
    await waitUntil(
      'waiting tasks were never admitted',
      async () => {
        if ((await everAdmitted()).size >= created.length) return true;
        const migrating = await t.db.query('SELECT id, project_id FROM tasks WHERE status = 2');
        await Promise.all(
          migrating.rows.map((row) =>
            clients.find((c) => c.project === row.project_id)!.api.stop(row.id),
          ),
        );
        return false;
      },
      { timeoutMs: 60_000, everyMs: 200 },
    );
    watching = false;
    await watcher;

    const events = await auditEvents(t.db);
    assertTrailsChain(events);
    for (const [project, peak] of peakMigrating(events)) {
      assert.ok(peak <= LIMIT, `${project} had ${peak} migrating at once (limit ${LIMIT})`);
    }
    assert.ok(livePeak <= LIMIT, `seen live: ${livePeak} migrating in one project`);
    const admitted = new Set(events.filter((e) => e.action === 'admit').map((e) => e.task_id));
    for (const id of created) assert.ok(admitted.has(String(id)), `task ${id} never migrated`);
    const admissions = events.filter((e) => e.action === 'admit').length;
    console.log(
      `contention: ${created.length} tasks, ${events.length} audit rows, ${admissions} admissions, ` +
        `peak per project ${JSON.stringify(Object.fromEntries(peakMigrating(events)))}`,
    );
  });
});
