// The task-group leftovers of issue 14 over HTTP, each with its rows:
// smn_config and source_cdn (validated, stored, shown as the SDK's response
// model names them, copied to every task, the CDN key sealed and never
// shown), list_file_num (one task per list file), the start and retry keys
// (start requires dst_ak / dst_sk, retry none), the group audit trail
// (task_group_transitions) and the lost answer it settles; then the sync
// tasks' quota, their moves in the transition metrics, and their events
// settled after a lost answer.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type pg from 'pg';
import request from 'supertest';
import { TaskSecretsCipher } from '../src/tasks/task-secrets.js';
import { parseMetrics, series } from './support/metrics-text.js';
import { assertOmsError } from './support/stop-checks.js';
import { GROUP_SECRETS, groupBody, groupKeys, TaskGroupApi } from './support/task-group-api.js';
import { TcpProxy } from './support/tcp-proxy.js';
import {
  emptyTables,
  startTestApp,
  testDatabaseUrl,
  TEST_SECRETS_KEY,
  type TestApp,
} from './support/test-app.js';

const PROJECT = 'project-group-extras';
const USER = 'user-group-extras';
const CDN_KEY = 'cdn-auth-key-never-shown-0001';
const TOPIC = 'urn:smn:cn-north-4:0123456789abcdef0123456789abcdef:oms_done';
const cipher = new TaskSecretsCipher(TEST_SECRETS_KEY);

const SMN = { topic_urn: TOPIC, trigger_conditions: ['FAILURE', 'SUCCESS'], language: 'zh-cn' };
const CDN = {
  domain: 'cdn.example.com',
  protocol: 'https',
  authentication_type: 'ALIYUN_OSS_A',
  authentication_key: CDN_KEY,
};

function listBody(listFile: Record<string, unknown>, overrides: Record<string, unknown> = {}) {
  const base = groupBody();
  const src = { ...(base.src_node as Record<string, unknown>) };
  delete src.object_key;
  return groupBody({ task_type: 'LIST', src_node: { ...src, list_file: listFile }, ...overrides });
}

async function everyRow(db: pg.Pool) {
  const [groups, tasks, groupAudit, taskAudit] = await Promise.all(
    [
      'SELECT * FROM task_groups ORDER BY id',
      'SELECT * FROM tasks ORDER BY id',
      'SELECT * FROM task_group_transitions ORDER BY id',
      'SELECT * FROM task_transitions ORDER BY id',
    ].map((sql) => db.query(sql)),
  );
  return [groups.rows, tasks.rows, groupAudit.rows, taskAudit.rows];
}

async function groupAudit(db: pg.Pool, groupId: string) {
  const { rows } = await db.query(
    `SELECT action, from_status, to_status, user_id, request_id, project_id
     FROM task_group_transitions WHERE group_id = $1 ORDER BY id`,
    [groupId],
  );
  return rows.map((r) => [r.action, r.from_status, r.to_status, r.user_id, r.request_id]);
}

