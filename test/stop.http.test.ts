// POST /v2/{project_id}/tasks/{task_id}/stop over HTTP, against the real
// application and PostgreSQL: what clients send, which tasks can be paused,
// the bounds of every parameter, unknown routes, request ids and races.
// Authentication and authorization: stop-auth.http.test.ts; IAM and
// database faults: stop-faults.http.test.ts.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import request from 'supertest';
import { TASK_STATUS_NAMES, TaskStatus } from '../src/tasks/task-state.js';
import { rawHttp } from './support/raw-http.js';
import {
  assertOmsError,
  assertStopped,
  assertTokenRefusedOnTheWire,
  assertUnchanged,
  stop,
  stopPath,
} from './support/stop-checks.js';
import {
  allAuditRows,
  emptyTables,
  insertTask,
  startTestApp,
  taskStatus,
  type TestApp,
} from './support/test-app.js';

const PROJECT = 'project-1';
const USER = 'user-writer';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let t: TestApp;
let token: string;

before(async () => {
  t = await startTestApp();
  token = t.keystone.issue({ projectId: PROJECT, userId: USER, roles: ['member'] });
});
after(async () => t.close());
beforeEach(async () => emptyTables(t.db));

const migrating = () => insertTask(t.db, PROJECT, TaskStatus.Migrating);
const paused = { projectId: PROJECT, userId: USER };

describe('stop pauses a migrating task', () => {
  test('200 with an empty body; status 3 and one audit row', async () => {
    const id = await migrating();
    const res = await stop(t, PROJECT, id, token);
    await assertStopped(t.db, res, id, paused);
  });

  test('the Go SDK request: Content-Type application/json and an empty body', async () => {
    const id = await migrating();
    const res = await rawHttp(t.port, [
      `POST ${stopPath(PROJECT, id)} HTTP/1.1`,
      `X-Auth-Token: ${token}`,
      'Content-Type: application/json;charset=UTF-8',
      'Content-Length: 0',
    ]);
    await assertStopped(t.db, res, id, paused);
  });

  test('the Terraform request: no body and no Content-Type', async () => {
    const id = await migrating();
    const res = await rawHttp(t.port, [
      `POST ${stopPath(PROJECT, id)} HTTP/1.1`,
      `X-Auth-Token: ${token}`,
      'Content-Length: 0',
    ]);
    await assertStopped(t.db, res, id, paused);
  });

  test('a request with neither Content-Length nor Content-Type (curl -X POST)', async () => {
    const id = await migrating();
    const res = await rawHttp(t.port, [
      `POST ${stopPath(PROJECT, id)} HTTP/1.1`,
      `X-Auth-Token: ${token}`,
    ]);
    await assertStopped(t.db, res, id, paused);
  });

  const bodies: [label: string, contentType: string, body: string][] = [
    ['a JSON body', 'application/json', '{"task_id": 1, "status": 5, "project_id": "x"}'],
    ['a body that is not valid JSON', 'application/json', '{"task_id": '],
    ['a text/plain body', 'text/plain', 'please stop'],
    ['an application/octet-stream body', 'application/octet-stream', '\u0000\u0001binary'],
  ];
  for (const [label, contentType, body] of bodies) {
    test(`ignores ${label}`, async () => {
      const id = await migrating();
      const res = await stop(t, PROJECT, id, token).set('Content-Type', contentType).send(body);
      await assertStopped(t.db, res, id, paused);
    });
  }

  test('the largest task id, 999999999999999 (15 digits)', async () => {
    const id = '999999999999999';
    await t.db.query('INSERT INTO tasks (id, project_id, name, status) VALUES ($1, $2, $3, 2)', [
      id,
      PROJECT,
      'largest',
    ]);
    const res = await stop(t, PROJECT, id, token);
    await assertStopped(t.db, res, id, paused);
  });

  test('stops only the task named: another migrating task of the project stays', async () => {
    const id = await migrating();
    const other = await migrating();
    const res = await stop(t, PROJECT, id, token);
    await assertStopped(t.db, res, id, paused);
    assert.equal(await taskStatus(t.db, other), TaskStatus.Migrating);
    assert.equal((await allAuditRows(t.db)).length, 1);
  });
});

