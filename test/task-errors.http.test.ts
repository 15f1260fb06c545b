// Every refusal of the contract's error table, for every task endpoint, over
// HTTP: the status, the OMS error body, and the database afterwards (a
// refusal changes no row and writes no audit row). Stop has its own, longer
// list in stop.http.test.ts and stop-auth.http.test.ts.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import request from 'supertest';
import { TaskStatus } from '../src/tasks/task-state.js';
import { rawHttp } from './support/raw-http.js';
import {
  assertOmsError,
  assertRefusedUnchanged,
  taskTablesSnapshot,
  type Answer,
} from './support/stop-checks.js';
import { createBody, startBody, TaskApi } from './support/task-api.js';
import { emptyTables, insertTask, startTestApp, type TestApp } from './support/test-app.js';

const PROJECT = 'project-errors';

let t: TestApp;
let api: TaskApi;
let readerApi: TaskApi;
let otherProjectApi: TaskApi;
let anonymous: TaskApi;

before(async () => {
  t = await startTestApp({ env: { MAX_TASKS_PER_PROJECT: '3' } });
  api = new TaskApi(t, PROJECT, t.keystone.issue({ projectId: PROJECT, roles: ['member'] }));
  readerApi = new TaskApi(t, PROJECT, t.keystone.issue({ projectId: PROJECT, roles: ['reader'] }));
  otherProjectApi = new TaskApi(t, PROJECT, t.keystone.issue({ projectId: 'someone-else' }));
  anonymous = new TaskApi(t, PROJECT, 'not-a-token-keystone-knows');
});
after(async () => t.close());
beforeEach(async () => emptyTables(t.db));

const snapshot = () => taskTablesSnapshot(t.db);
const assertRefused = (
  send: () => Promise<Answer>,
  status: number,
  code: string,
  message?: RegExp,
) => assertRefusedUnchanged(t.db, send, status, code, message);

const task = (status: TaskStatus) => insertTask(t.db, PROJECT, status);
const src = createBody().src_node as Record<string, unknown>;
const dst = createBody().dst_node as Record<string, unknown>;
const period = (start: string, end: string, max_bandwidth = 1_048_576) => ({
  start,
  end,
  max_bandwidth,
});