describe('task groups', () => {
  let t: TestApp;
  let api: TaskGroupApi;
  before(async () => {
    t = await startTestApp();
    api = new TaskGroupApi(t, PROJECT, t.keystone.issue({ projectId: PROJECT, userId: USER }));
  });
  after(async () => t.close());
  beforeEach(async () => emptyTables(t.db));

  test('smn_config and source_cdn: stored, shown as SmnInfo / SourceCdnResp, copied to each task, the key sealed', async () => {
    const res = await api.create(groupBody({ smn_config: SMN, source_cdn: CDN }));
    assert.equal(res.status, 200, res.text);
    const id = res.body.group_id;

    const shown = await api.show(id);
    assert.equal(shown.status, 200, shown.text);
    assert.deepEqual(shown.body.smn_config, { topic_name: 'oms_done' });
    assert.deepEqual(shown.body.source_cdn, {
      domain: 'cdn.example.com',
      protocol: 'https',
      authentication_type: 'ALIYUN_OSS_A',
    });
    const listed = await api.list();
    assert.deepEqual(listed.body.taskgroups[0].source_cdn, shown.body.source_cdn);
    for (const text of [res.text, shown.text, listed.text, (await api.tasks(id)).text]) {
      assert.ok(!text.includes(CDN_KEY), 'the CDN key is never answered');
    }

    const stored = {
      topic_urn: TOPIC,
      trigger_conditions: ['FAILURE', 'SUCCESS'],
      language: 'zh-cn',
    };
    const cdn = {
      domain: 'cdn.example.com',
      protocol: 'https',
      authentication_type: 'ALIYUN_OSS_A',
    };
    const { rows: groups } = await t.db.query(
      'SELECT options, secrets, options::text AS text FROM task_groups WHERE id = $1',
      [id],
    );
    assert.deepEqual(groups[0].options.smn_config, stored);
    assert.deepEqual(groups[0].options.source_cdn, cdn);
    assert.ok(!groups[0].text.includes(CDN_KEY));
    assert.equal(
      cipher.open(groups[0].secrets, PROJECT, `group/${id}`).source_cdn_authentication_key,
      CDN_KEY,
    );
    const { rows: tasks } = await t.db.query(
      'SELECT id::text, options, secrets FROM tasks JOIN task_details ON task_id = id WHERE group_id = $1 ORDER BY id',
      [id],
    );
    assert.equal(tasks.length, 3);
    for (const task of tasks) {
      assert.deepEqual(task.options.smn_config, stored);
      assert.deepEqual(task.options.source_cdn, cdn);
      assert.ok(!Buffer.from(task.secrets).includes(CDN_KEY), 'sealed, not in clear');
      assert.equal(
        cipher.open(task.secrets, PROJECT, task.id).source_cdn_authentication_key,
        CDN_KEY,
      );
    }
  });

  test('smn_config without a language gets en-us; a group without either shows neither', async () => {
    const { topic_urn, trigger_conditions } = SMN;
    const id = (await api.create(groupBody({ smn_config: { topic_urn, trigger_conditions } }))).body
      .group_id;
    const { rows } = await t.db.query(
      'SELECT options FROM tasks JOIN task_details ON task_id = id WHERE group_id = $1',
      [id],
    );
    for (const row of rows) assert.equal(row.options.smn_config.language, 'en-us');
    const plain = (await api.create(groupBody())).body.group_id;
    const shown = await api.show(plain);
    assert.equal('smn_config' in shown.body, false);
    assert.equal('source_cdn' in shown.body, false);
  });

  const hostile: [string, Record<string, unknown>, RegExp][] = [
    ['smn_config not an object', { smn_config: 'urn' }, /smn_config/],
    [
      'smn_config without topic_urn',
      { smn_config: { trigger_conditions: ['SUCCESS'] } },
      /topic_urn/,
    ],
    [
      'a topic_urn that is no SMN URN',
      { smn_config: { ...SMN, topic_urn: 'urn:obs:x:y:z' } },
      /topic_urn/,
    ],
    [
      'a topic name too long',
      { smn_config: { ...SMN, topic_urn: `${TOPIC}${'x'.repeat(250)}` } },
      /topic_urn/,
    ],
    ['no trigger_conditions', { smn_config: { topic_urn: TOPIC } }, /trigger_conditions/],
    [
      'empty trigger_conditions',
      { smn_config: { ...SMN, trigger_conditions: [] } },
      /trigger_conditions/,
    ],
    [
      'an unknown trigger',
      { smn_config: { ...SMN, trigger_conditions: ['DONE'] } },
      /trigger_conditions/,
    ],
    [
      'a repeated trigger',
      { smn_config: { ...SMN, trigger_conditions: ['SUCCESS', 'SUCCESS'] } },
      /trigger_conditions/,
    ],
    ['an unknown language', { smn_config: { ...SMN, language: 'fr-fr' } }, /language/],
    ['source_cdn not an object', { source_cdn: ['cdn'] }, /source_cdn/],
    ['source_cdn without a domain', { source_cdn: { protocol: 'https' } }, /domain/],
    ['a CDN protocol of ftp', { source_cdn: { ...CDN, protocol: 'ftp' } }, /protocol/],
    [
      'an unknown authentication type',
      { source_cdn: { ...CDN, authentication_type: 'MAGIC' } },
      /authentication_type/,
    ],
    [
      'a CDN key over 255 characters',
      { source_cdn: { ...CDN, authentication_key: 'k'.repeat(256) } },
      /authentication_key/,
    ],
    [
      'a CDN key that is a number',
      { source_cdn: { ...CDN, authentication_key: 42 } },
      /authentication_key/,
    ],
  ];
  for (const [what, fields, field] of hostile) {
    test(`create with ${what}: 400 OMS.0064 naming the field, nothing created`, async () => {
      const res = await api.create(groupBody(fields));
      assertOmsError(res, 400, 'OMS.0064');
      assert.match(res.body.error_msg, field);
      assert.ok(!res.text.includes(CDN_KEY));
      assert.deepEqual(await everyRow(t.db), [[], [], [], []]);
    });
  }

  test('list_file_num: one list task per list file of the folder, <folder>/<i>.txt', async () => {
    const res = await api.create(
      listBody({ list_file_key: 'lists/', obs_bucket: 'list-bucket', list_file_num: '3' }),
    );
    assert.equal(res.status, 200, res.text);
    const { rows } = await t.db.query(
      `SELECT task_type, src_node->'list_file' AS list_file FROM tasks JOIN task_details ON task_id = id WHERE group_id = $1 ORDER BY id`,
      [res.body.group_id],
    );
    assert.deepEqual(
      rows.map((row) => [row.task_type, row.list_file.list_file_key, row.list_file.obs_bucket]),
      [1, 2, 3].map((i) => ['list', `lists/${i}.txt`, 'list-bucket']),
    );
    const shown = await api.show(res.body.group_id);
    assert.equal(shown.body.total_task_num, 3);
    assert.equal(shown.body.src_node.list_file.list_file_num, '3');
  });

  for (const [what, listFile] of [
    ['list_file_num 0', { list_file_num: '0' }],
    ['list_file_num 2001', { list_file_num: '2001' }],
    ['list_file_num as a number', { list_file_num: 3 }],
    ['list_file_num with a sign', { list_file_num: '+3' }],
    ['a folder too long for its files', { list_file_key: 'k'.repeat(1020), list_file_num: '10' }],
  ] as const) {
    test(`LIST group with ${what}: 400 OMS.0064, nothing created`, async () => {
      const res = await api.create(
        listBody({ list_file_key: 'lists', obs_bucket: 'list-bucket', ...listFile }),
      );
      assertOmsError(res, 400, 'OMS.0064');
      assert.match(res.body.error_msg, /list_file/);
      assert.deepEqual(await everyRow(t.db), [[], [], [], []]);
    });
  }

  test('list_file_num counts against MAX_TASKS_PER_PROJECT: 400 OMS.0077, nothing created', async () => {
    const small = await startTestApp({ env: { MAX_TASKS_PER_PROJECT: '4' } });
    try {
      const smallApi = new TaskGroupApi(
        small,
        PROJECT,
        small.keystone.issue({ projectId: PROJECT }),
      );
      await emptyTables(small.db);
      const res = await smallApi.create(
        listBody({ list_file_key: 'lists', obs_bucket: 'b', list_file_num: '5' }),
      );
      assertOmsError(res, 400, 'OMS.0077');
      assert.deepEqual(await everyRow(small.db), [[], [], [], []]);
    } finally {
      await small.close();
    }
  });

  test('start without dst_ak or dst_sk: 400 OMS.0064 naming it, nothing changed', async () => {
    const id = (await api.create()).body.group_id;
    assert.equal((await api.stop(id)).status, 200);
    const before = await everyRow(t.db);
    for (const field of ['dst_ak', 'dst_sk']) {
      const keys: Record<string, string> = groupKeys();
      delete keys[field];
      const res = await api.start(id, keys);
      assertOmsError(res, 400, 'OMS.0064');
      assert.match(res.body.error_msg, new RegExp(field));
    }
    assert.deepEqual(await everyRow(t.db), before);
  });

  test('retry needs no key: the tasks keep theirs, and take the ones a body brings', async () => {
    const id = (await api.create()).body.group_id;
    await t.db.query('UPDATE task_groups SET status = 5 WHERE id = $1', [id]);
    await t.db.query('UPDATE tasks SET status = 4 WHERE group_id = $1', [id]);
    const res = await api.retry(id, {});
    assert.equal(res.status, 200, res.text);
    const keysOf = async () =>
      (
        await t.db.query(
          'SELECT id::text, status, secrets FROM tasks JOIN task_details ON task_id = id WHERE group_id = $1',
          [id],
        )
      ).rows.map((row) => ({ status: row.status, ...cipher.open(row.secrets, PROJECT, row.id) }));
    for (const task of await keysOf()) {
      assert.equal(task.status, 1);
      assert.deepEqual(
        [task.src_ak, task.src_sk, task.dst_ak, task.dst_sk],
        GROUP_SECRETS,
        'unchanged',
      );
    }
    await t.db.query('UPDATE task_groups SET status = 5 WHERE id = $1', [id]);
    await t.db.query('UPDATE tasks SET status = 4 WHERE group_id = $1', [id]);
    assert.equal(
      (await api.retry(id, { dst_ak: 'NEW-DST-AK-1', dst_sk: 'new-dst-sk-1' })).status,
      200,
    );
    for (const task of await keysOf()) {
      assert.deepEqual(
        [task.src_ak, task.src_sk, task.dst_ak, task.dst_sk],
        [GROUP_SECRETS[0], GROUP_SECRETS[1], 'NEW-DST-AK-1', 'new-dst-sk-1'],
      );
    }
  });

  test('every group write leaves one audit row in its transaction; a refused one none', async () => {
    const id = (await api.create().set('X-Request-Id', 'g-create')).body.group_id;
    assert.equal((await api.stop(id).set('X-Request-Id', 'g-stop')).status, 200);
    assertOmsError(await api.stop(id).set('X-Request-Id', 'g-stop-again'), 400, 'OMS.0066');
    assert.equal(
      (await api.update(id, { bandwidth_policy: [] }).set('X-Request-Id', 'g-update')).status,
      200,
    );
    assert.equal((await api.start(id).set('X-Request-Id', 'g-start')).status, 200);
    assert.equal((await api.stop(id).set('X-Request-Id', 'g-stop-2')).status, 200);
    await t.db.query('UPDATE task_groups SET status = 5 WHERE id = $1', [id]);
    await t.db.query('UPDATE tasks SET status = 4 WHERE group_id = $1', [id]);
    assert.equal((await api.retry(id).set('X-Request-Id', 'g-retry')).status, 200);
    assert.equal((await api.stop(id).set('X-Request-Id', 'g-stop-3')).status, 200);
    assert.equal((await api.delete(id).set('X-Request-Id', 'g-delete')).status, 200);
    assert.deepEqual(await groupAudit(t.db, id), [
      ['create', null, 2, USER, 'g-create'],
      ['stop', 2, 3, USER, 'g-stop'],
      ['update', 3, 3, USER, 'g-update'],
      ['start', 3, 2, USER, 'g-start'],
      ['stop', 2, 3, USER, 'g-stop-2'],
      ['retry', 5, 2, USER, 'g-retry'],
      ['stop', 2, 3, USER, 'g-stop-3'],
      ['delete', 3, null, USER, 'g-delete'],
    ]);
    const { rows } = await t.db.query('SELECT 1 FROM task_groups WHERE id = $1', [id]);
    assert.equal(rows.length, 0, 'the trail outlives the group');
  });
});

