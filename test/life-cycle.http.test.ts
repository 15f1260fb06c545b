// The whole task life cycle over HTTP, as OMS clients drive it, against the
// real application, PostgreSQL and the scheduler: Terraform's sequence,
// Terraform's paging, the task object, secrets at rest, bandwidth policies
// and the version calls. Refusals of every kind: task-errors.http.test.ts.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, beforeEach, describe, test } from 'node:test';
import request from 'supertest';
import { TaskStatus } from '../src/tasks/task-state.js';
import { TaskSecretsCipher } from '../src/tasks/task-secrets.js';
import { MAX_TASK_ID } from '../src/tasks/task.entity.js';
import { parseMetrics } from './support/metrics-text.js';
import { assertOmsError } from './support/stop-checks.js';
import { createBody, startBody, TaskApi } from './support/task-api.js';
import {
  allAuditRows,
  auditRows,
  emptyTables,
  startTestApp,
  TEST_SECRETS_KEY,
  type TestApp,
} from './support/test-app.js';

const PROJECT = 'project-life-cycle';
const USER = 'user-terraform';

let t: TestApp;
let api: TaskApi;

before(async () => {
  // The scheduler runs here, as in production; its sweep is only a backstop.
  t = await startTestApp({ env: { SCHEDULER_SWEEP_INTERVAL_MS: '1000' } });
  api = new TaskApi(t, PROJECT, t.keystone.issue({ projectId: PROJECT, userId: USER }));
});
after(async () => t.close());
beforeEach(async () => emptyTables(t.db));

const TASK_OBJECT_KEYS = [
  'bandwidth_policy',
  'complete_size',
  'consistency_check',
  'description',
  'dst_node',
  'dst_storage_policy',
  'enable_failed_object_recording',
  'enable_kms',
  'enable_metadata_migration',
  'enable_requester_pays',
  'enable_restore',
  'error_reason',
  'failed_num',
  'group_id',
  'group_type',
  'id',
  'is_query_over',
  'left_time',
  'migrate_since',
  'migrate_speed',
  'name',
  'object_overwrite_mode',
  'progress',
  'real_size',
  'skipped_num',
  'src_node',
  'start_time',
  'status',
  'successful_num',
  'task_priority',
  'task_type',
  'total_num',
  'total_size',
  'total_time',
];

const SECRETS = [
  'SRC-AK-0000000000001',
  'src-secret-key-never-shown-0001',
  'DST-AK-0000000000002',
  'dst-secret-key-never-shown-0002',
  'src-security-token-never-shown',
];

async function createTask(body = createBody()): Promise<number> {
  const res = await api.create(body);
  assert.equal(res.status, 200, res.text);
  return res.body.id;
}

describe('the Terraform sequence', () => {
  test('create → 2 → stop → 3 → start → 2 → delete refused → stop → delete → gone', async () => {
    // migrate_since forces a new resource in Terraform: every read must give
    // back the seconds it sent, or each apply replaces the task.
    const id = await createTask(createBody({ migrate_since: 1_700_000_000 }));
    assert.equal(await api.waitForStatus(id, [2, 5]), TaskStatus.Migrating);
    assert.equal((await api.show(id)).body.migrate_since, 1_700_000_000);

    assert.equal((await api.stop(id)).status, 200);
    // Terraform fails if an immediate GET still shows 2.
    const paused = (await api.show(id)).body;
    assert.equal(paused.status, TaskStatus.Paused);
    assert.equal(paused.migrate_since, 1_700_000_000);

    const started = await api.start(id);
    assert.equal(started.status, 200, started.text);
    assert.equal(started.text, '');
    assert.equal(await api.waitForStatus(id, [2, 5]), TaskStatus.Migrating);

    assertOmsError(await api.delete(id), 400, 'OMS.0063');
    const restarted = (await api.show(id)).body;
    assert.equal(restarted.status, TaskStatus.Migrating);
    assert.equal(restarted.migrate_since, 1_700_000_000, 'start keeps it');

    assert.equal((await api.stop(id)).status, 200);
    await api.waitForStatus(id, [3]);
    const deleted = await api.delete(id);
    assert.equal(deleted.status, 200, deleted.text);
    assert.equal(deleted.text, '');

    assertOmsError(await api.show(id), 400, 'OMS.1009', /^No resources found\.$/);
    const { rows } = await t.db.query('SELECT count(*)::int AS n FROM tasks');
    assert.equal(rows[0].n, 0, 'the row is gone');

    // The audit trail tells the whole story, in order, and outlives the task.
    const trail = (await auditRows(t.db, String(id))).map((row) => [
      row.action,
      row.from_status,
      row.to_status,
      row.user_id,
    ]);
    assert.deepEqual(trail, [
      ['create', null, 1, USER],
      ['admit', 1, 2, 'scheduler'],
      ['stop', 2, 3, USER],
      ['start', 3, 1, USER],
      ['admit', 1, 2, 'scheduler'],
      ['stop', 2, 3, USER],
      ['delete', 3, null, USER],
    ]);
  });
});