describe('400 OMS.1009 for a task that is not in the project', () => {
  test('a task id that does not exist', async () => {
    const id = await migrating();
    const missing = String(BigInt(id) + 1n);
    const res = await stop(t, PROJECT, missing, token);
    assertOmsError(res, 400, 'OMS.1009', /^No resources found\.$/);
    await assertUnchanged(t.db, id, TaskStatus.Migrating);
  });

  test("another project's task, with a token of the path's project: row untouched", async () => {
    const id = await insertTask(t.db, 'project-2', TaskStatus.Migrating);
    const res = await stop(t, PROJECT, id, token);
    assertOmsError(res, 400, 'OMS.1009');
    await assertUnchanged(t.db, id, TaskStatus.Migrating);
  });

  // Each is tried next to a migrating task whose id it resembles, so a lenient
  // parser (Number(), parseInt, PostgreSQL's own cast) would pause that task.
  const lookalikes: [label: string, form: (id: string) => string][] = [
    ['letters only', () => 'abc'],
    ['digits then a letter', (id) => `${id}a`],
    ['a leading zero', (id) => `0${id}`],
    ['a plus sign', (id) => `${encodeURIComponent('+')}${id}`],
    ['a minus sign', (id) => `-${id}`],
    ['a decimal point', (id) => `${id}.0`],
    ['an exponent', () => '1e3'],
    ['a leading space', (id) => `%20${id}`],
    [
      'full-width digits',
      (id) => encodeURIComponent(id.replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d)))),
    ],
    ['zero', () => '0'],
    ['16 digits', () => '1000000000000000'],
    ['above 999999999999999', () => '9999999999999999'],
    ['above the int64 range', () => '99999999999999999999'],
    ['1,024 digits', () => '9'.repeat(1024)],
  ];
  for (const [label, form] of lookalikes) {
    test(`a task id with ${label}`, async () => {
      const id = await migrating();
      const res = await stop(t, PROJECT, form(id), token);
      assertOmsError(res, 400, 'OMS.1009');
      await assertUnchanged(t.db, id, TaskStatus.Migrating);
    });
  }
});

describe('400 OMS.0066 for a task that is not migrating', () => {
  const others = [1, 3, 4, 5, 6, 7] as const satisfies readonly TaskStatus[];
  for (const status of others) {
    const name = TASK_STATUS_NAMES[status];
    test(`status ${status} (${name}): the message names it`, async () => {
      const id = await insertTask(t.db, PROJECT, status);
      const res = await stop(t, PROJECT, id, token);
      const body = assertOmsError(res, 400, 'OMS.0066', /not migrating/);
      assert.match(body.error_msg, new RegExp(`status is ${status} \\(${name}\\)`));
      await assertUnchanged(t.db, id, status);
    });
  }
});