describe('task groups: a connection lost after the commit, before the answer', () => {
  let proxy: TcpProxy;
  before(async () => (proxy = await TcpProxy.inFrontOf(testDatabaseUrl())));
  after(async () => proxy.stop());

  async function appViaProxy() {
    const t = await startTestApp({
      databaseUrl: proxy.urlThrough(testDatabaseUrl()),
      env: { DATABASE_POOL_SIZE: '1', DATABASE_STATEMENT_TIMEOUT_MS: '1000' },
    });
    await emptyTables(t.db);
    return {
      t,
      api: new TaskGroupApi(t, PROJECT, t.keystone.issue({ projectId: PROJECT, userId: USER })),
    };
  }

  for (const action of ['create', 'stop', 'delete'] as const) {
    test(`${action} committed: 200, settled by its audit row, done once`, async () => {
      const { t, api } = await appViaProxy();
      try {
        let id = '';
        if (action !== 'create') id = (await api.create()).body.group_id;
        if (action === 'delete') assert.equal((await api.stop(id)).status, 200);
        proxy.loseAnswerTo('COMMIT');
        const res =
          action === 'create'
            ? await api.create().set('X-Request-Id', 'lost-create')
            : await api[action](id).set('X-Request-Id', `lost-${action}`);
        assert.equal(res.status, 200, res.text);
        if (action === 'create') id = res.body.group_id;
        const rows = await groupAudit(t.db, id);
        assert.deepEqual(rows.at(-1)!.slice(0, 1).concat(rows.at(-1)!.slice(4)), [
          action,
          `lost-${action}`,
        ]);
        assert.equal(rows.filter((row) => row[4] === `lost-${action}`).length, 1);
      } finally {
        await t.close();
      }
    });
  }

  test('stop lost before its commit: 503, nothing changed', async () => {
    const { t, api } = await appViaProxy();
    try {
      const id = (await api.create()).body.group_id;
      const before = await everyRow(t.db);
      proxy.loseAnswerTo('UPDATE task_groups SET status');
      const res = await api.stop(id).set('X-Request-Id', 'lost-early');
      assertOmsError(res, 503, 'OMS.2004');
      assert.deepEqual(await everyRow(t.db), before);
    } finally {
      await t.close();
    }
  });
});