describe('create', () => {
  test('answers {id, task_name}; the id is a JSON number of at most 15 digits', async () => {
    const res = await api.create();
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(Object.keys(res.body).sort(), ['id', 'task_name']);
    assert.match(res.text, /"id":[1-9][0-9]{0,14}[,}]/);
    assert.ok(Number.isSafeInteger(res.body.id) && res.body.id <= MAX_TASK_ID);
    assert.match(res.body.task_name, /^source-bucket-destination-bucket-[0-9]+$/);
    const { rows } = await t.db.query('SELECT id, name, project_id FROM tasks');
    assert.deepEqual(rows, [
      { id: String(res.body.id), name: res.body.task_name, project_id: PROJECT },
    ]);
    const [created] = await auditRows(t.db, String(res.body.id));
    assert.deepEqual(
      [created.action, created.from_status, created.to_status, created.request_id],
      ['create', null, 1, res.headers['x-request-id']],
    );
  });

  test('show gives the full task object, as the body set it', async () => {
    const id = await createTask(
      createBody({
        task_priority: 'HIGH',
        migrate_since: 1_700_000_000,
        enable_kms: true,
        consistency_check: 'crc64',
        bandwidth_policy: [{ start: '00:00', end: '06:00', max_bandwidth: 20_971_520 }],
      }),
    );
    await api.waitForStatus(id, [2]);
    const res = await api.show(id);
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.body).sort(), TASK_OBJECT_KEYS);
    const task = res.body;
    assert.equal(task.id, id);
    assert.equal(task.description, 'nightly copy');
    assert.equal(task.task_type, 'object');
    assert.equal(task.task_priority, 'HIGH');
    assert.equal(task.group_type, 'NORMAL_TASK');
    assert.equal(task.migrate_since, 1_700_000_000, 'seconds in, seconds out');
    assert.ok(task.start_time > Date.now() - 60_000 && task.start_time <= Date.now());
    assert.equal(task.enable_kms, true);
    assert.equal(task.enable_restore, false);
    assert.equal(task.consistency_check, 'crc64');
    assert.deepEqual(task.src_node, {
      bucket: 'source-bucket',
      cloud_type: 'Aliyun',
      region: 'cn-hangzhou',
      object_key: ['photos/', 'logs/2026/'],
    });
    assert.deepEqual(task.dst_node, {
      bucket: 'destination-bucket',
      region: 'cn-north-4',
      save_prefix: 'copied/',
    });
    assert.deepEqual(task.bandwidth_policy, [
      { start: '00:00', end: '06:00', max_bandwidth: 20_971_520 },
    ]);
    for (const field of ['progress', 'complete_size', 'total_size', 'total_num', 'failed_num']) {
      assert.equal(typeof task[field], 'number', field);
    }
  });

  test('a task created by hand with only the required columns still shows', async () => {
    const { rows } = await t.db.query(
      `INSERT INTO tasks (project_id, name, status) VALUES ($1, 'by-hand', 4) RETURNING id`,
      [PROJECT],
    );
    const res = await api.show(rows[0].id);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.name, 'by-hand');
    assert.equal(res.body.status, TaskStatus.Failed);
    assert.equal(res.body.task_priority, 'MEDIUM');
    assert.deepEqual(res.body.src_node, { bucket: '', cloud_type: '', region: '' });
  });

  test('an id an operator took by hand is skipped, not collided with', async () => {
    const { rows } = await t.db.query(
      `SELECT nextval(pg_get_serial_sequence('tasks', 'id'))::bigint + 1 AS next`,
    );
    const taken = String(rows[0].next);
    await t.db.query(`INSERT INTO tasks (id, project_id, name, status) VALUES ($1, $2, 'x', 3)`, [
      taken,
      PROJECT,
    ]);
    const id = await createTask();
    assert.notEqual(String(id), taken);
    assert.ok(id > Number(taken));
  });

  test('a name cut from buckets ending in an emoji keeps whole characters, the same in create and show', async () => {
    // 109 letters and an emoji: 110 characters, 111 UTF-16 units.
    const source = `${'s'.repeat(109)}😀`;
    const destination = `${'d'.repeat(109)}🚀🚀`;
    const res = await api.create(
      createBody({
        src_node: { ...(createBody().src_node as object), bucket: source },
        dst_node: { ...(createBody().dst_node as object), bucket: destination },
      }),
    );
    assert.equal(res.status, 200, res.text);
    const name: string = res.body.task_name;
    assert.equal(name, `${source}-${'d'.repeat(109)}🚀-${res.body.id}`);
    assert.doesNotMatch(name, /[\uD800-\uDFFF]/u, 'no lone surrogate');
    assert.equal((await api.show(res.body.id)).body.name, name);
    const { rows } = await t.db.query('SELECT name FROM tasks WHERE id = $1', [res.body.id]);
    assert.equal(rows[0].name, name);
  });
});