describe('bounds of the path and of X-Auth-Token', () => {
  test('a project_id of 1 character', async () => {
    const userToken = t.keystone.issue({ projectId: 'p', userId: 'u-short' });
    const id = await insertTask(t.db, 'p', TaskStatus.Migrating);
    const res = await stop(t, 'p', id, userToken);
    await assertStopped(t.db, res, id, { projectId: 'p', userId: 'u-short' });
  });

  test('a project_id of 1,024 characters', async () => {
    const project = 'p'.repeat(1024);
    const userToken = t.keystone.issue({ projectId: project, userId: 'u-long' });
    const id = await insertTask(t.db, project, TaskStatus.Migrating);
    const res = await stop(t, project, id, userToken);
    await assertStopped(t.db, res, id, { projectId: project, userId: 'u-long' });
  });

  test('an empty project_id (/v2//tasks/{id}/stop): 400 OMS.0064', async () => {
    const id = await migrating();
    const res = await request(t.server).post(`/v2//tasks/${id}/stop`).set('X-Auth-Token', token);
    assertOmsError(res, 400, 'OMS.0064');
    await assertUnchanged(t.db, id, TaskStatus.Migrating);
  });

  test('a project_id of 1,025 characters: 400 OMS.0064, even with its own token', async () => {
    const project = 'p'.repeat(1025);
    const userToken = t.keystone.issue({ projectId: project });
    const id = await migrating();
    const res = await stop(t, project, id, userToken);
    assertOmsError(res, 400, 'OMS.0064');
    await assertUnchanged(t.db, id, TaskStatus.Migrating);
  });

  test('an empty task_id (/tasks//stop): 400 OMS.0064', async () => {
    const id = await migrating();
    const res = await request(t.server)
      .post(`/v2/${PROJECT}/tasks//stop`)
      .set('X-Auth-Token', token);
    assertOmsError(res, 400, 'OMS.0064');
    await assertUnchanged(t.db, id, TaskStatus.Migrating);
  });

  test('a task_id of 1,025 characters: 400 OMS.0064', async () => {
    const id = await migrating();
    const res = await stop(t, PROJECT, '9'.repeat(1025), token);
    assertOmsError(res, 400, 'OMS.0064');
    await assertUnchanged(t.db, id, TaskStatus.Migrating);
  });

  test('an X-Auth-Token of exactly 16,384 characters works end to end', async () => {
    const big = t.keystone.issue({ projectId: PROJECT, userId: 'u-big' }, 'T'.repeat(16_384));
    const id = await migrating();
    const res = await stop(t, PROJECT, id, big);
    await assertStopped(t.db, res, id, { projectId: PROJECT, userId: 'u-big' });
    assert.equal(t.keystone.validationCount(big), 1);
  });

  test('an X-Auth-Token of 16,385 characters: 400 OMS.0064, IAM never asked', async () => {
    // Valid in IAM, so only the length check can refuse it.
    const tooBig = t.keystone.issue({ projectId: PROJECT }, 'T'.repeat(16_385));
    const id = await migrating();
    const res = await stop(t, PROJECT, id, tooBig);
    assertOmsError(res, 400, 'OMS.0064', /X-Auth-Token/);
    assert.equal(t.keystone.validationCount(tooBig), 0);
    await assertUnchanged(t.db, id, TaskStatus.Migrating);
  });

  test('an X-Auth-Token larger than the HTTP header limit: still 400 OMS.0064', () =>
    assertTokenRefusedOnTheWire(
      t,
      PROJECT,
      t.keystone.issue({ projectId: PROJECT }, 'T'.repeat(70_000)),
    ));
});

describe('404 APIGW.0101 for what is not an API', () => {
  const unknownPaths = [
    (id: string) => `/v2/${PROJECT}/tasks/${id}/pause`,
    (id: string) => `/v2/${PROJECT}/task/${id}/stop`,
    (id: string) => `/v3/${PROJECT}/tasks/${id}/stop`,
    (id: string) => `/v2/${PROJECT}/tasks/${id}/stop/now`,
    () => '/nothing-here',
  ];
  for (const path of unknownPaths) {
    test(`POST ${path('{id}')}`, async () => {
      const id = await migrating();
      const res = await request(t.server).post(path(id)).set('X-Auth-Token', token);
      assertOmsError(res, 404, 'APIGW.0101');
      await assertUnchanged(t.db, id, TaskStatus.Migrating);
    });
  }

  for (const method of ['get', 'put', 'patch', 'delete'] as const) {
    test(`${method.toUpperCase()} on the stop path`, async () => {
      const id = await migrating();
      const res = await request(t.server)[method](stopPath(PROJECT, id)).set('X-Auth-Token', token);
      assertOmsError(res, 404, 'APIGW.0101');
      await assertUnchanged(t.db, id, TaskStatus.Migrating);
    });
  }
});