describe('sync tasks', () => {
  let t: TestApp;
  let token: string;
  const SYNC = 'project-sync-extras';
  before(async () => {
    t = await startTestApp({ env: { MAX_SYNC_TASKS_PER_PROJECT: '2' } });
    token = t.keystone.issue({ projectId: SYNC, userId: USER });
  });
  after(async () => t.close());
  beforeEach(async () => emptyTables(t.db));

  const body = {
    src_region: 'cn-hangzhou',
    src_bucket: 'src',
    src_ak: 'SYNC-AK-1',
    src_sk: 'sync-sk-1',
    dst_ak: 'SYNC-AK-2',
    dst_sk: 'sync-sk-2',
    dst_region: 'cn-north-4',
    dst_bucket: 'dst',
  };
  const call = (method: 'post' | 'delete', path: string, project = SYNC, tok = token) =>
    request(t.server)[method](`/v2/${project}/sync-tasks${path}`).set('X-Auth-Token', tok);

  test('MAX_SYNC_TASKS_PER_PROJECT: the next create is 400 OMS.0077 and creates nothing', async () => {
    for (let i = 0; i < 2; i++) assert.equal((await call('post', '').send(body)).status, 200);
    const res = await call('post', '').send(body);
    assertOmsError(res, 400, 'OMS.0077');
    const { rows } = await t.db.query('SELECT count(*)::int AS n FROM sync_tasks');
    const audit = await t.db.query('SELECT count(*)::int AS n FROM sync_task_transitions');
    assert.deepEqual([rows[0].n, audit.rows[0].n], [2, 2]);
    const otherToken = t.keystone.issue({ projectId: 'project-sync-extras-2', userId: USER });
    const other = await call('post', '', 'project-sync-extras-2', otherToken).send(body);
    assert.equal(other.status, 200, 'the quota is per project');
  });

  test('sync-task moves in oms_task_transitions_total, kind sync_task, one per audit row', async () => {
    const count = async () =>
      Object.fromEntries(
        series(
          parseMetrics((await request(t.server).get('/metrics')).text),
          'oms_task_transitions_total',
          {
            kind: 'sync_task',
          },
        ).map((s) => [`${s.labels.from}>${s.labels.to}`, s.value]),
      );
    const before = await count();
    const id = (await call('post', '').send(body)).body.sync_task_id;
    assert.equal((await call('post', `/${id}/stop`)).status, 200);
    assert.equal((await call('post', `/${id}/start`).send(body)).status, 200);
    assert.equal((await call('post', `/${id}/stop`)).status, 200);
    assert.equal((await call('delete', `/${id}`)).status, 200);
    const after = await count();
    const counted = Object.fromEntries(
      Object.entries(after).map(([key, value]) => [key, value - (before[key] ?? 0)]),
    );
    const { rows } = await t.db.query('SELECT count(*)::int AS n FROM sync_task_transitions');
    assert.equal(rows[0].n, 5);
    assert.deepEqual(counted, {
      'none>synchronizing': 1,
      'synchronizing>stopped': 2,
      'stopped>synchronizing': 1,
      'stopped>deleted': 1,
    });
    const samples = parseMetrics((await request(t.server).get('/metrics')).text);
    assert.deepEqual(series(samples, 'oms_task_transitions_total', { kind: 'task' }), []);
  });
});

