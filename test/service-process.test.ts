// The service as an operator runs it: `node dist/src/main.js` in a process
// of its own. Start-up validation, the zero-configuration development mode
// on the embedded database, production mode against PostgreSQL and an IAM,
// and a graceful SIGTERM.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import pg from 'pg';
import { TaskStatus } from '../src/tasks/task-state.js';
import { FAKE_SERVICE_IDENTITY, FakeKeystone } from './support/fake-keystone.js';
import { waitUntil } from './support/wait-until.js';
import { assertPaused } from './support/stop-checks.js';
import { aSecondLater, omsClient, sdkError } from './support/oms-sdk-client.js';
import {
  developmentBanner,
  startServiceProcess as startService,
  waitForOutput as waitFor,
} from './support/service-process.js';
import { createBody, startBody, TaskApi } from './support/task-api.js';
import { insertTask, TEST_SECRETS_KEY, testDatabaseUrl } from './support/test-app.js';

const scratch: string[] = [];
after(() => scratch.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

test('a bad setting stops the service at start-up, naming the variable', async () => {
  const service = startService({ PORT: 'eighty' });
  assert.equal(await service.exited, 1);
  assert.match(service.output(), /PORT="eighty": expected an integer/);
});

test('production refuses the development defaults', async () => {
  const service = startService({ NODE_ENV: 'production' });
  assert.equal(await service.exited, 1);
  assert.match(service.output(), /NODE_ENV=production needs DATABASE_URL and IAM_ENDPOINT/);
});

test('with nothing configured: embedded database, development IAM, a working curl', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'oms-dev-'));
  scratch.push(dataDir);
  const service = startService({ DATA_DIR: dataDir });
  try {
    const banner = await waitFor('the banner', service, () => developmentBanner(service.output()));
    const { TOKEN: token, READER: reader } = banner;
    const url = `${banner.B}/${banner.taskId}/stop`;
    assert.match(service.output(), /API document: http:\/\/127\.0\.0\.1:\d+\/docs$/m);
    assert.match(service.output(), /^Demo worker: on \(DEV_WORKER=off to turn it off\)/m);
    // The lines as a newcomer pastes them, run by a shell. Nothing else is
    // set: the exports alone must make the curl work.
    const pasted = spawnSync('bash', ['-e', '-c', banner.script], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
      timeout: 20_000,
    });
    assert.equal(pasted.status, 0, pasted.stderr);
    assert.match(pasted.stdout, /^HTTP\/1\.1 200 OK/);

    const again = await fetch(url, { method: 'POST', headers: { 'X-Auth-Token': token } });
    assert.equal(again.status, 400);
    assert.equal(((await again.json()) as { error_code: string }).error_code, 'OMS.0066');
    const denied = await fetch(url, { method: 'POST', headers: { 'X-Auth-Token': reader } });
    assert.equal(denied.status, 403);

    // The embedded database has one session; concurrent transitions must
    // still be atomic: 20 parallel stops of another demo task, one 200.
    const other = url.replace(/\/tasks\/\d+\/stop$/, '/tasks/2/stop');
    const statuses = await Promise.all(
      Array.from({ length: 20 }, () =>
        fetch(other, { method: 'POST', headers: { 'X-Auth-Token': token } }).then((r) => r.status),
      ),
    );
    assert.equal(statuses.filter((s) => s === 200).length, 1);
    assert.equal(statuses.filter((s) => s === 400).length, 19);
  } finally {
    service.child.kill('SIGTERM');
  }
  assert.equal(await service.exited, 0);

  // The data survives a restart; the demo project is not seeded twice.
  const restarted = startService({ DATA_DIR: dataDir });
  try {
    const banner = await waitFor('the banner', restarted, () =>
      developmentBanner(restarted.output()),
    );
    const token = banner.TOKEN;
    assert.equal(banner.taskId, '3', 'tasks 1 and 2 are still paused');
    const first = `${banner.B}/1/stop`;
    const res = await fetch(first, { method: 'POST', headers: { 'X-Auth-Token': token } });
    assert.equal(((await res.json()) as { error_code: string }).error_code, 'OMS.0066');
  } finally {
    restarted.child.kill('SIGTERM');
  }
  assert.equal(await restarted.exited, 0);
});