describe('secrets', () => {
  const body = () =>
    createBody({
      src_node: {
        ...(createBody().src_node as object),
        security_token: 'src-security-token-never-shown',
      },
    });

  test('are never returned by create, show or list', async () => {
    const created = await api.create(body());
    const shown = await api.show(created.body.id);
    const listed = await api.list();
    for (const res of [created, shown, listed]) {
      for (const secret of SECRETS) assert.ok(!res.text.includes(secret), `${secret} returned`);
      assert.doesNotMatch(res.text, /"(ak|sk|security_token|secrets)"/);
    }
  });

  test('are stored sealed with AES-256-GCM, bound to the task, and open with the key', async () => {
    const id = String(await createTask(body()));
    const { rows } = await t.db.query(
      `SELECT secrets, src_node::text, dst_node::text, options::text FROM tasks JOIN task_details ON task_id = id WHERE id = $1`,
      [id],
    );
    const row = rows[0];
    const everything = Buffer.concat([
      row.secrets,
      Buffer.from(row.src_node + row.dst_node + row.options),
    ]).toString('latin1');
    for (const secret of SECRETS) assert.ok(!everything.includes(secret), `${secret} in clear`);

    const cipher = new TaskSecretsCipher(TEST_SECRETS_KEY);
    assert.deepEqual(cipher.open(row.secrets, PROJECT, id), {
      src_ak: 'SRC-AK-0000000000001',
      src_sk: 'src-secret-key-never-shown-0001',
      src_security_token: 'src-security-token-never-shown',
      dst_ak: 'DST-AK-0000000000002',
      dst_sk: 'dst-secret-key-never-shown-0002',
    });
    // Moved onto another task, the blob does not open.
    assert.throws(() => cipher.open(row.secrets, PROJECT, String(Number(id) + 1)));
  });

  test('start replaces them with the keys it brings', async () => {
    const id = String(await createTask());
    await api.waitForStatus(id, [2]);
    assert.equal((await api.stop(id)).status, 200);
    const res = await api.start(id, startBody({ dst_security_token: 'dst-token-from-start' }));
    assert.equal(res.status, 200, res.text);
    const { rows } = await t.db.query(
      'SELECT secrets FROM tasks JOIN task_details ON task_id = id WHERE id = $1',
      [id],
    );
    const opened = new TaskSecretsCipher(TEST_SECRETS_KEY).open(rows[0].secrets, PROJECT, id);
    assert.deepEqual(opened, {
      src_ak: 'SRC-AK-0000000000011',
      src_sk: 'src-secret-key-on-start-0011',
      dst_ak: 'DST-AK-0000000000012',
      dst_sk: 'dst-secret-key-on-start-0012',
      dst_security_token: 'dst-token-from-start',
    });
  });
});

