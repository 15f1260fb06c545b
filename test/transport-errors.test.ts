// Requests that never reach a route handler still get the OMS error body
// and an X-Request-Id: a URL that does not decode, headers past the limit,
// bytes that are not HTTP, a body over the limit.

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { TaskStatus } from '../src/tasks/task-state.js';
import { insertTask, startTestApp, taskStatus, type TestApp } from './support/test-app.js';

let t: TestApp;
let port: number;
before(async () => {
  t = await startTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  port = (t.app.getHttpServer().address() as { port: number }).port;
});
after(async () => t.close());

/** Sends raw bytes, returns status, headers and body of the answer. */
function raw(bytes: string): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(bytes));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head, ...rest] = answer.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), headers: head, body: rest.join('\r\n\r\n') });
    });
  });
}

function assertOmsBody(body: string, code: string): void {
  const parsed = JSON.parse(body);
  assert.equal(parsed.error_code, code);
  assert.equal(typeof parsed.error_msg, 'string');
  assert.match(parsed.request_id, /^[0-9a-f-]{36}$/);
}

test('a URL that does not percent-decode: 400 OMS.0064', async () => {
  const id = await insertTask(t.db, 'p1', TaskStatus.Migrating);
  const res = await raw(
    `POST /v2/p1/tasks/%E0%A4%A/stop HTTP/1.1\r\nHost: x\r\nX-Auth-Token: x\r\nConnection: close\r\n\r\n`,
  );
  assert.equal(res.status, 400);
  assert.match(res.headers, /x-request-id: /i);
  assertOmsBody(res.body, 'OMS.0064');
  assert.equal(await taskStatus(t.db, id), TaskStatus.Migrating);
});

test('headers over 64 KiB: 431 with the OMS body', async () => {
  const res = await raw(
    `POST /v2/p1/tasks/1/stop HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`,
  );
  assert.equal(res.status, 431);
  assert.match(res.headers, /x-request-id: /i);
  assertOmsBody(res.body, 'OMS.0064');
});

test('bytes that are not HTTP: 400 with the OMS body', async () => {
  const res = await raw('GARBAGE\r\n\r\n');
  assert.equal(res.status, 400);
  assertOmsBody(res.body, 'OMS.0064');
});

test('a body over 1 MiB: 413 with the OMS body, task unchanged', async () => {
  const id = await insertTask(t.db, 'p1', TaskStatus.Migrating);
  const token = t.keystone.issue({ projectId: 'p1' });
  const body = '"' + 'a'.repeat(1024 * 1024 + 10) + '"';
  const res = await raw(
    `POST /v2/p1/tasks/${id}/stop HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${token}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
  );
  assert.equal(res.status, 413);
  assertOmsBody(res.body, 'OMS.0064');
  assert.equal(await taskStatus(t.db, id), TaskStatus.Migrating);
});