test('development mode prints an access key that the official SDK core can sign with', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'oms-dev-sdk-'));
  scratch.push(dataDir);
  const service = startService({ DATA_DIR: dataDir });
  try {
    const banner = await waitFor('the banner', service, () => developmentBanner(service.output()));
    const { taskId } = banner;
    const oms = omsClient(new URL(banner.B).origin, {
      accessKey: banner.AK,
      secretKey: banner.SK,
      projectId: banner.PROJECT,
    });
    assert.equal((await oms.stopTask(taskId)).httpStatusCode, 200);
    assert.equal((await sdkError(oms.stopTask(taskId, aSecondLater()))).errorCode, 'OMS.0066');
  } finally {
    service.child.kill('SIGTERM');
  }
  assert.equal(await service.exited, 0);
});

test('production: PostgreSQL and IAM from the environment; SIGTERM lets a request finish', async () => {
  const keystone = await FakeKeystone.start();
  const db = new pg.Pool({ connectionString: testDatabaseUrl(), max: 2 });
  const service = startService({
    NODE_ENV: 'production',
    DATABASE_URL: testDatabaseUrl(),
    IAM_ENDPOINT: keystone.endpoint,
    SECRETS_KEY: TEST_SECRETS_KEY.toString('base64'),
    LOG_LEVEL: 'debug',
  });
  try {
    const port = await service.port;
    const project = 'process-test-project';
    const id = await insertTask(db, project, TaskStatus.Migrating);
    const token = keystone.issue({ projectId: project, userId: 'operator-7' });

    // IAM is slow, so the request is still in flight when SIGTERM arrives.
    keystone.delayMs = 500;
    const inFlight = fetch(`http://127.0.0.1:${port}/v2/${project}/tasks/${id}/stop`, {
      method: 'POST',
      headers: { 'X-Auth-Token': token, 'X-Request-Id': 'sigterm-test-1' },
    });
    // In flight: IAM has it (and takes 500 ms to answer).
    await waitUntil('the stop reaching IAM', () => keystone.validationCount(token) === 1);
    service.child.kill('SIGTERM');
    const res = await inFlight;
    assert.equal(res.status, 200);
    assert.equal(await service.exited, 0);
    await assertPaused(db, id, {
      projectId: project,
      userId: 'operator-7',
      requestId: 'sigterm-test-1',
    });

    // Logs are JSON lines, and the token is in none of them.
    const lines = service.output().trim().split('\n');
    for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), line);
    const access = lines
      .map((line) => JSON.parse(line))
      .find((entry) => entry.context === 'Access' && entry.request_id === 'sigterm-test-1');
    assert.equal(access?.status, 200, 'no access line under the request id');
    assert.ok(!service.output().includes(token), 'the token must never be logged');
  } finally {
    service.child.kill('SIGKILL');
    await db.end();
    await keystone.stop();
  }
});

