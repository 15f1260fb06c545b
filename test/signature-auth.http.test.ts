// Each way a signed request is refused: 401 APIGW.0301 with a message that
// names the check, the task unchanged. Requests are signed by the official
// SDK core's signer and then changed on the way, as an attacker or a broken
// proxy would. Checks that need no secret (date, body hash, header shape)
// must not cost an IAM lookup.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import { TaskStatus } from '../src/tasks/task-state.js';
import { FAKE_SERVICE_IDENTITY } from './support/fake-keystone.js';
import {
  sendRaw,
  sendSigned,
  signed,
  type AccessKeyPair,
  type Sent,
  type ToSign,
} from './support/sdk-signing.js';
import {
  assertOmsError,
  assertStopped,
  assertUnchanged,
  stop,
  stopPath,
} from './support/stop-checks.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { createBody, startBody } from './support/task-api.js';
import {
  allAuditRows,
  auditRows,
  emptyTables,
  insertTask,
  startTestApp,
  testDatabaseUrl,
  type TestApp,
} from './support/test-app.js';

const PROJECT = 'project-1';
const USER = 'signing-user';
const MINUTE = 60_000;

describe('signed requests: accepted, and refused with a reason', () => {
  let t: TestApp;
  let key: AccessKeyPair;
  before(async () => {
    t = await startTestApp({ env: FAKE_SERVICE_IDENTITY });
    key = t.keystone.addAccessKey({ userId: USER, projectId: PROJECT });
  });
  after(async () => t.close());
  beforeEach(async () => emptyTables(t.db));

  function stopRequest(taskId: string, extra: Partial<ToSign> = {}): ToSign {
    return {
      method: 'POST',
      path: stopPath(PROJECT, taskId),
      headers: { 'X-Project-Id': PROJECT, ...extra.headers },
      ...extra,
    };
  }

  /** Signs a stop, applies `tamper`, and expects 401 with `reason`. */
  async function refused(
    reason: RegExp,
    tamper: (sent: Sent) => void,
    options: { extra?: Partial<ToSign>; signer?: AccessKeyPair; iamLookups?: number } = {},
  ) {
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const reads = t.keystone.credentialReads;
    const res = await sendSigned(
      t.port,
      options.signer ?? key,
      stopRequest(id, options.extra),
      tamper,
    );
    const body = assertOmsError(res, 401, 'APIGW.0301', reason);
    assert.doesNotMatch(body.error_msg, new RegExp(key.secretKey));
    if (options.iamLookups !== undefined) {
      assert.equal(t.keystone.credentialReads - reads, options.iamLookups, 'IAM lookups');
    }
    await assertUnchanged(t.db, id, TaskStatus.Migrating);
  }

  const untouched = () => undefined;

  test('as signed: 200, the task paused by the key owner', async () => {
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const res = await sendSigned(t.port, key, stopRequest(id));
    await assertStopped(t.db, res, id, { projectId: PROJECT, userId: USER });
  });

  test('with a JSON body hashed in the signature: 200', async () => {
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const res = await sendSigned(t.port, key, stopRequest(id, { body: { reason: 'täglich' } }));
    await assertStopped(t.db, res, id, { projectId: PROJECT, userId: USER });
  });

  test('signed 14 minutes ago: still within the window, 200', async () => {
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const signedAt = new Date(Date.now() - 14 * MINUTE);
    const res = await sendSigned(t.port, key, stopRequest(id, { signedAt }));
    await assertStopped(t.db, res, id, { projectId: PROJECT, userId: USER });
  });

  test('an access key IAM does not know', () =>
    refused(/access key is unknown/, untouched, {
      signer: { accessKey: 'AKUNKNOWN0000000', secretKey: 'whatever' },
      iamLookups: 1,
    }));

  test('signed with another secret key: bad signature', () =>
    refused(/signature does not match/, untouched, {
      signer: { accessKey: key.accessKey, secretKey: `${key.secretKey}x` },
    }));

  test('a signed header changed after signing', () =>
    refused(/signature does not match/, (sent) => (sent.headers['X-Client-Note'] = 'changed'), {
      extra: { headers: { 'X-Project-Id': PROJECT, 'X-Client-Note': 'original' } },
    }));

  test('a signed header removed after signing', () =>
    refused(
      /signed header x-client-note is missing/,
      (sent) => delete sent.headers['X-Client-Note'],
      {
        extra: { headers: { 'X-Project-Id': PROJECT, 'X-Client-Note': 'original' } },
        iamLookups: 0,
      },
    ));

  test('the path changed after signing (another task)', () =>
    refused(/signature does not match/, (sent) => (sent.path = stopPath(PROJECT, '424242'))));

  test('a query parameter added after signing', () =>
    refused(/signature does not match/, (sent) => (sent.query = { force: 'true' })));

  test('the body changed after signing', () =>
    refused(/signature does not match/, (sent) => (sent.body = '{"reason":"other"}'), {
      extra: { body: { reason: 'original' } },
    }));

  test('the body does not match X-Sdk-Content-Sha256: said so, IAM not asked', () => {
    const hash = createHash('sha256').update('{"reason":"original"}').digest('hex');
    return refused(
      /body does not match X-Sdk-Content-Sha256/,
      (sent) => (sent.body = '{"reason":"other"}'),
      {
        extra: {
          headers: { 'X-Project-Id': PROJECT, 'X-Sdk-Content-Sha256': hash },
          body: { reason: 'original' },
        },
        iamLookups: 0,
      },
    );
  });

  test('UNSIGNED-PAYLOAD with a body: the body is not signed', () =>
    refused(/body is not signed/, (sent) => (sent.body = '{"reason":"unsigned"}'), {
      extra: { headers: { 'X-Project-Id': PROJECT, 'X-Sdk-Content-Sha256': 'UNSIGNED-PAYLOAD' } },
      iamLookups: 0,
    }));

  test('UNSIGNED-PAYLOAD without a body (what the SDKs send for non-JSON calls): 200', async () => {
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const headers = { 'X-Project-Id': PROJECT, 'X-Sdk-Content-Sha256': 'UNSIGNED-PAYLOAD' };
    const res = await sendSigned(t.port, key, stopRequest(id, { headers }));
    await assertStopped(t.db, res, id, { projectId: PROJECT, userId: USER });
  });

  test('X-Sdk-Date missing', () =>
    refused(/X-Sdk-Date header is missing/, (sent) => delete sent.headers['X-Sdk-Date'], {
      iamLookups: 0,
    }));

  for (const bad of [
    '2026-11-28T10:00:00Z',
    '20261128T100000',
    '20261332T100000Z',
    '20260230T100000Z',
  ]) {
    test(`X-Sdk-Date malformed: ${bad}`, () =>
      refused(/X-Sdk-Date is malformed/, (sent) => (sent.headers['X-Sdk-Date'] = bad), {
        iamLookups: 0,
      }));
  }

  test('X-Sdk-Date 16 minutes in the past', () =>
    refused(/more than 15 minutes/, untouched, {
      extra: { signedAt: new Date(Date.now() - 16 * MINUTE) },
      iamLookups: 0,
    }));

  test('X-Sdk-Date 16 minutes in the future', () =>
    refused(/more than 15 minutes/, untouched, {
      extra: { signedAt: new Date(Date.now() + 16 * MINUTE) },
      iamLookups: 0,
    }));

  test('SignedHeaders without host', () =>
    refused(
      /SignedHeaders must include host/,
      (sent) =>
        (sent.headers.Authorization = sent.headers.Authorization.replace(
          /SignedHeaders=host;/,
          'SignedHeaders=',
        )),
      { iamLookups: 0 },
    ));

  test('an Authorization header that is not a whole signature', () =>
    refused(
      /not a valid SDK-HMAC-SHA256 signature/,
      (sent) => (sent.headers.Authorization = `SDK-HMAC-SHA256 Access=${key.accessKey}`),
      { iamLookups: 0 },
    ));

  test('a signature that is not 64 hex digits', () =>
    refused(
      /not a valid SDK-HMAC-SHA256 signature/,
      (sent) =>
        (sent.headers.Authorization = sent.headers.Authorization.replace(
          /Signature=[0-9a-f]+/,
          'Signature=zz',
        )),
      { iamLookups: 0 },
    ));

  test('temporary credentials (X-Security-Token) are refused', () =>
    refused(/X-Security-Token/, untouched, {
      extra: { headers: { 'X-Project-Id': PROJECT, 'X-Security-Token': 'sts-token' } },
      iamLookups: 0,
    }));

  test('a key of a disabled user', async () => {
    const disabled = t.keystone.addAccessKey({ projectId: PROJECT, userEnabled: false });
    await refused(/disabled user/, untouched, { signer: disabled });
  });

  test('a disabled owner is told only to a caller whose signature checks out', async () => {
    const disabled = t.keystone.addAccessKey({ projectId: PROJECT, userEnabled: false });
    await refused(/signature does not match/, untouched, {
      signer: { accessKey: disabled.accessKey, secretKey: 'guessed' },
    });
  });

  test('a key whose project is disabled', async () => {
    const disabled = t.keystone.addAccessKey({ projectId: 'project-off', projectEnabled: false });
    await refused(/project is disabled/, untouched, {
      signer: disabled,
      extra: { headers: { 'X-Project-Id': 'project-off' } },
    });
  });

  test('a credential of another type with the same id is not an access key', async () => {
    const other = t.keystone.addAccessKey({ projectId: PROJECT }, 'cert');
    await refused(/access key is unknown/, untouched, { signer: other });
  });
});

