// The official SDK core (unmodified) calling the task-group endpoints with
// request definitions written from the official models (CreateTaskGroupReq,
// StartTaskGroupReq, RetryTaskGroupReq, UpdateTaskGroupReq), signing with an
// access key, as the Huawei Cloud SDKs and the Terraform provider do.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { FAKE_SERVICE_IDENTITY } from './support/fake-keystone.js';
import { aSecondLater, omsClient, sdkError, type OmsClient } from './support/oms-sdk-client.js';
import { groupBody, groupKeys } from './support/task-group-api.js';
import { allAuditRows, emptyTables, startTestApp, type TestApp } from './support/test-app.js';

const PROJECT = 'project-sdk-groups';

describe('the official SDK core on the task-group endpoints', () => {
  let t: TestApp;
  let oms: OmsClient;
  before(async () => {
    t = await startTestApp({ env: FAKE_SERVICE_IDENTITY });
    const { accessKey, secretKey } = t.keystone.addAccessKey({
      projectId: PROJECT,
      userId: 'sdk-user',
    });
    oms = omsClient(`http://127.0.0.1:${t.port}`, { accessKey, secretKey, projectId: PROJECT });
  });
  after(async () => t.close());
  beforeEach(async () => emptyTables(t.db));

  test('create, list, show, stop, update, start, retry, delete; each answer and row checked', async () => {
    const created = await oms.createTaskGroup(groupBody());
    assert.equal(created.httpStatusCode, 200);
    assert.equal(typeof created.group_id, 'string');
    const id = created.group_id!;

    const listed = await oms.listTaskGroup({ limit: 10, offset: 0, status: 2 });
    assert.equal(listed.count, 1);
    assert.equal(listed.taskgroups?.[0].group_id, id);

    const shown = await oms.showTaskGroup(id);
    assert.equal(shown.httpStatusCode, 200);
    // ShowTaskGroupResponse: status int32; the counters int64.
    assert.equal(shown.status, 2);
    assert.equal(shown.total_task_num, 3);
    assert.equal(shown.task_type, 'PREFIX');
    assert.equal(shown.migrate_since, 1_700_000_000);

    assert.equal((await oms.stopTaskGroup(id)).httpStatusCode, 200);
    const again = await sdkError(oms.stopTaskGroup(id, aSecondLater()));
    assert.equal(again.httpStatusCode, 400);
    assert.equal(again.errorCode, 'OMS.0066');
    const paused = (await allAuditRows(t.db)).filter((row) => row.action === 'group_stop');
    assert.equal(paused.length, 3);
    assert.ok(paused.every((row) => row.user_id === 'sdk-user'));

    const policy = [{ start: '01:00', end: '05:00', max_bandwidth: 2_097_152 }];
    assert.equal((await oms.updateTaskGroup(id, { bandwidth_policy: policy })).httpStatusCode, 200);
    assert.equal((await sdkError(oms.retryTaskGroup(id, groupKeys()))).errorCode, 'OMS.0065');
    assert.equal((await oms.startTaskGroup(id, groupKeys())).httpStatusCode, 200);
    assert.equal((await oms.showTaskGroup(id)).status, 2);

    const refused = await sdkError(oms.deleteTaskGroup(id));
    assert.equal(refused.httpStatusCode, 400);
    assert.equal(refused.errorCode, 'OMS.0063');
    assert.equal((await oms.stopTaskGroup(id, aSecondLater())).httpStatusCode, 200);
    assert.equal((await oms.deleteTaskGroup(id)).httpStatusCode, 200);
    const gone = await sdkError(oms.showTaskGroup(id));
    assert.equal(gone.httpStatusCode, 404);
    assert.equal(gone.errorCode, 'OMS.1009');
  });
});