test('task secrets reach neither the log nor any answer, whatever happens to the request', async () => {
  const keystone = await FakeKeystone.start();
  const service = startService({
    NODE_ENV: 'production',
    DATABASE_URL: testDatabaseUrl(),
    IAM_ENDPOINT: keystone.endpoint,
    SECRETS_KEY: TEST_SECRETS_KEY.toString('base64'),
    LOG_LEVEL: 'verbose',
  });
  const secrets = {
    src_ak: 'LOGTEST-SRC-AK-4411',
    src_sk: 'logtest-src-sk-f00d-4411',
    dst_ak: 'LOGTEST-DST-AK-4412',
    dst_sk: 'logtest-dst-sk-beef-4412',
    token: 'logtest-security-token-4413',
  };
  try {
    const port = await service.port;
    const project = 'process-secrets-project';
    const token = keystone.issue({ projectId: project });
    const body = createBody({
      src_node: { ...(createBody().src_node as object), ak: secrets.src_ak, sk: secrets.src_sk },
      dst_node: {
        ...(createBody().dst_node as object),
        ak: secrets.dst_ak,
        sk: secrets.dst_sk,
        security_token: secrets.token,
      },
    });
    const api = TaskApi.at(`http://127.0.0.1:${port}`, project, token);
    const answers = [];
    const created = await api.create(body);
    assert.equal(created.status, 200, created.text);
    answers.push(created, await api.show(created.body.id), await api.list());
    // Refusals of every kind, with the secrets in the body.
    answers.push(await api.create({ ...body, description: 'x'.repeat(300) }));
    answers.push(await api.create({ ...body, task_type: 'list' }));
    answers.push(await TaskApi.at(`http://127.0.0.1:${port}`, project, 'bad-token').create(body));
    const startBodyWithSecrets = startBody({
      src_ak: secrets.src_ak,
      src_sk: secrets.src_sk,
      dst_ak: secrets.dst_ak,
      dst_sk: secrets.dst_sk,
    });
    answers.push(await api.start(created.body.id, startBodyWithSecrets)); // still waiting: 0065
    answers.push(await api.start('999999', startBodyWithSecrets));
    answers.push(await api.start(created.body.id, { ...startBodyWithSecrets, dst_sk: '' }));
    // IAM down: the request fails after the body was read.
    keystone.mode = 'error';
    answers.push(await TaskApi.at(`http://127.0.0.1:${port}`, project, 'fresh-token').create(body));
    keystone.mode = 'ok';

    service.child.kill('SIGTERM');
    await service.exited;
    const everything = service.output() + answers.map((res) => res.text).join('\n');
    for (const [name, value] of Object.entries(secrets)) {
      assert.ok(!everything.includes(value), `${name} appeared in the log or an answer`);
    }
    assert.ok(service.output().length > 0, 'the service logged something to search');
  } finally {
    service.child.kill('SIGKILL');
    await keystone.stop();
  }
});

test('production with an IAM service identity: the official SDK core signs a stop; no secret or signature in the logs', async () => {
  const keystone = await FakeKeystone.start();
  const db = new pg.Pool({ connectionString: testDatabaseUrl(), max: 2 });
  const service = startService({
    NODE_ENV: 'production',
    DATABASE_URL: testDatabaseUrl(),
    IAM_ENDPOINT: keystone.endpoint,
    SECRETS_KEY: TEST_SECRETS_KEY.toString('base64'),
    ...FAKE_SERVICE_IDENTITY,
    LOG_LEVEL: 'debug',
  });
  try {
    const port = await service.port;
    const project = 'process-sdk-project';
    const id = await insertTask(db, project, TaskStatus.Migrating);
    const key = keystone.addAccessKey({ projectId: project, userId: 'sdk-operator' });
    const oms = omsClient(`http://127.0.0.1:${port}`, { ...key, projectId: project });
    assert.equal((await oms.stopTask(id)).httpStatusCode, 200);
    await assertPaused(db, id, { projectId: project, userId: 'sdk-operator' });

    // Refusals and an IAM outage are logged too, without what was sent.
    const wrong = omsClient(`http://127.0.0.1:${port}`, {
      ...key,
      secretKey: 'a-wrong-secret-key',
      projectId: project,
    });
    assert.equal((await sdkError(wrong.stopTask(id))).errorCode, 'APIGW.0301');
    keystone.mode = 'error';
    const fresh = keystone.addAccessKey({ projectId: project });
    const down = omsClient(`http://127.0.0.1:${port}`, { ...fresh, projectId: project });
    assert.equal((await sdkError(down.stopTask(id))).errorCode, 'OMS.2004');

    // Log lines are written once per event-loop turn; at exit, all of them.
    service.child.kill('SIGTERM');
    await service.exited;
    const output = service.output();
    assert.match(output, /The IAM is unavailable/, 'the outage was logged');
    for (const secret of [
      key.secretKey,
      fresh.secretKey,
      'a-wrong-secret-key',
      FAKE_SERVICE_IDENTITY.IAM_SERVICE_PASSWORD,
    ]) {
      assert.ok(!output.includes(secret), 'a secret was logged');
    }
    assert.doesNotMatch(output, /Signature=|[0-9a-f]{64}/, 'a signature was logged');
  } finally {
    service.child.kill('SIGKILL');
    await db.end();
    await keystone.stop();
  }
});
