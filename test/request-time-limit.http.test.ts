// REQUEST_TIMEOUT_MS bounds how long a client may take to send its request:
// a client that stalls in its headers or its body gets 408 with the OMS body
// (OMS.0064) and its connection closed, and the task it named is untouched.
// (The 1 MiB body limit is in transport-errors.test.ts.)

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import request from 'supertest';
import { JsonLogger } from '../src/logging/json-logger.js';
import { TaskStatus } from '../src/tasks/task-state.js';
import { parseMetrics, valueOf } from './support/metrics-text.js';
import { assertStopped, stop, stopPath } from './support/stop-checks.js';
import {
  auditRows,
  insertTask,
  startTestApp,
  taskStatus,
  type TestApp,
} from './support/test-app.js';

const REQUEST_TIMEOUT_MS = 500;

const logged: string[] = [];
let t: TestApp;
before(async () => {
  t = await startTestApp({
    env: { REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) },
    logger: new JsonLogger('info', (line) => logged.push(line)),
  });
});
after(async () => t.close());

/** Writes `text`, then sends nothing more; resolves with what the server said and when. */
function stall(text: string): Promise<{ answer: string; elapsed: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = connect(t.port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    socket.setTimeout(15_000, () => socket.destroy(new Error('the server never gave up')));
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve({ answer, elapsed: Date.now() - started }));
  });
}

function assertTimedOut({ answer, elapsed }: { answer: string; elapsed: number }) {
  assert.match(answer, /^HTTP\/1\.1 408 /);
  const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
  assert.equal(body.error_code, 'OMS.0064');
  assert.match(body.error_msg, /too long/);
  assert.match(answer, new RegExp(`\\r\\nX-Request-Id: ${body.request_id}\\r\\n`, 'i'));
  // Not before the limit; well before Node's own default of minutes (loose: shared CPUs).
  assert.ok(elapsed >= REQUEST_TIMEOUT_MS - 50, `gave up after ${elapsed} ms`);
  assert.ok(elapsed < 5000, `gave up only after ${elapsed} ms`);
  // Logged, under the id the client was given.
  const line = logged
    .map((text) => JSON.parse(text) as Record<string, unknown>)
    .find((entry) => entry.request_id === body.request_id);
  assert.deepEqual(
    { context: line?.context, status: line?.status, reason: line?.reason },
    { context: 'Access', status: 408, reason: 'ERR_HTTP_REQUEST_TIMEOUT' },
  );
}

test('headers that never end: 408 OMS.0064 after REQUEST_TIMEOUT_MS', async () => {
  assertTimedOut(await stall('POST /v2/p/tasks/1/stop HTTP/1.1\r\nHost: x\r\nX-Auth-To'));
});

test('a body that stops halfway: 408 OMS.0064, the task unchanged', async () => {
  const id = await insertTask(t.db, 'p-timeout', TaskStatus.Migrating);
  const token = t.keystone.issue({ projectId: 'p-timeout' });
  assertTimedOut(
    await stall(
      `POST ${stopPath('p-timeout', id)} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${token}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"half":',
    ),
  );
  assert.equal(await taskStatus(t.db, id), TaskStatus.Migrating);
  assert.deepEqual(await auditRows(t.db, id), []);
});

test('the refusals are counted in the metrics, under route "unparsed"', async () => {
  const samples = parseMetrics((await request(t.server).get('/metrics')).text);
  assert.equal(
    valueOf(samples, 'oms_http_requests_total', { route: 'unparsed', status: '408' }),
    2,
  );
});

test('the limit is on receiving the request: a slower answer is still given', async () => {
  // IAM takes longer than REQUEST_TIMEOUT_MS; the request was complete, so
  // the service finishes it rather than cut it off half-done.
  const id = await insertTask(t.db, 'p-slow', TaskStatus.Migrating);
  const token = t.keystone.issue({ projectId: 'p-slow', userId: 'u-slow' });
  t.keystone.delayMs = REQUEST_TIMEOUT_MS * 2;
  try {
    const res = await stop(t, 'p-slow', id, token);
    await assertStopped(t.db, res, id, { projectId: 'p-slow', userId: 'u-slow' });
  } finally {
    t.keystone.delayMs = 0;
  }
});
