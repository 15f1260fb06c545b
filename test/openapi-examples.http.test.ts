// The OpenAPI document served at /docs-json, as "Try it out" uses it: every
// request body example it offers is sent to the service as it is and must be
// accepted, and every error status of every call shows one example answer
// per code, each a code that status really carries. Every call lists 408 and
// 429, which any request can meet.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import request from 'supertest';
import type { OmsErrorCode } from '../src/common/oms-errors.js';
import { statusesOf } from '../src/openapi/api-oms-errors.js';
import { TaskStatus } from '../src/tasks/task-state.js';
import { insertTask, startTestApp, taskStatus, type TestApp } from './support/test-app.js';

const PROJECT = 'openapi-examples';

interface Operation {
  requestBody?: { content: Record<string, { examples?: Record<string, { value: unknown }> }> };
  responses: Record<
    string,
    {
      description: string;
      content?: Record<string, { examples?: Record<string, { value: { error_code: string } }> }>;
    }
  >;
}
type Document = { paths: Record<string, Record<string, Operation>> };

let t: TestApp;
let token: string;
let document: Document;

before(async () => {
  t = await startTestApp();
  token = t.keystone.issue({ projectId: PROJECT, userId: 'openapi-user' });
  document = (await request(t.server).get('/docs-json')).body as Document;
});
after(async () => t.close());

function operations(): [string, string, Operation][] {
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]): [string, string, Operation] => [path, method, op]),
  );
}

/** A task of PROJECT in the status an operation needs to accept its body. */
async function taskFor(path: string): Promise<string> {
  const status = path.endsWith('/start') ? TaskStatus.Paused : TaskStatus.Migrating;
  return insertTask(t.db, PROJECT, status);
}

/** The tasks a batch-update example names, paused (so that a priority may change too). */
async function tasksForBatch(example: { ids?: number[]; group_id?: string }): Promise<void> {
  for (const id of example.ids ?? []) {
    await t.db.query('INSERT INTO tasks (id, project_id, name, status) VALUES ($1, $2, $3, $4)', [
      id,
      PROJECT,
      `batch-${id}`,
      TaskStatus.Paused,
    ]);
  }
  if (example.group_id) {
    const id = await insertTask(t.db, PROJECT, TaskStatus.Paused);
    await t.db.query('UPDATE tasks SET group_id = $2 WHERE id = $1', [id, example.group_id]);
  }
}

/** A sync task of PROJECT, stopped if the operation is a start. */
async function syncTaskFor(path: string): Promise<string> {
  const created = await request(t.server)
    .post(`/v2/${PROJECT}/sync-tasks`)
    .set('X-Auth-Token', token)
    .send({
      src_region: 'r',
      src_bucket: 's',
      dst_region: 'r',
      dst_bucket: 'd',
      src_ak: 'a',
      src_sk: 'b',
      dst_ak: 'c',
      dst_sk: 'd',
    });
  assert.equal(created.status, 200, created.text);
  const id: string = created.body.sync_task_id;
  if (path.endsWith('/start')) {
    const stopped = await request(t.server)
      .post(`/v2/${PROJECT}/sync-tasks/${id}/stop`)
      .set('X-Auth-Token', token);
    assert.equal(stopped.status, 200, stopped.text);
  }
  return id;
}

test('every request body example is a body the service accepts', async () => {
  let sent = 0;
  for (const [path, method, op] of operations()) {
    const examples = op.requestBody?.content['application/json']?.examples ?? {};
    for (const [name, { value }] of Object.entries(examples)) {
      const taskId = path.includes('{task_id}') ? await taskFor(path) : '';
      if (path.endsWith('/batch-update')) await tasksForBatch(value as { ids?: number[] });
      const syncTaskId = path.includes('{sync_task_id}') ? await syncTaskFor(path) : '';
      const url = path
        .replace('{project_id}', PROJECT)
        .replace('{task_id}', taskId)
        .replace('{sync_task_id}', syncTaskId);
      const res = await request(t.server)
        [method as 'post' | 'put'](url)
        .set('X-Auth-Token', token)
        .send(value as object);
      assert.equal(
        res.status,
        200,
        `${method.toUpperCase()} ${path}, example ${name}: ${res.text}`,
      );
      if (path.endsWith('/start') && taskId) {
        assert.equal(await taskStatus(t.db, taskId), TaskStatus.Waiting);
      }
      sent++;
    }
  }
  // Create (two), start and bandwidth-policy (two) at least.
  assert.ok(sent >= 5, `only ${sent} examples`);
});

test('every error status shows an example per code, each a code of that status', () => {
  for (const [path, method, op] of operations()) {
    for (const [status, response] of Object.entries(op.responses)) {
      if (Number(status) < 400) continue;
      const where = `${method.toUpperCase()} ${path} ${status}`;
      const codes = /error_code ([A-Z0-9., ]+)/.exec(response.description)?.[1].split(', ') ?? [];
      const examples = response.content?.['application/json']?.examples ?? {};
      assert.ok(codes.length > 0, `${where}: no codes named`);
      assert.deepEqual(Object.keys(examples).sort(), [...codes].sort(), where);
      for (const [code, { value }] of Object.entries(examples)) {
        assert.equal(value.error_code, code, where);
        const expected = status === '408' ? [408] : statusesOf(code as OmsErrorCode);
        assert.ok(
          expected.includes(Number(status)),
          `${where}: ${code} is answered with ${expected}`,
        );
      }
    }
  }
});

test('every call lists 408 (a request too slow to arrive) and 429 (a rate limit)', () => {
  for (const [path, method, op] of operations()) {
    assert.ok(op.responses['408'], `${method.toUpperCase()} ${path} lists no 408`);
    assert.ok(op.responses['429'], `${method.toUpperCase()} ${path} lists no 429`);
  }
});