describe('X-Request-Id', () => {
  test("a sane id is echoed on a 200 and is the audit row's request_id", async () => {
    const id = await migrating();
    const res = await stop(t, PROJECT, id, token).set('X-Request-Id', 'client-42.a:b_c-d');
    assert.equal(res.headers['x-request-id'], 'client-42.a:b_c-d');
    await assertStopped(t.db, res, id, paused);
  });

  test('a sane id is echoed on an error, in the header and the body', async () => {
    const id = await insertTask(t.db, PROJECT, TaskStatus.Paused);
    const res = await stop(t, PROJECT, id, token).set('X-Request-Id', 'client-43');
    const body = assertOmsError(res, 400, 'OMS.0066');
    assert.equal(body.request_id, 'client-43');
  });

  test('an id of 128 characters, the longest the audit row holds, is echoed', async () => {
    const supplied = 'r'.repeat(128);
    const id = await migrating();
    const res = await stop(t, PROJECT, id, token).set('X-Request-Id', supplied);
    assert.equal(res.headers['x-request-id'], supplied);
    await assertStopped(t.db, res, id, paused);
  });

  const insane: [label: string, value: string][] = [
    ['129 characters', 'r'.repeat(129)],
    ['spaces', 'my request 1'],
    ['non-ASCII', 'r\u00e9quest'],
    ['a leading dash', '-abc'],
    ['a quote and a semicolon', "a';drop"],
  ];
  for (const [label, value] of insane) {
    test(`an id with ${label} is replaced by a generated one, also in the audit row`, async () => {
      const id = await migrating();
      const res = await stop(t, PROJECT, id, token).set('X-Request-Id', value);
      assert.match(String(res.headers['x-request-id']), UUID);
      await assertStopped(t.db, res, id, paused);
    });
  }

  test('two X-Request-Id headers are replaced by a generated one', async () => {
    const id = await migrating();
    const res = await rawHttp(t.port, [
      `POST ${stopPath(PROJECT, id)} HTTP/1.1`,
      `X-Auth-Token: ${token}`,
      'X-Request-Id: first',
      'X-Request-Id: second',
    ]);
    assert.match(res.headers['x-request-id'], UUID);
    await assertStopped(t.db, res, id, paused);
  });

  test('without one, each response gets its own generated id', async () => {
    const id = await insertTask(t.db, PROJECT, TaskStatus.Paused);
    const first = assertOmsError(await stop(t, PROJECT, id, token), 400, 'OMS.0066');
    const second = assertOmsError(await stop(t, PROJECT, id, token), 400, 'OMS.0066');
    assert.match(first.request_id, UUID);
    assert.match(second.request_id, UUID);
    assert.notEqual(first.request_id, second.request_id);
  });
});

describe('concurrent stops', () => {
  test('20 parallel stops of one task: one 200, nineteen OMS.0066, one audit row', async () => {
    // A fresh token on a slow IAM holds all twenty at the one shared
    // validation, then lets them into the database together: the widest race.
    const racer = t.keystone.issue({ projectId: PROJECT, userId: USER });
    t.keystone.delayMs = 200;
    const id = await migrating();
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        stop(t, PROJECT, id, racer).set('X-Request-Id', `race-${i}`),
      ),
    ).finally(() => (t.keystone.delayMs = 0));
    const winners = responses.filter((res) => res.status === 200);
    const losers = responses.filter((res) => res.status !== 200);
    assert.equal(winners.length, 1, `statuses: ${responses.map((res) => res.status)}`);
    assert.equal(losers.length, 19);
    for (const res of losers) {
      assertOmsError(res, 400, 'OMS.0066', /status is 3 \(paused\)/);
    }
    await assertStopped(t.db, winners[0], id, paused);
    assert.equal((await allAuditRows(t.db)).length, 1);
    assert.equal(t.keystone.validationCount(racer), 1, 'the twenty did not start together');
  });
});
