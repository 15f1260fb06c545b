import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import request from 'supertest';
import { TaskStatus } from '../src/tasks/task-state.js';
import {
  auditRows,
  insertTask,
  startTestApp,
  taskStatus,
  type TestApp,
} from './support/test-app.js';

let t: TestApp;
before(async () => (t = await startTestApp()));
after(async () => t.close());

test('a migrating task is paused, with an audit row', async () => {
  const id = await insertTask(t.db, 'project-1', TaskStatus.Migrating);
  const token = t.keystone.issue({ projectId: 'project-1', userId: 'u-42' });
  const res = await request(t.server)
    .post(`/v2/project-1/tasks/${id}/stop`)
    .set('X-Auth-Token', token)
    .set('X-Request-Id', 'req-abc');
  assert.equal(res.status, 200);
  assert.equal(res.text, '');
  assert.equal(res.headers['x-request-id'], 'req-abc');
  assert.equal(await taskStatus(t.db, id), TaskStatus.Paused);
  const audit = await auditRows(t.db, id);
  assert.equal(audit.length, 1);
  assert.deepEqual(
    { ...audit[0], created_at: undefined },
    {
      task_id: id,
      project_id: 'project-1',
      from_status: 2,
      to_status: 3,
      user_id: 'u-42',
      request_id: 'req-abc',
      created_at: undefined,
      id: audit[0] && (audit[0] as unknown as { id: string }).id,
    },
  );
});
