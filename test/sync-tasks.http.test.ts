// The sync-task family over HTTP against the real application and
// PostgreSQL: Terraform's huaweicloud_oms_migration_sync_task sequence, the
// objects, statistics and events, concurrent stops, secrets at rest, and
// every refusal with the rows checked unchanged.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import request from 'supertest';
import { TaskSecretsCipher } from '../src/tasks/task-secrets.js';
import { assertOmsError } from './support/stop-checks.js';
import { startTestApp, TEST_SECRETS_KEY, type TestApp } from './support/test-app.js';

const PROJECT = 'project-sync';
const OTHER = 'project-sync-other';
const USER = 'user-sync';

const SECRETS = [
  'SYNC-SRC-AK-000000001',
  'sync-src-sk-never-shown-0001',
  'SYNC-DST-AK-000000002',
  'DefaultEndpointsProtocol=https;AccountKey=sync-dst-connection-string-0002',
  'sync-cdn-key-never-shown-0003',
];

export function syncCreateBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    src_cloud_type: 'Aliyun',
    src_region: 'cn-hangzhou',
    src_bucket: 'src-bucket',
    src_ak: SECRETS[0],
    src_sk: SECRETS[1],
    dst_ak: SECRETS[2],
    dst_sk: SECRETS[3],
    dst_region: 'cn-north-4',
    dst_bucket: 'dst-bucket',
    description: 'keep in step',
    enable_metadata_migration: true,
    source_cdn: {
      domain: 'cdn.example.com',
      protocol: 'https',
      authentication_type: 'NONE',
      authentication_key: SECRETS[4],
    },
    ...overrides,
  };
}

const START_BODY = {
  src_ak: 'AK-NEW-1',
  src_sk: 'sk-new-1',
  dst_ak: 'AK-NEW-2',
  dst_sk: 'sk-new-2',
};

let t: TestApp;
let token: string;
let otherToken: string;
before(async () => {
  t = await startTestApp();
  token = t.keystone.issue({ projectId: PROJECT, userId: USER });
  otherToken = t.keystone.issue({ projectId: OTHER, userId: 'user-other' });
});
after(async () => t.close());
beforeEach(async () => {
  await t.db.query('TRUNCATE sync_tasks, sync_task_transitions, sync_task_events');
});

const base = (project = PROJECT) => `/v2/${project}/sync-tasks`;
const auth = <T extends request.Test>(req: T, as = token): T => req.set('X-Auth-Token', as) as T;
const api = {
  create: (body: unknown = syncCreateBody()) =>
    auth(request(t.server).post(base())).send(body as object),
  list: (query: Record<string, string | number> = {}) =>
    auth(request(t.server).get(base())).query(query),
  show: (id: string, query: Record<string, string> = { query_time: String(Date.now()) }) =>
    auth(request(t.server).get(`${base()}/${encodeURIComponent(id)}`)).query(query),
  stop: (id: string) => auth(request(t.server).post(`${base()}/${encodeURIComponent(id)}/stop`)),
  start: (id: string, body: unknown = START_BODY) =>
    auth(request(t.server).post(`${base()}/${encodeURIComponent(id)}/start`)).send(body as object),
  delete: (id: string) => auth(request(t.server).delete(`${base()}/${encodeURIComponent(id)}`)),
  statistics: (id: string, query: Record<string, string>) =>
    auth(request(t.server).get(`${base()}/${encodeURIComponent(id)}/statistics`)).query(query),
  events: (id: string, body: unknown) =>
    auth(request(t.server).post(`${base()}/${encodeURIComponent(id)}/events`)).send(body as object),
};

async function createSyncTask(body = syncCreateBody()): Promise<string> {
  const res = await api.create(body);
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(Object.keys(res.body), ['sync_task_id']);
  return res.body.sync_task_id;
}

/** Every row of the three tables, to compare before and after a refusal. */
async function snapshot() {
  const tasks = await t.db.query('SELECT * FROM sync_tasks ORDER BY id');
  const audit = await t.db.query('SELECT * FROM sync_task_transitions ORDER BY id');
  const events = await t.db.query('SELECT * FROM sync_task_events ORDER BY id');
  return { tasks: tasks.rows, audit: audit.rows, events: events.rows };
}

async function auditOf(id: string) {
  const { rows } = await t.db.query(
    'SELECT action, from_status, to_status, user_id, request_id FROM sync_task_transitions WHERE sync_task_id = $1 ORDER BY id',
    [id],
  );
  return rows;
}