describe('list', () => {
  async function insertMany(count: number, status = TaskStatus.Paused, groupId?: string) {
    await t.db.query(
      `INSERT INTO tasks (project_id, name, status, group_id)
       SELECT $1, 'bulk-' || n, $2, $3 FROM generate_series(1, $4) AS n`,
      [PROJECT, status, groupId ?? null, count],
    );
  }

  test('250 tasks paged as Terraform pages (limit 100) come back exactly once each', async () => {
    await insertMany(250);
    const seen: number[] = [];
    let offset = 0;
    for (;;) {
      const res = await api.list({ limit: 100, offset });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.count, 250, 'count is of all matches, not of the page');
      seen.push(...res.body.tasks.map((task: { id: number }) => task.id));
      if (res.body.tasks.length < 100) break;
      offset += res.body.tasks.length;
    }
    assert.equal(seen.length, 250);
    assert.equal(new Set(seen).size, 250, 'no task twice');
    const { rows } = await t.db.query('SELECT id FROM tasks WHERE project_id = $1', [PROJECT]);
    assert.deepEqual(
      [...seen].sort((a, b) => a - b),
      rows.map((row) => Number(row.id)).sort((a, b) => a - b),
    );
  });

  test('defaults to 10 per page, oldest first by id, with the full task object', async () => {
    await insertMany(12);
    const res = await api.list();
    assert.equal(res.status, 200);
    assert.equal(res.body.tasks.length, 10);
    assert.equal(res.body.count, 12);
    assert.deepEqual(Object.keys(res.body.tasks[0]).sort(), TASK_OBJECT_KEYS);
    const ids = res.body.tasks.map((task: { id: number }) => task.id);
    const { rows } = await t.db.query(
      'SELECT id FROM tasks WHERE project_id = $1 ORDER BY id LIMIT 10',
      [PROJECT],
    );
    assert.deepEqual(
      ids,
      rows.map((row) => Number(row.id)),
    );
  });

  test('answers migrate_since in the seconds create was given, as show does', async () => {
    const id = await createTask(createBody({ migrate_since: 1_700_000_123 }));
    const unset = await createTask();
    const res = await api.list();
    assert.equal(res.status, 200);
    const since = Object.fromEntries(
      res.body.tasks.map((task: { id: number; migrate_since: number }) => [
        task.id,
        task.migrate_since,
      ]),
    );
    assert.deepEqual(since, { [id]: 1_700_000_123, [unset]: 0 });
    assert.equal((await api.show(id)).body.migrate_since, 1_700_000_123);
    const { rows } = await t.db.query(
      'SELECT extract(epoch FROM migrate_since)::bigint AS s FROM tasks JOIN task_details ON task_id = id WHERE id = $1',
      [id],
    );
    assert.equal(rows[0].s, '1700000123', 'the row holds that instant');
  });

  test('a task created between two pages: no task comes twice, the new one comes last', async () => {
    await insertMany(15);
    const first = await api.list({ limit: 10, offset: 0 });
    assert.equal(first.status, 200, first.text);
    const created = await createTask();
    const second = await api.list({ limit: 10, offset: 10 });
    assert.equal(second.status, 200, second.text);
    const seen = [...first.body.tasks, ...second.body.tasks].map((task: { id: number }) => task.id);
    assert.equal(new Set(seen).size, seen.length, `a task came twice: ${seen.join(' ')}`);
    const { rows } = await t.db.query('SELECT id FROM tasks WHERE project_id = $1', [PROJECT]);
    assert.deepEqual(
      [...seen].sort((a, b) => a - b),
      rows.map((row) => Number(row.id)).sort((a, b) => a - b),
      'every task, the one created meanwhile included',
    );
    assert.equal(seen.at(-1), created);
  });

  test('filters by status and group_id; count follows the filter', async () => {
    await insertMany(3, TaskStatus.Paused, 'group-a');
    await insertMany(2, TaskStatus.Failed, 'group-a');
    await insertMany(4, TaskStatus.Failed);
    const failed = await api.list({ status: 4 });
    assert.equal(failed.body.count, 6);
    assert.ok(failed.body.tasks.every((task: { status: number }) => task.status === 4));
    const groupA = await api.list({ group_id: 'group-a' });
    assert.equal(groupA.body.count, 5);
    const both = await api.list({ group_id: 'group-a', status: 4 });
    assert.equal(both.body.count, 2);
    const beyond = await api.list({ offset: 100 });
    assert.deepEqual(beyond.body, { tasks: [], count: 9 });
  });

  test("another project's tasks are not listed", async () => {
    await insertMany(2);
    await t.db.query(`INSERT INTO tasks (project_id, name, status) VALUES ('other', 'x', 3)`);
    assert.equal((await api.list()).body.count, 2);
  });
});