describe('signatures bound to this service: its host names, and once per write', () => {
  let t: TestApp;
  let key: AccessKeyPair;
  before(async () => {
    t = await startTestApp({ env: FAKE_SERVICE_IDENTITY });
    key = t.keystone.addAccessKey({ userId: USER, projectId: PROJECT });
  });
  after(async () => t.close());
  beforeEach(async () => emptyTables(t.db));

  const taskCount = async () =>
    Number((await t.db.query('SELECT count(*) FROM tasks')).rows[0].count);
  let creates = 0;
  /** A create unlike any other: the same body in the same second would be a replay. */
  const createRequest = (extra: Partial<ToSign> = {}): ToSign => ({
    method: 'POST',
    path: `/v2/${PROJECT}/tasks`,
    headers: { 'X-Project-Id': PROJECT },
    body: createBody({ description: `create ${++creates}` }),
    ...extra,
  });

  for (const host of ['oms.other.example', 'oms.other.example:443', `10.0.0.1:${8080}`]) {
    test(`a create signed for another host (${host}): 401, no task made`, async () => {
      const res = await sendSigned(t.port, key, createRequest({ host }));
      assertOmsError(res, 401, 'APIGW.0301', /Host .*not a name this service answers to/);
      assert.equal(await taskCount(), 0);
      assert.deepEqual(await allAuditRows(t.db), []);
    });
  }

  test('a Host in another case, or on another port of an accepted name: accepted', async () => {
    const res = await sendSigned(t.port, key, createRequest({ host: `LocalHost:${t.port + 1}` }));
    assert.equal(res.status, 200, res.text);
    assert.equal(await taskCount(), 1);
  });

  test('a replayed create: the first makes one task, the replay is 401 and makes none', async () => {
    const sent = signed(t.port, key, createRequest());
    const first = await sendRaw(t.port, sent);
    assert.equal(first.status, 200, first.text);
    for (let i = 0; i < 2; i++) {
      assertOmsError(await sendRaw(t.port, sent), 401, 'APIGW.0301', /replay/);
    }
    assert.equal(await taskCount(), 1);
    const rows = await allAuditRows(t.db);
    assert.deepEqual(
      rows.map((row) => row.action),
      ['create'],
    );
  });

  test('a replayed stop: one pause, one audit row, the replay refused as such', async () => {
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const sent = signed(t.port, key, {
      method: 'POST',
      path: stopPath(PROJECT, id),
      headers: { 'X-Project-Id': PROJECT },
    });
    await assertStopped(t.db, await sendRaw(t.port, sent), id, {
      projectId: PROJECT,
      userId: USER,
    });
    // Started again by hand: a replay that acted would pause it a second time.
    await t.db.query('UPDATE tasks SET status = $2 WHERE id = $1', [id, TaskStatus.Migrating]);
    assertOmsError(await sendRaw(t.port, sent), 401, 'APIGW.0301', /replay/);
    assert.equal((await auditRows(t.db, id)).length, 1);
    assert.equal(
      (await t.db.query('SELECT status FROM tasks WHERE id = $1', [id])).rows[0].status,
      TaskStatus.Migrating,
    );
  });

  test('concurrent copies of one signed create: exactly one acts', async () => {
    const sent = signed(t.port, key, createRequest());
    const answers = await Promise.all(Array.from({ length: 6 }, () => sendRaw(t.port, sent)));
    const statuses = answers.map((res) => res.status).sort();
    assert.deepEqual(statuses, [200, 401, 401, 401, 401, 401]);
    assert.equal(await taskCount(), 1);
  });

  test('a signed read may be sent again: reads change nothing', async () => {
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const sent = signed(t.port, key, {
      method: 'GET',
      path: `/v2/${PROJECT}/tasks/${id}`,
      headers: { 'X-Project-Id': PROJECT },
    });
    assert.equal((await sendRaw(t.port, sent)).status, 200);
    assert.equal((await sendRaw(t.port, sent)).status, 200);
  });

  test('a signed write refused with a 4xx changed nothing: the same bytes may act once later', async () => {
    const id = await insertTask(t.db, PROJECT, TaskStatus.Waiting);
    const sent = signed(t.port, key, {
      method: 'POST',
      path: `/v2/${PROJECT}/tasks/${id}/start`,
      headers: { 'X-Project-Id': PROJECT },
      body: startBody(),
    });
    assertOmsError(await sendRaw(t.port, sent), 400, 'OMS.0065');
    await t.db.query('UPDATE tasks SET status = $2 WHERE id = $1', [id, TaskStatus.Paused]);
    assert.equal((await sendRaw(t.port, sent)).status, 200);
    await t.db.query('UPDATE tasks SET status = $2 WHERE id = $1', [id, TaskStatus.Paused]);
    assertOmsError(await sendRaw(t.port, sent), 401, 'APIGW.0301', /replay/);
    const starts = (await auditRows(t.db, id)).filter((row) => row.action === 'start');
    assert.equal(starts.length, 1);
    assert.equal(
      (await t.db.query('SELECT status FROM tasks WHERE id = $1', [id])).rows[0].status,
      TaskStatus.Paused,
    );
  });

  test('a signed write refused before it acts is refused alike when sent again', async () => {
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const sent = signed(t.port, key, {
      method: 'POST',
      path: stopPath(PROJECT, id),
      headers: { 'X-Project-Id': 'another-project' },
    });
    assertOmsError(await sendRaw(t.port, sent), 403, 'OMS.0206');
    assertOmsError(await sendRaw(t.port, sent), 403, 'OMS.0206');
    await assertUnchanged(t.db, id, TaskStatus.Migrating);
  });
});