describe('create refuses', () => {
  const invalid: [string, unknown, RegExp?][] = [
    ['an empty body', undefined, /missing/],
    ['an array', [createBody()], /JSON object/],
    ['a string', 'create please', /JSON object/],
    ['no src_node', createBody({ src_node: undefined }), /src_node/],
    ['src_node not an object', createBody({ src_node: 'bucket' }), /src_node/],
    ['no dst_node', createBody({ dst_node: undefined }), /dst_node/],
    ['no src_node.ak', createBody({ src_node: { ...src, ak: undefined } }), /ak/],
    ['an empty src_node.sk', createBody({ src_node: { ...src, sk: '' } }), /sk/],
    [
      'a 101-character dst_node.ak',
      createBody({ dst_node: { ...dst, ak: 'a'.repeat(101) } }),
      /ak/,
    ],
    ['no dst_node.bucket', createBody({ dst_node: { ...dst, bucket: undefined } }), /bucket/],
    ['no dst_node.region', createBody({ dst_node: { ...dst, region: undefined } }), /region/],
    [
      'no src_node.cloud_type',
      createBody({ src_node: { ...src, cloud_type: undefined } }),
      /cloud_type/,
    ],
    ['a numeric bucket', createBody({ src_node: { ...src, bucket: 42 } }), /bucket/],
    ['a 256-character description', createBody({ description: 'd'.repeat(256) }), /description/],
    ['an unknown task_type', createBody({ task_type: 'folder' }), /task_type/],
    [
      'task_type object without object_key',
      createBody({ src_node: { ...src, object_key: undefined } }),
      /object_key is required/,
    ],
    ['an empty object_key', createBody({ src_node: { ...src, object_key: [] } }), /object_key/],
    [
      'task_type list without list_file',
      createBody({ task_type: 'list', src_node: { ...src, object_key: undefined } }),
      /list_file is required/,
    ],
    [
      'task_type url_list with object_key',
      createBody({
        task_type: 'url_list',
        src_node: { ...src, list_file: { list_file_key: 'k', obs_bucket: 'b' } },
      }),
      /object_key is not used/,
    ],
    [
      'task_type prefix with list_file',
      createBody({
        task_type: 'prefix',
        src_node: { ...src, list_file: { list_file_key: 'k', obs_bucket: 'b' } },
      }),
      /list_file is not used/,
    ],
    [
      'six bandwidth periods',
      createBody({
        bandwidth_policy: ['00', '02', '04', '06', '08', '10'].map((h) =>
          period(`${h}:00`, `${h}:30`),
        ),
      }),
      /bandwidth_policy/,
    ],
    [
      'overlapping periods',
      createBody({ bandwidth_policy: [period('00:00', '06:00'), period('05:00', '07:00')] }),
      /overlap/,
    ],
    [
      'periods overlapping past midnight',
      createBody({ bandwidth_policy: [period('22:00', '02:00'), period('01:00', '03:00')] }),
      /overlap/,
    ],
    ['an empty period', createBody({ bandwidth_policy: [period('03:00', '03:00')] }), /empty/],
    [
      'a bandwidth below 1 MiB/s',
      createBody({ bandwidth_policy: [period('00:00', '01:00', 1_048_575)] }),
      /max_bandwidth/,
    ],
    [
      'a bandwidth above 200 MiB/s',
      createBody({ bandwidth_policy: [period('00:00', '01:00', 209_715_201)] }),
      /max_bandwidth/,
    ],
    [
      'a fractional bandwidth',
      createBody({ bandwidth_policy: [period('00:00', '01:00', 1_048_576.5)] }),
      /max_bandwidth/,
    ],
    [
      'a time that is not hh:mm',
      createBody({ bandwidth_policy: [period('24:00', '01:00')] }),
      /hh:mm/,
    ],
    [
      'migrate_since in milliseconds',
      createBody({ migrate_since: 1_700_000_000_000 }),
      /migrate_since/,
    ],
    ['a negative migrate_since', createBody({ migrate_since: -1 }), /migrate_since/],
    ['an unknown task_priority', createBody({ task_priority: 'URGENT' }), /task_priority/],
    ['a string for a flag', createBody({ enable_kms: 'yes' }), /enable_kms/],
  ];
  for (const [what, body, message] of invalid) {
    test(`${what}: 400 OMS.0064`, async () => {
      const send = () => {
        const req = request(t.server)
          .post(`/v2/${PROJECT}/tasks`)
          .set('X-Auth-Token', t.keystone.issue({ projectId: PROJECT }))
          .set('Content-Type', 'application/json');
        return body === undefined ? req : req.send(JSON.stringify(body));
      };
      await assertRefused(send, 400, 'OMS.0064', message);
    });
  }

  test('a body that is not JSON: 400 OMS.0067', async () => {
    for (const text of ['{"src_node": ', 'src_node=x', '{"a":1}}']) {
      await assertRefused(
        () =>
          request(t.server)
            .post(`/v2/${PROJECT}/tasks`)
            .set('X-Auth-Token', t.keystone.issue({ projectId: PROJECT }))
            .set('Content-Type', 'application/json')
            .send(text),
        400,
        'OMS.0067',
      );
    }
    await assertRefused(
      () =>
        request(t.server)
          .post(`/v2/${PROJECT}/tasks`)
          .set('X-Auth-Token', t.keystone.issue({ projectId: PROJECT }))
          .set('Content-Type', 'text/plain')
          .send('hello'),
      400,
      'OMS.0067',
    );
  });

  test('JSON without a JSON content type is read all the same', async () => {
    const res = await request(t.server)
      .post(`/v2/${PROJECT}/tasks`)
      .set('X-Auth-Token', t.keystone.issue({ projectId: PROJECT }))
      .set('Content-Type', 'text/plain')
      .send(JSON.stringify(createBody()));
    assert.equal(res.status, 200, res.text);
  });

  test('the project task quota used up: 400 OMS.0077', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await api.create()).status, 200);
    await assertRefused(() => api.create(), 400, 'OMS.0077', /quota/);
  });

  test('concurrent creates never pass the quota', async () => {
    const answers = await Promise.all(Array.from({ length: 8 }, () => api.create()));
    const codes = answers.map((res) => (res.status === 200 ? 200 : res.body.error_code));
    assert.equal(codes.filter((code) => code === 200).length, 3, JSON.stringify(codes));
    assert.equal(codes.filter((code) => code === 'OMS.0077').length, 5);
    const { rows } = await t.db.query('SELECT count(*)::int AS n FROM tasks');
    assert.equal(rows[0].n, 3);
  });

  test('a reader, another project, no credential: 403, 403, 401', async () => {
    await assertRefused(() => readerApi.create(), 403, 'OMS.0206');
    await assertRefused(() => otherProjectApi.create(), 403, 'OMS.0206');
    await assertRefused(() => anonymous.create(), 401, 'APIGW.0301');
  });

  test('a project_id over 1,024 characters: 400 OMS.0064', async () => {
    const long = new TaskApi(
      t,
      'p'.repeat(1025),
      t.keystone.issue({ projectId: 'p'.repeat(1025) }),
    );
    await assertRefused(() => long.create(), 400, 'OMS.0064');
  });
});