describe("Terraform's huaweicloud_oms_migration_sync_task", () => {
  test('create (action = stop: stop at once), read, start with four keys, stop, destroy', async () => {
    // Create: it starts synchronizing at once.
    const id = await createSyncTask();
    // action = "stop": POST stop right after create.
    assert.equal((await api.stop(id)).status, 200);
    // Read with query_time = now in ms.
    let shown = await api.show(id);
    assert.equal(shown.status, 200, shown.text);
    assert.equal(shown.body.status, 'STOPPED');
    assert.equal(shown.body.sync_task_id, id);
    assert.equal(shown.body.monthly_acceptance_request, 0);
    assert.equal(shown.body.monthly_size, 0);
    // action changes to start: the four keys.
    const started = await api.start(id);
    assert.equal(started.status, 200, started.text);
    assert.equal(started.text, '');
    shown = await api.show(id);
    assert.equal(shown.body.status, 'SYNCHRONIZING');
    // And to stop again.
    assert.equal((await api.stop(id)).status, 200);
    await api.start(id);
    // Destroy: GET, stop if SYNCHRONIZING, DELETE, then a 404 (gone).
    shown = await api.show(id);
    assert.equal(shown.body.status, 'SYNCHRONIZING');
    assert.equal((await api.stop(id)).status, 200);
    const deleted = await api.delete(id);
    assert.equal(deleted.status, 200, deleted.text);
    assertOmsError(await api.show(id), 404, 'OMS.1009');
    assertOmsError(await api.delete(id), 404, 'OMS.1009');

    assert.deepEqual(
      (await auditOf(id)).map((row) => [row.action, row.from_status, row.to_status, row.user_id]),
      [
        ['create', null, 'SYNCHRONIZING', USER],
        ['stop', 'SYNCHRONIZING', 'STOPPED', USER],
        ['start', 'STOPPED', 'SYNCHRONIZING', USER],
        ['stop', 'SYNCHRONIZING', 'STOPPED', USER],
        ['start', 'STOPPED', 'SYNCHRONIZING', USER],
        ['stop', 'SYNCHRONIZING', 'STOPPED', USER],
        ['delete', 'STOPPED', null, USER],
      ],
    );
  });
});

describe('the sync-task object and list', () => {
  test('show has the SDK fields, the counters and no secret', async () => {
    const before = Date.now();
    const id = await createSyncTask();
    const res = await api.show(id);
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.body).sort(), [
      'consistency_check',
      'create_time',
      'description',
      'dst_bucket',
      'dst_region',
      'dst_storage_policy',
      'enable_kms',
      'enable_metadata_migration',
      'enable_restore',
      'last_start_time',
      'monthly_acceptance_request',
      'monthly_failure_object',
      'monthly_size',
      'monthly_skip_object',
      'monthly_success_object',
      'source_cdn',
      'src_bucket',
      'src_cloud_type',
      'src_region',
      'status',
      'sync_task_id',
    ]);
    assert.equal(res.body.status, 'SYNCHRONIZING');
    assert.equal(res.body.src_cloud_type, 'Aliyun');
    assert.equal(res.body.enable_metadata_migration, true);
    assert.deepEqual(res.body.source_cdn, {
      domain: 'cdn.example.com',
      protocol: 'https',
      authentication_type: 'NONE',
    });
    assert.ok(res.body.create_time >= before - 1000 && res.body.create_time < 1e13);
    for (const secret of SECRETS) assert.ok(!res.text.includes(secret));
  });

  test('list: {"tasks", "count"}, paged, filtered by status', async () => {
    const a = await createSyncTask();
    const b = await createSyncTask();
    const c = await createSyncTask();
    await api.stop(b);
    const all = await api.list();
    assert.equal(all.status, 200);
    assert.deepEqual(Object.keys(all.body).sort(), ['count', 'tasks']);
    assert.equal(all.body.count, 3);
    assert.deepEqual(
      new Set(all.body.tasks.map((x: { sync_task_id: string }) => x.sync_task_id)),
      new Set([a, b, c]),
    );
    const page = await api.list({ limit: 2, offset: 2 });
    assert.equal(page.body.tasks.length, 1);
    assert.equal(page.body.count, 3);
    const stopped = await api.list({ status: 'STOPPED' });
    assert.deepEqual(
      stopped.body.tasks.map((x: { sync_task_id: string }) => x.sync_task_id),
      [b],
    );
    assert.equal(stopped.body.count, 1);
    for (const secret of SECRETS) assert.ok(!all.text.includes(secret));
  });

  test('secrets are sealed at rest with the task secrets mechanism, start replaces them', async () => {
    const id = await createSyncTask();
    const { rows } = await t.db.query('SELECT * FROM sync_tasks WHERE id = $1', [id]);
    const stored = JSON.stringify(rows[0]) + rows[0].secrets.toString('latin1');
    for (const secret of SECRETS) assert.ok(!stored.includes(secret), 'a secret in clear');
    const cipher = new TaskSecretsCipher(TEST_SECRETS_KEY);
    assert.deepEqual(cipher.open(rows[0].secrets, PROJECT, id), {
      src_ak: SECRETS[0],
      src_sk: SECRETS[1],
      dst_ak: SECRETS[2],
      dst_sk: SECRETS[3],
      source_cdn_authentication_key: SECRETS[4],
    });
    await api.stop(id);
    await api.start(id);
    const after = await t.db.query('SELECT secrets FROM sync_tasks WHERE id = $1', [id]);
    assert.deepEqual(cipher.open(after.rows[0].secrets, PROJECT, id), START_BODY);
  });
});