describe('the database out of reach when a signed write is recorded', () => {
  test('503 OMS.2004 with Retry-After, nothing changed; served again once it is back', async () => {
    const proxy = await TcpProxy.inFrontOf(testDatabaseUrl());
    const t = await startTestApp({
      databaseUrl: proxy.urlThrough(testDatabaseUrl()),
      env: { ...FAKE_SERVICE_IDENTITY, DATABASE_CONNECT_TIMEOUT_MS: '500' },
    });
    try {
      await emptyTables(t.db);
      const key = t.keystone.addAccessKey({ userId: USER, projectId: PROJECT });
      const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
      const sent = signed(t.port, key, {
        method: 'POST',
        path: stopPath(PROJECT, id),
        headers: { 'X-Project-Id': PROJECT },
      });
      proxy.cut();
      assertOmsError(await sendRaw(t.port, sent), 503, 'OMS.2004');
      await assertUnchanged(t.db, id, TaskStatus.Migrating);
      proxy.restore();
      // The 503 recorded nothing, so the same bytes act now.
      await assertStopped(t.db, await sendRaw(t.port, sent), id, {
        projectId: PROJECT,
        userId: USER,
      });
    } finally {
      await t.close();
      await proxy.stop();
    }
  });
});

describe('which credential counts', () => {
  let t: TestApp;
  before(async () => (t = await startTestApp({ env: FAKE_SERVICE_IDENTITY })));
  after(async () => t.close());
  beforeEach(async () => emptyTables(t.db));

  test('a token beside an Authorization header of another scheme: the token counts', async () => {
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const token = t.keystone.issue({ projectId: PROJECT, userId: USER });
    const res = await stop(t, PROJECT, id, token).set('Authorization', 'Basic dXNlcjpwYXNz');
    await assertStopped(t.db, res, id, { projectId: PROJECT, userId: USER });
  });

  test('a signature beside X-Auth-Token, even an empty one: 401, IAM not asked', async () => {
    const key = t.keystone.addAccessKey({ projectId: PROJECT });
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const reads = t.keystone.credentialReads;
    const res = await sendSigned(
      t.port,
      key,
      { method: 'POST', path: stopPath(PROJECT, id), headers: { 'X-Project-Id': PROJECT } },
      (sent) => (sent.headers['X-Auth-Token'] = ''),
    );
    assertOmsError(res, 401, 'APIGW.0301', /both X-Auth-Token and an SDK-HMAC-SHA256 signature/);
    assert.equal(t.keystone.credentialReads, reads);
    await assertUnchanged(t.db, id, TaskStatus.Migrating);
  });
});

describe('a service without an IAM service identity', () => {
  let t: TestApp;
  before(async () => (t = await startTestApp()));
  after(async () => t.close());

  test('refuses signed requests: 401, signatures not enabled', async () => {
    await emptyTables(t.db);
    const key = t.keystone.addAccessKey({ projectId: PROJECT });
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const res = await sendSigned(t.port, key, {
      method: 'POST',
      path: stopPath(PROJECT, id),
      headers: { 'X-Project-Id': PROJECT },
    });
    assertOmsError(res, 401, 'APIGW.0301', /signatures are not enabled/);
    assert.equal(t.keystone.credentialReads, 0);
    await assertUnchanged(t.db, id, TaskStatus.Migrating);
  });
});