describe('show refuses', () => {
  test('a task that does not exist, or is not ours: 400 OMS.1009', async () => {
    const elsewhere = await insertTask(t.db, 'another-project', TaskStatus.Paused);
    for (const id of ['999999999999999', elsewhere, 'abc', '0', '01', '1000000000000000', '-1']) {
      await assertRefused(() => api.show(id), 400, 'OMS.1009', /^No resources found\.$/);
    }
  });

  test('a task_id over 1,024 characters: 400 OMS.0064', async () => {
    await assertRefused(() => api.show('9'.repeat(1025)), 400, 'OMS.0064');
  });

  test('another project or no credential: 403, 401; a reader may read', async () => {
    const id = await task(TaskStatus.Paused);
    await assertRefused(() => otherProjectApi.show(id), 403, 'OMS.0206');
    await assertRefused(() => anonymous.show(id), 401, 'APIGW.0301');
    assert.equal((await readerApi.show(id)).status, 200);
  });
});

describe('list refuses', () => {
  const bad: [string, string][] = [
    ['limit', '0'],
    ['limit', '101'],
    ['limit', 'ten'],
    ['limit', '1.5'],
    ['limit', '0x10'],
    ['limit', '1e1'],
    ['limit', ''],
    ['offset', '-1'],
    ['offset', '1000000001'],
    ['offset', '3.0'],
    ['status', '0'],
    ['status', '8'],
    ['status', 'paused'],
    ['group_id', ''],
    ['group_id', 'g'.repeat(101)],
  ];
  for (const [name, value] of bad) {
    test(`${name}=${JSON.stringify(value.length > 20 ? value.slice(0, 8) + '…' : value)}: 400 OMS.0064`, async () => {
      await assertRefused(() => api.list({ [name]: value }), 400, 'OMS.0064', new RegExp(name));
    });
  }

  test('a parameter given twice: 400 OMS.0064', async () => {
    await assertRefused(
      () =>
        request(t.server)
          .get(`/v2/${PROJECT}/tasks?limit=1&limit=2`)
          .set('X-Auth-Token', t.keystone.issue({ projectId: PROJECT })),
      400,
      'OMS.0064',
    );
  });

  test('another project or no credential: 403, 401', async () => {
    await assertRefused(() => otherProjectApi.list(), 403, 'OMS.0206');
    await assertRefused(() => anonymous.list(), 401, 'APIGW.0301');
  });
});

