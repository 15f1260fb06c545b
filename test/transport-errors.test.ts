// Requests that never reach a route handler still get the OMS error body
// and an X-Request-Id: a URL that does not decode, headers past the limit,
// bytes that are not HTTP, a body over the limit.

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { TaskStatus } from '../src/tasks/task-state.js';
import { rawHttp } from './support/raw-http.js';
import { assertOmsError } from './support/stop-checks.js';
import { insertTask, startTestApp, taskStatus, type TestApp } from './support/test-app.js';

let t: TestApp;
before(async () => (t = await startTestApp()));
after(async () => t.close());

test('a URL that does not percent-decode: 400 OMS.0064, task unchanged', async () => {
  const id = await insertTask(t.db, 'p1', TaskStatus.Migrating);
  const token = t.keystone.issue({ projectId: 'p1' });
  const res = await rawHttp(t.port, [
    `POST /v2/p1/tasks/${id}%E0%A4%A/stop HTTP/1.1`,
    `X-Auth-Token: ${token}`,
  ]);
  assertOmsError(res, 400, 'OMS.0064');
  assert.equal(await taskStatus(t.db, id), TaskStatus.Migrating);
});

test('headers over 64 KiB: 400 OMS.0064', async () => {
  const res = await rawHttp(t.port, [
    'POST /v2/p1/tasks/1/stop HTTP/1.1',
    `X-Big: ${'a'.repeat(70_000)}`,
  ]);
  assertOmsError(res, 400, 'OMS.0064');
});

test('bytes that are not HTTP: 400 OMS.0064', async () => {
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect(t.port, '127.0.0.1', () => socket.end('GARBAGE\r\n\r\n'));
    let text = '';
    socket.on('data', (chunk) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
  });
  assert.match(answer, /^HTTP\/1\.1 400 /);
  assert.match(answer, /"error_code":"OMS\.0064"/);
  assert.match(answer, /\r\nX-Request-Id: [0-9a-f-]{36}\r\n/i);
});

test('a body over 1 MiB: 400 OMS.0064, task unchanged', async () => {
  const id = await insertTask(t.db, 'p1', TaskStatus.Migrating);
  const token = t.keystone.issue({ projectId: 'p1' });
  const body = `"${'a'.repeat(1024 * 1024 + 10)}"`;
  const res = await rawHttp(
    t.port,
    [
      `POST /v2/p1/tasks/${id}/stop HTTP/1.1`,
      `X-Auth-Token: ${token}`,
      'Content-Type: application/json',
      `Content-Length: ${body.length}`,
    ],
    body,
  );
  assertOmsError(res, 400, 'OMS.0064');
  assert.equal(await taskStatus(t.db, id), TaskStatus.Migrating);
});

test('an unknown path with an empty segment is still an unknown API: 404 APIGW.0101', async () => {
  for (const path of ['/v3//tasks/1/stop', '/v2/p1//1/stop', '//']) {
    const res = await rawHttp(t.port, [`POST ${path} HTTP/1.1`, 'X-Auth-Token: x']);
    assertOmsError(res, 404, 'APIGW.0101');
  }
});
