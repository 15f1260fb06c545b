// The official SDK core (@huaweicloud/huaweicloud-sdk-core, unmodified)
// calling the service with an access key and secret key, as the Huawei Cloud
// SDKs and the Terraform provider do. Keys live in the Keystone double as
// EC2 credentials; the service reads them with its service identity.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { TaskStatus } from '../src/tasks/task-state.js';
import { FAKE_SERVICE_IDENTITY, type FakeAccessKey } from './support/fake-keystone.js';
import { aSecondLater, omsClient, sdkError, type OmsClient } from './support/oms-sdk-client.js';
import { assertPaused, assertUnchanged } from './support/stop-checks.js';
import { createBody, startBody } from './support/task-api.js';
import {
  auditRows,
  emptyTables,
  insertTask,
  startTestApp,
  taskStatus,
  type TestApp,
} from './support/test-app.js';

const PROJECT = 'project-1';

describe('the official SDK core, signing with an access key', () => {
  let t: TestApp;
  let endpoint: string;
  before(async () => {
    t = await startTestApp({ env: FAKE_SERVICE_IDENTITY });
    endpoint = `http://127.0.0.1:${t.port}`;
  });
  after(async () => t.close());
  beforeEach(async () => {
    await emptyTables(t.db);
    t.keystone.mode = 'ok';
  });

  function client(key: FakeAccessKey = {}, projectId = PROJECT): OmsClient {
    const { accessKey, secretKey } = t.keystone.addAccessKey({ projectId: PROJECT, ...key });
    return omsClient(endpoint, { accessKey, secretKey, projectId });
  }

  const assertPausedBy = (taskId: string, userId: string) =>
    assertPaused(t.db, taskId, { projectId: PROJECT, userId });

  test('stop pauses a migrating task; stopping it again is OMS.0066', async () => {
    const oms = client({ userId: 'sdk-user' });
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const res = await oms.stopTask(id);
    assert.equal(res.httpStatusCode, 200);
    await assertPausedBy(id, 'sdk-user');

    const again = await sdkError(oms.stopTask(id, aSecondLater()));
    assert.equal(again.httpStatusCode, 400);
    assert.equal(again.errorCode, 'OMS.0066');
    await assertPausedBy(id, 'sdk-user'); // still one audit row
  });

  test('a query and a JSON body, as the SDK encodes and hashes them, verify end to end', async () => {
    const oms = client({ userId: 'sdk-user' });
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const res = await oms.send('POST', '/v2/{project_id}/tasks/{task_id}/stop', {
      path: { task_id: id },
      query: { note: 'a b/c&d=é', order: ['2', '1'], empty: '' },
      body: { reason: 'täglich €', n: 1 },
    });
    assert.equal(res.httpStatusCode, 200);
    await assertPausedBy(id, 'sdk-user');
  });

  test('stop of a task that does not exist is OMS.1009', async () => {
    const err = await sdkError(client().stopTask('999999999'));
    assert.equal(err.httpStatusCode, 400);
    assert.equal(err.errorCode, 'OMS.1009');
  });

  test('the rest of the task API through the SDK, each answer and row checked', async () => {
    const oms = client({ userId: 'sdk-user' });
    const setStatus = (id: string, status: TaskStatus) =>
      t.db.query('UPDATE tasks SET status = $2 WHERE id = $1', [id, status]);

    const created = await oms.createTask(createBody());
    assert.equal(created.httpStatusCode, 200);
    assert.equal(typeof created.id, 'number');
    const id = String(created.id);
    const [createdRow] = await auditRows(t.db, id);
    assert.deepEqual([createdRow.action, createdRow.user_id], ['create', 'sdk-user']);

    const shown = await oms.showTask(id);
    assert.equal(shown.httpStatusCode, 200);
    assert.equal(shown.name, created.task_name);
    assert.equal(shown.status, TaskStatus.Waiting); // the scheduler is off in this app
    const listed = await oms.listTasks({ limit: 100, offset: 0 });
    assert.equal(listed.count, 1);
    assert.deepEqual(
      listed.tasks?.map((task) => task.id),
      [created.id],
    );

    assert.equal((await sdkError(oms.startTask(id, startBody()))).errorCode, 'OMS.0065');
    await setStatus(id, TaskStatus.Paused);
    assert.equal((await oms.startTask(id, startBody())).httpStatusCode, 200);
    assert.equal(await taskStatus(t.db, id), TaskStatus.Waiting);

    const policy = [{ start: '01:00', end: '05:00', max_bandwidth: 2_097_152 }];
    const updated = await oms.updateBandwidthPolicy(id, { bandwidth_policy: policy });
    assert.equal(updated.httpStatusCode, 200);
    const { rows } = await t.db.query(
      'SELECT bandwidth_policy FROM tasks JOIN task_details ON task_id = id WHERE id = $1',
      [id],
    );
    assert.deepEqual(rows[0].bandwidth_policy, policy);

    await setStatus(id, TaskStatus.Migrating);
    assert.equal((await sdkError(oms.deleteTask(id))).errorCode, 'OMS.0063');
    await setStatus(id, TaskStatus.Paused);
    assert.equal((await oms.deleteTask(id)).httpStatusCode, 200);
    assert.equal(await taskStatus(t.db, id), undefined);
    assert.equal((await sdkError(oms.showTask(id))).errorCode, 'OMS.1009');

    const invalid = await sdkError(oms.createTask(createBody({ description: 'd'.repeat(256) })));
    assert.equal(invalid.httpStatusCode, 400);
    assert.equal(invalid.errorCode, 'OMS.0064');

    assert.equal((await oms.listApiVersions()).versions?.[0].id, 'v2');
    assert.equal((await oms.showApiInfo()).id, 'v2');
  });

  test('batch update (BatchUpdateTasksReq) by ids and by group; a refused batch changes nothing', async () => {
    const oms = client({ userId: 'sdk-user' });
    const paused = await insertTask(t.db, PROJECT, TaskStatus.Paused);
    const grouped = await insertTask(t.db, PROJECT, TaskStatus.Waiting);
    await t.db.query("UPDATE tasks SET group_id = 'group-sdk' WHERE id = $1", [grouped]);
    const policy = [{ start: '01:00', end: '05:00', max_bandwidth: 2_097_152 }];
    const policies = async () =>
      (
        await t.db.query(
          'SELECT bandwidth_policy, task_priority FROM tasks JOIN task_details ON task_id = id ORDER BY id',
        )
      ).rows;

    const byIds = await oms.batchUpdateTasks({
      ids: [Number(paused)],
      bandwidth_policy: policy,
      task_priority: 'LOW',
    });
    assert.equal(byIds.httpStatusCode, 200);
    const byGroup = await oms.batchUpdateTasks({ group_id: 'group-sdk', bandwidth_policy: policy });
    assert.equal(byGroup.httpStatusCode, 200);
    assert.deepEqual(await policies(), [
      { bandwidth_policy: policy, task_priority: 1 },
      { bandwidth_policy: policy, task_priority: 2 },
    ]);
    assert.deepEqual(
      (await auditRows(t.db, paused)).map((row) => [row.action, row.user_id]),
      [['batch_priority', 'sdk-user']],
    );

    const before = await policies();
    const refused = await sdkError(
      oms.batchUpdateTasks({ ids: [Number(paused), 999_999_999], bandwidth_policy: [] }),
    );
    assert.deepEqual([refused.httpStatusCode, refused.errorCode], [400, 'OMS.1009']);
    const both = await sdkError(
      oms.batchUpdateTasks({ ids: [Number(paused)], group_id: 'group-sdk', bandwidth_policy: [] }),
    );
    assert.deepEqual([both.httpStatusCode, both.errorCode], [400, 'OMS.0064']);
    assert.deepEqual(await policies(), before);
  });

  test('cloud types and data centres (ShowCloudType, ShowRegionInfo) answer bare arrays', async () => {
    const oms = client();
    const destinations = await oms.showCloudType('dst');
    assert.equal(destinations.httpStatusCode, 200);
    assert.deepEqual([...(destinations as unknown as string[])], ['HuaweiCloud']);
    const sources = (await oms.showCloudType('src')) as unknown as string[];
    assert.ok(sources.includes('AWS') && sources.includes('URLSource'));
    const invalid = await sdkError(oms.showCloudType('both'));
    assert.deepEqual([invalid.httpStatusCode, invalid.errorCode], [400, 'OMS.0064']);

    const centres = (await oms.showRegionInfo()) as unknown as {
      service_name: string;
      region_list: { cloud_type: string; value: string; description: string }[];
    }[];
    assert.ok(Array.isArray(centres) && centres.length > 0);
    const aws = centres.find((centre) => centre.service_name === 'AWS');
    assert.deepEqual(aws?.region_list[0], {
      cloud_type: 'AWS',
      value: 'us-east-1',
      description: 'US East (N. Virginia)',
    });
  });

  test('the secret and roles are read from IAM once, then cached', async () => {
    const oms = client();
    const reads = t.keystone.credentialReads;
    for (let i = 0; i < 3; i++) {
      const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
      assert.equal((await oms.stopTask(id)).httpStatusCode, 200);
    }
    assert.equal(t.keystone.credentialReads - reads, 1);
  });

  test('a reader may not stop: 403 OMS.0206, nothing changes', async () => {
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const err = await sdkError(client({ roles: ['reader'] }).stopTask(id));
    assert.equal(err.httpStatusCode, 403);
    assert.equal(err.errorCode, 'OMS.0206');
    await assertUnchanged(t.db, id, TaskStatus.Migrating);
  });

  test('a suspended account may not stop: 403 OMS.0206', async () => {
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const err = await sdkError(client({ roles: ['member', 'op_suspended'] }).stopTask(id));
    assert.equal(err.httpStatusCode, 403);
    assert.equal(err.errorCode, 'OMS.0206');
    assert.match(err.errorMsg ?? '', /restricted or suspended/);
    await assertUnchanged(t.db, id, TaskStatus.Migrating);
  });

  test("a project id other than the key's (X-Project-Id and path): 403 OMS.0206", async () => {
    const other = 'project-2';
    const id = await insertTask(t.db, other, TaskStatus.Migrating);
    const err = await sdkError(client({}, other).stopTask(id));
    assert.equal(err.httpStatusCode, 403);
    assert.equal(err.errorCode, 'OMS.0206');
    assert.match(err.errorMsg ?? '', /X-Project-Id/);
    await assertUnchanged(t.db, id, TaskStatus.Migrating);
  });

  test('an access key IAM does not know: 401 APIGW.0301', async () => {
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const oms = omsClient(endpoint, {
      accessKey: 'AKNEVERISSUED',
      secretKey: 'x',
      projectId: PROJECT,
    });
    const err = await sdkError(oms.stopTask(id));
    assert.equal(err.httpStatusCode, 401);
    assert.equal(err.errorCode, 'APIGW.0301');
    assert.match(err.errorMsg ?? '', /access key is unknown/);
    await assertUnchanged(t.db, id, TaskStatus.Migrating);
  });

  test('a wrong secret key: 401 APIGW.0301, signature mismatch', async () => {
    const { accessKey } = t.keystone.addAccessKey({ projectId: PROJECT });
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const oms = omsClient(endpoint, { accessKey, secretKey: 'not-the-secret', projectId: PROJECT });
    const err = await sdkError(oms.stopTask(id));
    assert.equal(err.httpStatusCode, 401);
    assert.equal(err.errorCode, 'APIGW.0301');
    assert.match(err.errorMsg ?? '', /signature does not match/);
    await assertUnchanged(t.db, id, TaskStatus.Migrating);
  });

  test('a signed request that also carries X-Auth-Token: 401, neither is used', async () => {
    const token = t.keystone.issue({ projectId: PROJECT });
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const err = await sdkError(
      client().send('POST', '/v2/{project_id}/tasks/{task_id}/stop', {
        path: { task_id: id },
        headers: { 'X-Auth-Token': token },
      }),
    );
    assert.equal(err.httpStatusCode, 401);
    assert.equal(err.errorCode, 'APIGW.0301');
    assert.match(err.errorMsg ?? '', /both X-Auth-Token and an SDK-HMAC-SHA256 signature/);
    assert.equal(t.keystone.validationCount(token), 0);
    await assertUnchanged(t.db, id, TaskStatus.Migrating);
  });

  for (const [label, mode] of [
    ['answering 500', 'error'],
    ['resetting the connection', 'reset'],
  ] as const) {
    test(`IAM ${label} while the secret is fetched: 503 OMS.2004, nothing changes`, async () => {
      const oms = client();
      const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
      t.keystone.mode = mode;
      const err = await sdkError(oms.stopTask(id));
      assert.equal(err.httpStatusCode, 503);
      assert.equal(err.errorCode, 'OMS.2004');
      await assertUnchanged(t.db, id, TaskStatus.Migrating);
    });
  }

  test('a service token IAM no longer accepts is re-issued once, and the call succeeds', async () => {
    // Any lookup makes the service hold a service token.
    await sdkError(client().stopTask('999999999'));
    const issued = t.keystone.serviceTokensIssued;
    t.keystone.revokeServiceTokens();
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    assert.equal((await client({ userId: 'after-rotation' }).stopTask(id)).httpStatusCode, 200);
    assert.equal(t.keystone.serviceTokensIssued - issued, 1);
    await assertPausedBy(id, 'after-rotation');
  });

  test("every sync-task call, with the official models' fields", async () => {
    const oms = client({ userId: 'sdk-sync-user' });
    // CreateSyncTaskReq: the eight required fields and a few optional ones.
    const created = await oms.createSyncTask({
      src_cloud_type: 'Aliyun',
      src_region: 'cn-hangzhou',
      src_bucket: 'sdk-src',
      src_ak: 'SDK-SRC-AK',
      src_sk: 'sdk-src-sk',
      dst_ak: 'SDK-DST-AK',
      dst_sk: 'sdk-dst-sk',
      dst_region: 'cn-north-4',
      dst_bucket: 'sdk-dst',
      description: 'from the SDK',
      enable_restore: true,
      dst_storage_policy: 'IA',
      consistency_check: 'crc64',
    });
    assert.equal(created.httpStatusCode, 200);
    const id = created.sync_task_id;
    assert.equal(typeof id, 'string');

    const listed = await oms.listSyncTasks({ limit: 10, offset: 0, status: 'SYNCHRONIZING' });
    assert.equal(listed.httpStatusCode, 200);
    assert.equal(listed.count, 1);
    assert.equal(listed.tasks?.[0].sync_task_id, id);

    // ShowSyncTaskResponse: string status, int64 times and counters.
    const shown = await oms.showSyncTask(id!, String(Date.now()));
    assert.equal(shown.httpStatusCode, 200);
    assert.equal(shown.status, 'SYNCHRONIZING');
    assert.equal(shown.dst_storage_policy, 'IA');
    assert.equal(shown.consistency_check, 'crc64');
    assert.equal(shown.enable_restore, true);
    assert.equal(typeof shown.create_time, 'number');
    assert.equal(typeof shown.last_start_time, 'number');
    assert.equal(shown.monthly_success_object, 0);

    const stats = await oms.listSyncTaskStatistic(id!, {
      data_type: 'REQUEST,FAILURE',
      start_time: '1767225600000',
      end_time: '1767226200000',
    });
    assert.equal(stats.httpStatusCode, 200);
    assert.equal(stats.sync_task_id, id);
    assert.equal(stats.statistic_time_type, 'FIVE_MINUTES');
    assert.deepEqual(
      (stats.statistic_datas as { data_type: string }[]).map((d) => d.data_type),
      ['REQUEST', 'FAILURE'],
    );

    assert.equal((await oms.createSyncEvents(id!, { object_keys: ['a%20b'] })).httpStatusCode, 200);

    // Deleting while it synchronizes is refused; stop, start, stop, delete.
    const refused = await sdkError(oms.deleteSyncTask(id!));
    assert.equal(refused.httpStatusCode, 400);
    assert.equal(refused.errorCode, 'OMS.0063');
    assert.equal((await oms.stopSyncTask(id!)).httpStatusCode, 200);
    const keys = { src_ak: 'AK1', src_sk: 'SK1', dst_ak: 'AK2', dst_sk: 'SK2' };
    assert.equal((await oms.startSyncTask(id!, keys)).httpStatusCode, 200);
    assert.equal((await oms.stopSyncTask(id!, aSecondLater())).httpStatusCode, 200);
    assert.equal((await oms.deleteSyncTask(id!)).httpStatusCode, 200);

    const gone = await sdkError(oms.showSyncTask(id!, String(Date.now())));
    assert.equal(gone.httpStatusCode, 404);
    assert.equal(gone.errorCode, 'OMS.1009');
    const { rows } = await t.db.query(
      'SELECT action, user_id FROM sync_task_transitions WHERE sync_task_id = $1 ORDER BY id',
      [id],
    );
    assert.deepEqual(
      rows.map((row) => row.action),
      ['create', 'stop', 'start', 'stop', 'delete'],
    );
    assert.ok(rows.every((row) => row.user_id === 'sdk-sync-user'));
  });
});