describe('statistics and events', () => {
  test('statistics: the documented shape, zero for every point of the range', async () => {
    const id = await createSyncTask();
    const start = 1_767_225_600_000; // 2026-01-01T00:00Z
    const res = await api.statistics(id, {
      data_type: 'SUCCESS,SIZE',
      start_time: String(start),
      end_time: String(start + 60 * 60 * 1000),
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.sync_task_id, id);
    assert.equal(res.body.statistic_time_type, 'FIVE_MINUTES');
    assert.deepEqual(
      res.body.statistic_datas.map((d: { data_type: string }) => d.data_type),
      ['SUCCESS', 'SIZE'],
    );
    const points = res.body.statistic_datas[0].data;
    assert.equal(points.length, 13);
    assert.deepEqual(points[0], { time_stamp: start, statistic_num: 0 });
    const week = await api.statistics(id, {
      data_type: 'REQUEST',
      start_time: String(start),
      end_time: String(start + 7 * 24 * 3600 * 1000),
    });
    assert.equal(week.body.statistic_time_type, 'ONE_HOUR');
    assert.equal(week.body.statistic_datas[0].data.length, 7 * 24 + 1);
  });

  test('events: up to ten keys recorded for a data plane', async () => {
    const id = await createSyncTask();
    const keys = ['a%2Fb.txt', 'photos%2F2026%2Fx.jpg'];
    const res = await api.events(id, { object_keys: keys });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.text, '');
    const { rows } = await t.db.query(
      'SELECT object_key, project_id FROM sync_task_events WHERE sync_task_id = $1 ORDER BY id',
      [id],
    );
    assert.deepEqual(
      rows,
      keys.map((object_key) => ({ object_key, project_id: PROJECT })),
    );
    const ten = Array.from({ length: 10 }, (_, i) => `k${i}`);
    assert.equal((await api.events(id, { object_keys: ten })).status, 200);
  });
});

describe('concurrent stops', () => {
  test('16 stops at once: exactly one 200, the rest 400 OMS.0066, one audit row', async () => {
    const id = await createSyncTask();
    const answers = await Promise.all(Array.from({ length: 16 }, () => api.stop(id)));
    const ok = answers.filter((res) => res.status === 200);
    assert.equal(ok.length, 1);
    for (const res of answers.filter((r) => r.status !== 200)) {
      assertOmsError(res, 400, 'OMS.0066');
    }
    const stops = (await auditOf(id)).filter((row) => row.action === 'stop');
    assert.equal(stops.length, 1);
    assert.equal(stops[0].request_id, ok[0].headers['x-request-id']);
  });
});