describe('sync events: a connection lost after the insert, before the answer', () => {
  let proxy: TcpProxy;
  before(async () => (proxy = await TcpProxy.inFrontOf(testDatabaseUrl())));
  after(async () => proxy.stop());

  test('recorded: 200, settled by the event rows, recorded once', async () => {
    const t = await startTestApp({
      databaseUrl: proxy.urlThrough(testDatabaseUrl()),
      env: { DATABASE_POOL_SIZE: '1', DATABASE_STATEMENT_TIMEOUT_MS: '1000' },
    });
    try {
      await emptyTables(t.db);
      const token = t.keystone.issue({ projectId: PROJECT, userId: USER });
      const base = `/v2/${PROJECT}/sync-tasks`;
      const created = await request(t.server).post(base).set('X-Auth-Token', token).send({
        src_region: 'r',
        src_bucket: 's',
        src_ak: 'a',
        src_sk: 'b',
        dst_ak: 'c',
        dst_sk: 'd',
        dst_region: 'r2',
        dst_bucket: 'd2',
      });
      assert.equal(created.status, 200, created.text);
      proxy.loseAnswerTo('INSERT INTO sync_task_events');
      const res = await request(t.server)
        .post(`${base}/${created.body.sync_task_id}/events`)
        .set('X-Auth-Token', token)
        .set('X-Request-Id', 'lost-events')
        .send({ object_keys: ['a.txt', 'b.txt'] });
      assert.equal(res.status, 200, res.text);
      const { rows } = await t.db.query(
        'SELECT object_key FROM sync_task_events WHERE request_id = $1 ORDER BY id',
        ['lost-events'],
      );
      assert.deepEqual(
        rows.map((row) => row.object_key),
        ['a.txt', 'b.txt'],
      );
    } finally {
      await t.close();
    }
  });
});