describe('bandwidth policy', () => {
  test('PUT replaces the whole policy, and show shows it', async () => {
    const id = await createTask(
      createBody({
        bandwidth_policy: [{ start: '01:00', end: '02:00', max_bandwidth: 1_048_576 }],
      }),
    );
    const policy = [
      { start: '22:00', end: '02:00', max_bandwidth: 209_715_200 },
      { start: '08:00', end: '18:00', max_bandwidth: 10_485_760 },
    ];
    const res = await api.setBandwidth(id, { bandwidth_policy: policy });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.text, '');
    assert.deepEqual((await api.show(id)).body.bandwidth_policy, policy);
    const { rows } = await t.db.query(
      'SELECT bandwidth_policy FROM tasks JOIN task_details ON task_id = id WHERE id = $1',
      [id],
    );
    assert.deepEqual(rows[0].bandwidth_policy, policy);
  });

  test('writes one audit row: who, which request, the status unchanged; not a status transition', async () => {
    const id = await createTask();
    await api.waitForStatus(id, [2]); // admitted: no more moves come by themselves
    const before = await auditRows(t.db, String(id));
    assert.equal(before.length, 2);
    const res = await api
      .setBandwidth(id, {
        bandwidth_policy: [{ start: '03:00', end: '04:00', max_bandwidth: 5_242_880 }],
      })
      .set('X-Request-Id', 'bandwidth-audit-1');
    assert.equal(res.status, 200, res.text);
    const after = await auditRows(t.db, String(id));
    assert.equal(after.length, before.length + 1);
    const { rows } = await t.db.query('SELECT status FROM tasks WHERE id = $1', [id]);
    const row = after.at(-1)!;
    assert.deepEqual(
      [row.action, row.from_status, row.to_status, row.user_id, row.request_id, row.project_id],
      ['update_bandwidth', rows[0].status, rows[0].status, USER, 'bandwidth-audit-1', PROJECT],
    );
    // The transition metrics count status changes; this one changed none.
    const metrics = await request(t.server).get('/metrics');
    const transitions = parseMetrics(metrics.text).filter(
      (s) => s.name === 'oms_task_transitions_total',
    );
    assert.ok(transitions.length > 0);
    for (const s of transitions) assert.notEqual(s.labels.from, s.labels.to, JSON.stringify(s));
  });

  test('refused for a task that has succeeded: 400 OMS.0070, no audit row', async () => {
    const { rows } = await t.db.query(
      `INSERT INTO tasks (project_id, name, status) VALUES ($1, 'done', 5) RETURNING id`,
      [PROJECT],
    );
    const res = await api.setBandwidth(rows[0].id, { bandwidth_policy: [] });
    assertOmsError(res, 400, 'OMS.0070');
    assert.deepEqual(await allAuditRows(t.db), []);
  });

  test('an empty list removes every limit', async () => {
    const id = await createTask(
      createBody({
        bandwidth_policy: [{ start: '01:00', end: '02:00', max_bandwidth: 1_048_576 }],
      }),
    );
    assert.equal((await api.setBandwidth(id, { bandwidth_policy: [] })).status, 200);
    assert.deepEqual((await api.show(id)).body.bandwidth_policy, []);
  });
});

describe('API versions', () => {
  const token = () => t.keystone.issue({ projectId: 'any-project', roles: ['reader'] });

  test('GET / lists v2 with a self link', async () => {
    const res = await request(t.server)
      .get('/')
      .set('X-Auth-Token', token())
      .set('Host', 'oms.example.com');
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, {
      versions: [
        {
          id: 'v2',
          links: [{ href: 'http://oms.example.com/v2/', rel: 'self' }],
          status: 'CURRENT',
          updated: res.body.versions[0].updated,
        },
      ],
    });
    assert.match(res.body.versions[0].updated, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  test('GET /v2 is the same version, unwrapped; a strange Host gives a relative link', async () => {
    const res = await request(t.server)
      .get('/v2')
      .set('X-Auth-Token', token())
      .set('Host', 'evil.example.com/<script>');
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(Object.keys(res.body).sort(), ['id', 'links', 'status', 'updated']);
    assert.deepEqual(res.body.links, [{ href: '/v2/', rel: 'self' }]);
  });

  test('need a valid credential', async () => {
    assertOmsError(await request(t.server).get('/'), 401, 'APIGW.0301');
    assertOmsError(await request(t.server).get('/v2'), 401, 'APIGW.0301');
  });
});

describe('OpenAPI', () => {
  test('/docs-json serves the document committed as openapi.json', async () => {
    const res = await request(t.server).get('/docs-json');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, JSON.parse(readFileSync('openapi.json', 'utf8')));
  });

  test('/docs serves the UI without credentials', async () => {
    const res = await request(t.server).get('/docs').redirects(2);
    assert.equal(res.status, 200);
    assert.match(res.text, /swagger-ui/i);
  });
});

test('no audit row is ever written without a task change (sanity of the fixtures)', async () => {
  assert.deepEqual(await allAuditRows(t.db), []);
});