describe('start refuses', () => {
  for (const [status, code] of [
    [TaskStatus.Waiting, 'OMS.0065'],
    [TaskStatus.Migrating, 'OMS.0065'],
    [TaskStatus.Retrying, 'OMS.0065'],
    [TaskStatus.Pausing, 'OMS.0065'],
    [TaskStatus.Succeeded, 'OMS.0070'],
  ] as const) {
    test(`a task in status ${status}: 400 ${code}`, async () => {
      const id = await task(status);
      await assertRefused(() => api.start(id), 400, code, new RegExp(`status is ${status}`));
    });
  }

  const invalid: [string, Record<string, unknown>][] = [
    ['no dst_ak', startBody({ dst_ak: undefined })],
    ['no dst_sk', startBody({ dst_sk: undefined })],
    ['an empty dst_ak', startBody({ dst_ak: '' })],
    ['a 101-character dst_sk', startBody({ dst_sk: 's'.repeat(101) })],
    ['a 101-character src_ak', startBody({ src_ak: 'a'.repeat(101) })],
    ['a numeric src_sk', startBody({ src_sk: 12345 })],
    [
      'a 16,385-character dst_security_token',
      startBody({ dst_security_token: 't'.repeat(16_385) }),
    ],
    ['a string for migrate_failed_object', startBody({ migrate_failed_object: 'true' })],
    ['no source keys for an object task', startBody({ src_ak: undefined, src_sk: undefined })],
  ];
  for (const [what, body] of invalid) {
    test(`${what}: 400 OMS.0064`, async () => {
      const id = await task(TaskStatus.Paused);
      await assertRefused(() => api.start(id, body), 400, 'OMS.0064');
    });
  }

  test('a url_list task needs no source keys', async () => {
    const { rows } = await t.db.query(
      `INSERT INTO tasks (project_id, name, status) VALUES ($1, 'u', 3) RETURNING id`,
      [PROJECT],
    );
    await t.db.query(`UPDATE task_details SET task_type = 'url_list' WHERE task_id = $1`, [
      rows[0].id,
    ]);
    const res = await api.start(rows[0].id, startBody({ src_ak: undefined, src_sk: undefined }));
    assert.equal(res.status, 200, res.text);
    const after = await t.db.query('SELECT status FROM tasks WHERE id = $1', [rows[0].id]);
    assert.equal(after.rows[0].status, TaskStatus.Waiting);
  });

  test('a body that is not JSON: 400 OMS.0067; none at all: 400 OMS.0064', async () => {
    const id = await task(TaskStatus.Paused);
    await assertRefused(
      () =>
        request(t.server)
          .post(`/v2/${PROJECT}/tasks/${id}/start`)
          .set('X-Auth-Token', t.keystone.issue({ projectId: PROJECT }))
          .set('Content-Type', 'application/json')
          .send('{"dst_ak": "x",'),
      400,
      'OMS.0067',
    );
    await assertRefused(
      () =>
        request(t.server)
          .post(`/v2/${PROJECT}/tasks/${id}/start`)
          .set('X-Auth-Token', t.keystone.issue({ projectId: PROJECT })),
      400,
      'OMS.0064',
    );
  });

  test('no such task: 400 OMS.1009', async () => {
    await assertRefused(() => api.start('424242'), 400, 'OMS.1009');
  });

  test('a reader, another project, no credential: 403, 403, 401', async () => {
    const id = await task(TaskStatus.Paused);
    await assertRefused(() => readerApi.start(id), 403, 'OMS.0206');
    await assertRefused(() => otherProjectApi.start(id), 403, 'OMS.0206');
    await assertRefused(() => anonymous.start(id), 401, 'APIGW.0301');
  });

  test('paused and failed tasks start: 200, status 1, one audit row', async () => {
    for (const status of [TaskStatus.Paused, TaskStatus.Failed]) {
      const id = await task(status);
      const res = await api.start(id);
      assert.equal(res.status, 200, res.text);
      const { rows } = await t.db.query(
        'SELECT t.status, a.action, a.from_status, a.to_status FROM tasks t JOIN task_transitions a ON a.task_id = t.id WHERE t.id = $1',
        [id],
      );
      assert.deepEqual(rows, [
        { status: TaskStatus.Waiting, action: 'start', from_status: status, to_status: 1 },
      ]);
    }
  });
});

describe('delete refuses', () => {
  for (const status of [TaskStatus.Migrating, TaskStatus.Retrying, TaskStatus.Pausing]) {
    test(`a running task (status ${status}): 400 OMS.0063`, async () => {
      const id = await task(status);
      await assertRefused(() => api.delete(id), 400, 'OMS.0063', /pause it first/);
    });
  }

  test('no such task, or not ours: 400 OMS.1009', async () => {
    const elsewhere = await insertTask(t.db, 'another-project', TaskStatus.Paused);
    await assertRefused(() => api.delete(elsewhere), 400, 'OMS.1009');
    await assertRefused(() => api.delete('x1'), 400, 'OMS.1009');
  });

  test('a reader, another project, no credential: 403, 403, 401', async () => {
    const id = await task(TaskStatus.Paused);
    await assertRefused(() => readerApi.delete(id), 403, 'OMS.0206');
    await assertRefused(() => otherProjectApi.delete(id), 403, 'OMS.0206');
    await assertRefused(() => anonymous.delete(id), 401, 'APIGW.0301');
  });

  test('waiting, paused, failed and succeeded tasks go: 200, row gone, audit row kept', async () => {
    for (const status of [1, 3, 4, 5] as TaskStatus[]) {
      const id = await task(status);
      const res = await api.delete(id);
      assert.equal(res.status, 200, res.text);
      const gone = await t.db.query('SELECT 1 FROM tasks WHERE id = $1', [id]);
      assert.equal(gone.rowCount, 0);
      const audit = await t.db.query(
        'SELECT action, from_status, to_status FROM task_transitions WHERE task_id = $1',
        [id],
      );
      assert.deepEqual(audit.rows, [{ action: 'delete', from_status: status, to_status: null }]);
      assertOmsError(await api.delete(id), 400, 'OMS.1009');
    }
  });

  test('concurrent deletes: exactly one 200', async () => {
    const id = await task(TaskStatus.Paused);
    const answers = await Promise.all(Array.from({ length: 10 }, () => api.delete(id)));
    assert.equal(answers.filter((res) => res.status === 200).length, 1);
    for (const res of answers.filter((r) => r.status !== 200)) assertOmsError(res, 400, 'OMS.1009');
    const audit = await t.db.query('SELECT count(*)::int AS n FROM task_transitions');
    assert.equal(audit.rows[0].n, 1);
  });
});

