// What every stop test checks, in one place: the OMS error shape of a
// refusal, and the database afterwards (a refusal changes nothing; a success
// pauses the task and writes exactly one audit row).

import assert from 'node:assert/strict';
import type pg from 'pg';
import request from 'supertest';
import { TaskStatus } from '../../src/tasks/task-state.js';
import { rawHttp } from './raw-http.js';
import { allAuditRows, auditRows, insertTask, taskStatus, type TestApp } from './test-app.js';

export function stopPath(projectId: string, taskId: string): string {
  return `/v2/${projectId}/tasks/${taskId}/stop`;
}

/** A stop as the Terraform provider sends it: no body, no content type. */
export function stop(t: TestApp, projectId: string, taskId: string, token?: string) {
  // A service that hangs must fail its test, not stall the run.
  const req = request(t.server).post(stopPath(projectId, taskId)).timeout(10_000);
  return token === undefined ? req : req.set('X-Auth-Token', token);
}

/** What the checks need of an answer: supertest's Response and RawResponse both fit. */
export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * Asserts a refusal in the OMS shape: the status, exactly the three fields,
 * the code, the request id in the body equal to the X-Request-Id header, and
 * Retry-After on a 503 and a 429 only. Returns the body.
 */
export function assertOmsError(
  res: Answer,
  status: number,
  code: string,
  message?: RegExp,
): { error_code: string; error_msg: string; request_id: string } {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${res.text}`);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const body = JSON.parse(res.text);
  assert.deepEqual(Object.keys(body).sort(), ['error_code', 'error_msg', 'request_id']);
  assert.equal(body.error_code, code);
  assert.equal(typeof body.error_msg, 'string');
  assert.notEqual(body.error_msg, '');
  if (message) assert.match(body.error_msg, message);
  assert.equal(typeof res.headers['x-request-id'], 'string');
  assert.notEqual(res.headers['x-request-id'], '');
  assert.equal(body.request_id, res.headers['x-request-id']);
  if (status === 503 || status === 429) {
    assert.match(String(res.headers['retry-after']), /^[1-9][0-9]*$/);
  } else {
    assert.equal(res.headers['retry-after'], undefined);
  }
  return body;
}

/** Every row of tasks and task_transitions, to compare before and after a refusal. */
export async function taskTablesSnapshot(db: pg.Pool): Promise<string> {
  const tasks = await db.query('SELECT * FROM tasks ORDER BY id');
  const audit = await db.query('SELECT * FROM task_transitions ORDER BY id');
  return JSON.stringify([tasks.rows, audit.rows]);
}

/** A refusal in the OMS shape (assertOmsError) that changed no task and wrote no audit row. */
export async function assertRefusedUnchanged(
  db: pg.Pool,
  send: () => Promise<Answer>,
  status: number,
  code: string,
  message?: RegExp,
): Promise<void> {
  const before = await taskTablesSnapshot(db);
  assertOmsError(await send(), status, code, message);
  assert.equal(await taskTablesSnapshot(db), before, 'a refusal changed the database');
}

/** The task is still in `status` and no audit row exists anywhere. */
export async function assertUnchanged(db: pg.Pool, taskId: string, status: TaskStatus) {
  assert.equal(await taskStatus(db, taskId), status, `task ${taskId} changed status`);
  assert.deepEqual(await allAuditRows(db), [], 'a refused stop wrote an audit row');
}

export interface Pause {
  projectId: string;
  userId: string;
  /**
   * The X-Request-Id of the response that paused it; a client that does not
   * show it (the SDK on a success) leaves it out, and any id will do.
   */
  requestId?: string;
}

/**
 * The task is paused and has exactly one audit row, 2 → 3, naming who and
 * which request. Every test that checks a pause checks it with this.
 */
export async function assertPaused(db: pg.Pool, taskId: string, by: Pause) {
  assert.equal(await taskStatus(db, taskId), TaskStatus.Paused);
  const rows = await auditRows(db, taskId);
  assert.equal(rows.length, 1, `expected one audit row for task ${taskId}, got ${rows.length}`);
  const { task_id, project_id, from_status, to_status, user_id, request_id } = rows[0];
  assert.ok(
    typeof request_id === 'string' && request_id !== '',
    'an audit row without a request id',
  );
  assert.deepEqual(
    { task_id, project_id, from_status, to_status, user_id, request_id },
    {
      task_id: taskId,
      project_id: by.projectId,
      from_status: TaskStatus.Migrating,
      to_status: TaskStatus.Paused,
      user_id: by.userId,
      request_id: by.requestId ?? request_id,
    },
  );
}

/** A 200 with an empty body, and the row to match. */
export async function assertStopped(
  db: pg.Pool,
  res: Answer,
  taskId: string,
  by: Omit<Pause, 'requestId'>,
) {
  assert.equal(res.status, 200, `expected 200, got ${res.status}: ${res.text}`);
  assert.equal(res.text, '');
  const requestId = res.headers['x-request-id'];
  assert.ok(typeof requestId === 'string' && requestId !== '', 'no X-Request-Id on a 200');
  await assertPaused(db, taskId, { ...by, requestId });
}

/**
 * Sends a stop of a fresh migrating task with `token`, byte for byte (no
 * client library would send such a header), and checks that the HTTP layer
 * refused it: 400 OMS.0064, IAM never asked, the task unchanged.
 */
export async function assertTokenRefusedOnTheWire(t: TestApp, projectId: string, token: string) {
  const id = await insertTask(t.db, projectId, TaskStatus.Migrating);
  const before = t.keystone.validationCount();
  const res = await rawHttp(t.port, [
    `POST ${stopPath(projectId, id)} HTTP/1.1`,
    `X-Auth-Token: ${token}`,
  ]);
  assertOmsError(res, 400, 'OMS.0064');
  assert.equal(t.keystone.validationCount(), before, 'IAM was asked');
  await assertUnchanged(t.db, id, TaskStatus.Migrating);
}