describe('refusals change nothing', () => {
  const now = () => String(Date.now());
  const cases: [string, (id: string) => request.Test, number, string][] = [
    ['show without query_time', (id) => api.show(id, {}), 400, 'OMS.0064'],
    [
      'show with query_time in seconds',
      (id) => api.show(id, { query_time: '1767225600' }),
      400,
      'OMS.0064',
    ],
    ['start while synchronizing', (id) => api.start(id), 400, 'OMS.0065'],
    [
      'start without dst_sk',
      (id) => api.start(id, { ...START_BODY, dst_sk: undefined }),
      400,
      'OMS.0064',
    ],
    [
      'start with a body that is not JSON',
      (id) =>
        auth(request(t.server).post(`${base()}/${id}/start`))
          .set('Content-Type', 'application/json')
          .send('{'),
      400,
      'OMS.0067',
    ],
    ['delete while synchronizing', (id) => api.delete(id), 400, 'OMS.0063'],
    ['stop of a missing sync task', () => api.stop('no-such-sync-task'), 404, 'OMS.1009'],
    ['start of a missing sync task', () => api.start('no-such-sync-task'), 404, 'OMS.1009'],
    ['delete of a missing sync task', () => api.delete('x'.repeat(1024)), 404, 'OMS.1009'],
    ['show of a missing sync task', () => api.show('no-such-sync-task'), 404, 'OMS.1009'],
    ['an id of 1,025 characters', () => api.stop('x'.repeat(1025)), 400, 'OMS.0064'],
    ['an empty id', () => auth(request(t.server).post(`${base()}//stop`)), 400, 'OMS.0064'],
    [
      'statistics without data_type',
      (id) => api.statistics(id, { start_time: now(), end_time: now() }),
      400,
      'OMS.0064',
    ],
    [
      'statistics with an unknown data_type',
      (id) =>
        api.statistics(id, { data_type: 'SUCCESS,BYTES', start_time: now(), end_time: now() }),
      400,
      'OMS.0064',
    ],
    [
      'statistics with seconds',
      (id) => api.statistics(id, { data_type: 'SIZE', start_time: '1767225600', end_time: now() }),
      400,
      'OMS.0064',
    ],
    [
      'statistics ending before it starts',
      (id) =>
        api.statistics(id, {
          data_type: 'SIZE',
          start_time: '1767225600000',
          end_time: '1767225500000',
        }),
      400,
      'OMS.0064',
    ],
    [
      'statistics over more than 31 days',
      (id) =>
        api.statistics(id, {
          data_type: 'SIZE',
          start_time: '1700000000000',
          end_time: '1767225600000',
        }),
      400,
      'OMS.0064',
    ],
    [
      'statistics of a missing sync task',
      () => api.statistics('nope', { data_type: 'SIZE', start_time: now(), end_time: now() }),
      404,
      'OMS.1009',
    ],
    [
      'events with eleven keys',
      (id) => api.events(id, { object_keys: Array.from({ length: 11 }, (_, i) => `k${i}`) }),
      400,
      'OMS.0064',
    ],
    ['events with no keys', (id) => api.events(id, { object_keys: [] }), 400, 'OMS.0064'],
    ['events without object_keys', (id) => api.events(id, {}), 400, 'OMS.0064'],
    [
      'events with a key that is not a string',
      (id) => api.events(id, { object_keys: [7] }),
      400,
      'OMS.0064',
    ],
    ['events with an empty key', (id) => api.events(id, { object_keys: [''] }), 400, 'OMS.0064'],
    [
      'events with a key over 3,072 characters',
      (id) => api.events(id, { object_keys: ['k'.repeat(3073)] }),
      400,
      'OMS.0064',
    ],
    [
      'events of a missing sync task',
      () => api.events('nope', { object_keys: ['a'] }),
      404,
      'OMS.1009',
    ],
    [
      'create without src_ak',
      () => api.create(syncCreateBody({ src_ak: undefined })),
      400,
      'OMS.0064',
    ],
    [
      'create with an unknown cloud',
      () => api.create(syncCreateBody({ src_cloud_type: 'Nimbus' })),
      400,
      'OMS.0064',
    ],
    [
      'create with a description of 256 characters',
      () => api.create(syncCreateBody({ description: 'd'.repeat(256) })),
      400,
      'OMS.0064',
    ],
    [
      'create with <> in the description',
      () => api.create(syncCreateBody({ description: '<b>' })),
      400,
      'OMS.0064',
    ],
    [
      'create with an SK over the bound',
      () => api.create(syncCreateBody({ src_sk: 's'.repeat(16_385) })),
      400,
      'OMS.0064',
    ],
    [
      'create with a bad CDN protocol',
      () => api.create(syncCreateBody({ source_cdn: { domain: 'd', protocol: 'ftp' } })),
      400,
      'OMS.0064',
    ],
    ['list with limit 0', () => api.list({ limit: 0 }), 400, 'OMS.0064'],
    ['list with an unknown status', () => api.list({ status: 'RUNNING' }), 400, 'OMS.0064'],
    [
      "another project's token",
      (id) => auth(request(t.server).post(`${base()}/${id}/stop`), otherToken),
      403,
      'OMS.0206',
    ],
    [
      "another project's sync task through one's own path",
      (id) => auth(request(t.server).post(`${base(OTHER)}/${id}/stop`), otherToken),
      404,
      'OMS.1009',
    ],
    [
      "another project's sync task deleted through one's own path",
      (id) => auth(request(t.server).delete(`${base(OTHER)}/${id}`), otherToken),
      404,
      'OMS.1009',
    ],
  ];
  for (const [name, send, status, code] of cases) {
    test(`${name}: ${status} ${code}`, async () => {
      const id = await createSyncTask();
      const before = await snapshot();
      assertOmsError(await send(id), status, code);
      assert.deepEqual(await snapshot(), before);
    });
  }

  test('stop of a stopped sync task: 400 OMS.0066, nothing changed', async () => {
    const id = await createSyncTask();
    await api.stop(id);
    const before = await snapshot();
    assertOmsError(await api.stop(id), 400, 'OMS.0066');
    assert.deepEqual(await snapshot(), before);
  });

  test('a missing task keeps answering 400 OMS.1009', async () => {
    const res = await auth(request(t.server).post(`/v2/${PROJECT}/tasks/123456/stop`));
    assertOmsError(res, 400, 'OMS.1009');
  });
});