describe('bandwidth-policy refuses', () => {
  const policy = { bandwidth_policy: [period('00:00', '06:00')] };

  test('a task that has succeeded: 400 OMS.0070', async () => {
    const id = await task(TaskStatus.Succeeded);
    await assertRefused(() => api.setBandwidth(id, policy), 400, 'OMS.0070');
  });

  const invalid: [string, unknown][] = [
    ['no bandwidth_policy', {}],
    ['bandwidth_policy not a list', { bandwidth_policy: period('00:00', '01:00') }],
    [
      'six periods',
      {
        bandwidth_policy: ['00', '02', '04', '06', '08', '10'].map((h) =>
          period(`${h}:00`, `${h}:30`),
        ),
      },
    ],
    [
      'overlapping periods',
      { bandwidth_policy: [period('08:00', '12:00'), period('11:59', '13:00')] },
    ],
    ['a period without end', { bandwidth_policy: [{ start: '00:00', max_bandwidth: 1_048_576 }] }],
    [
      'a string bandwidth',
      { bandwidth_policy: [period('00:00', '01:00', '2097152' as unknown as number)] },
    ],
    ['a time like 7:00', { bandwidth_policy: [period('7:00', '08:00')] }],
  ];
  for (const [what, body] of invalid) {
    test(`${what}: 400 OMS.0064`, async () => {
      const id = await task(TaskStatus.Migrating);
      await assertRefused(() => api.setBandwidth(id, body), 400, 'OMS.0064');
    });
  }

  test('a body that is not JSON: 400 OMS.0067', async () => {
    const id = await task(TaskStatus.Migrating);
    await assertRefused(
      () =>
        request(t.server)
          .put(`/v2/${PROJECT}/tasks/${id}/bandwidth-policy`)
          .set('X-Auth-Token', t.keystone.issue({ projectId: PROJECT }))
          .set('Content-Type', 'application/json')
          .send('[{'),
      400,
      'OMS.0067',
    );
  });

  test('no such task: 400 OMS.1009', async () => {
    await assertRefused(() => api.setBandwidth('77', policy), 400, 'OMS.1009');
  });

  test('a reader, another project, no credential: 403, 403, 401', async () => {
    const id = await task(TaskStatus.Migrating);
    await assertRefused(() => readerApi.setBandwidth(id, policy), 403, 'OMS.0206');
    await assertRefused(() => otherProjectApi.setBandwidth(id, policy), 403, 'OMS.0206');
    await assertRefused(() => anonymous.setBandwidth(id, policy), 401, 'APIGW.0301');
  });
});

describe('routes that do not exist', () => {
  for (const [method, path] of [
    ['PATCH', `/v2/${PROJECT}/tasks/1`],
    ['PUT', `/v2/${PROJECT}/tasks/1`],
    ['GET', `/v2/${PROJECT}/tasks/1/stop`],
    ['POST', `/v2/${PROJECT}/tasks/1/resume`],
    ['DELETE', `/v2/${PROJECT}/tasks`],
    ['GET', '/v3'],
  ]) {
    test(`${method} ${path}: 404 APIGW.0101`, async () => {
      const id = await task(TaskStatus.Migrating);
      const before = await snapshot();
      const res = await rawHttp(t.port, [
        `${method} ${path.replace('/1', `/${id}`)} HTTP/1.1`,
        `X-Auth-Token: ${t.keystone.issue({ projectId: PROJECT })}`,
      ]);
      assertOmsError(res, 404, 'APIGW.0101');
      assert.equal(await snapshot(), before);
    });
  }
});
