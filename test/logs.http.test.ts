// The service's log as an operator reads it: every line one JSON object;
// every line written while serving a request carries that request's id (the
// one the client got in X-Request-Id); one access line per request, with the
// route pattern and no headers; and no token anywhere.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { DependencyUnavailable } from '../src/common/oms-errors.js';
import type { LogLevel } from '../src/config/config.js';
import type { Caller, TokenValidator } from '../src/iam/caller.js';
import { KeystoneTokenValidator } from '../src/iam/keystone-token.validator.js';
import { JsonLogger } from '../src/logging/json-logger.js';
import { TaskStatus } from '../src/tasks/task-state.js';
import { assertOmsError, assertPaused, assertStopped, stopPath } from './support/stop-checks.js';
import { emptyTables, insertTask, startTestApp, type TestApp } from './support/test-app.js';

const PROJECT = 'logs-project';
const STOP_ROUTE = '/v2/:project_id/tasks/:task_id/stop';

type Line = Record<string, unknown>;

function capturingLogger(level: LogLevel) {
  const raw: string[] = [];
  const logger = new JsonLogger(level, (line) => raw.push(line));
  const lines = (): Line[] => raw.map((text) => JSON.parse(text) as Line);
  return { logger, raw, lines };
}

/**
 * IAM as these tests need it: a bug for one token, an outage for another,
 * the double for the rest; and never reachable for the readiness check.
 */
class TroubledValidator implements TokenValidator {
  /** The Keystone double's client, once the double is running. */
  inner: TokenValidator | undefined;

  async validate(token: string): Promise<Caller> {
    if (token === 'token-that-hits-a-bug') throw new Error('bug in the validator');
    if (token === 'token-while-iam-is-down') throw new DependencyUnavailable('IAM');
    return this.inner!.validate(token);
  }

  async checkReachable(): Promise<void> {
    throw new Error('IAM at 10.0.0.1 refused');
  }
}

describe('JSON log lines with request ids', () => {
  let t: TestApp;
  const log = capturingLogger('debug');
  let token: string;
  const requestIds: string[] = [];
  let started: number;
  const stopped = { id: '' };

  before(async () => {
    const troubled = new TroubledValidator();
    t = await startTestApp({ logger: log.logger, tokenValidator: troubled });
    troubled.inner = new KeystoneTokenValidator(t.keystone.endpoint, 3000);
    await emptyTables(t.db);
    token = t.keystone.issue({ projectId: PROJECT, userId: 'log-user' });
    started = log.raw.length;

    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    stopped.id = id;
    // With a JSON body, so the request id must survive the body being read.
    const ok = await request(t.server)
      .post(stopPath(PROJECT, id))
      .set('X-Auth-Token', token)
      .set('X-Request-Id', 'caller-chosen-id.1')
      .send({ ignored: true });
    await assertStopped(t.db, ok, id, { projectId: PROJECT, userId: 'log-user' });
    const answers = [
      ok,
      assertOmsErrorAnd(
        await request(t.server)
          .post(stopPath(PROJECT, id))
          .set('X-Auth-Token', 'token-while-iam-is-down')
          .send({ a: 1 }),
        503,
        'OMS.2004',
      ),
      assertOmsErrorAnd(
        await request(t.server)
          .post(stopPath(PROJECT, id))
          .set('X-Auth-Token', 'token-that-hits-a-bug'),
        500,
        'OMS.2000',
      ),
      assertOmsErrorAnd(await request(t.server).get('/nowhere'), 404, 'APIGW.0101'),
      await request(t.server).get('/health/ready'),
    ];
    for (const res of answers) requestIds.push(String(res.headers['x-request-id']));
    assert.equal(requestIds[0], 'caller-chosen-id.1');
  });
  after(async () => t.close());

  function assertOmsErrorAnd(res: request.Response, status: number, code: string) {
    assertOmsError(res, status, code);
    return res;
  }

  const requestLines = () => log.lines().slice(started);

  test('every line is a JSON object with time, level and msg', () => {
    assert.ok(log.raw.length > started);
    for (const text of log.raw) {
      assert.ok(text.endsWith('\n') && text.indexOf('\n') === text.length - 1, 'one line each');
      const line = JSON.parse(text) as Line;
      assert.ok(!Number.isNaN(Date.parse(String(line.time))));
      assert.match(String(line.level), /^(fatal|error|warn|info|debug|verbose)$/);
      assert.equal(typeof line.msg, 'string');
    }
  });

  test('every line written while serving a request names the request', () => {
    const lines = requestLines();
    assert.ok(lines.length >= requestIds.length);
    for (const line of lines) {
      assert.ok(
        requestIds.includes(String(line.request_id)),
        `a line without its request id: ${JSON.stringify(line)}`,
      );
    }
  });

  test('one access line per request: method, route pattern, status, duration, request id', () => {
    const access = requestLines().filter((line) => line.context === 'Access');
    assert.deepEqual(
      access.map((line) => [line.request_id, line.method, line.route, line.status]),
      [
        [requestIds[0], 'POST', STOP_ROUTE, 200],
        [requestIds[1], 'POST', STOP_ROUTE, 503],
        [requestIds[2], 'POST', STOP_ROUTE, 500],
        [requestIds[3], 'GET', 'unmatched', 404],
        [requestIds[4], 'GET', '/health/ready', 503],
      ],
    );
    const common = ['context', 'duration_ms', 'level', 'method', 'msg', 'request_id', 'route'];
    for (const line of access) assert.equal(typeof line.duration_ms, 'number');
    // The project and task as the path named them, the user once
    // authenticated, and the code of a refusal.
    const id = String(stopped.id);
    assert.deepEqual(
      access.map((line) => [line.project_id, line.task_id, line.user_id, line.error_code]),
      [
        [PROJECT, id, 'log-user', undefined],
        [PROJECT, id, undefined, 'OMS.2004'],
        [PROJECT, id, undefined, 'OMS.2000'],
        [undefined, undefined, undefined, 'APIGW.0101'],
        [undefined, undefined, undefined, undefined],
      ],
    );
    assert.deepEqual(
      Object.keys(access[0]).sort(),
      [...common, 'project_id', 'status', 'task_id', 'time', 'user_id'].sort(),
    );
    assert.equal(access[4].level, 'debug', 'probes are logged at debug level');
  });

  test('the outage, the bug and the failed readiness check are logged under their requests', () => {
    const byRequest = (id: string, level: string) =>
      requestLines().filter((line) => line.request_id === id && line.level === level);
    assert.match(String(byRequest(requestIds[1], 'warn')[0]?.msg), /IAM is unavailable/);
    const bug = byRequest(requestIds[2], 'error')[0];
    assert.equal(bug?.msg, 'unexpected fault');
    assert.match(String(bug?.error), /bug in the validator/);
    const health = byRequest(requestIds[4], 'warn')[0];
    assert.equal(health?.context, 'Health');
    assert.match(String(health?.msg), /IAM is down/);
  });

  test('no token appears in any line', () => {
    const all = log.raw.join('');
    for (const secret of [token, 'token-while-iam-is-down', 'token-that-hits-a-bug']) {
      assert.ok(!all.includes(secret), `a token was logged`);
    }
  });
});

/**
 * A stop whose body trickles in: the head, and once the server has parsed
 * it (its 'request' event), half the body; then `meanwhile` runs to its
 * end; then the rest. Returns the raw answer.
 */
async function tricklingStop(
  t: TestApp,
  path: string,
  token: string,
  meanwhile: () => Promise<void>,
): Promise<string> {
  const body = '{"trickled":"in two halves"}';
  const socket = connect(t.port, '127.0.0.1');
  let answer = '';
  socket.on('data', (chunk) => (answer += chunk));
  const closed = once(socket, 'close');
  await once(socket, 'connect');
  const headParsed = once(t.server, 'request');
  const write = (text: string) => new Promise((resolve) => socket.write(text, resolve));
  await write(
    `POST ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Auth-Token: ${token}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
  );
  await headParsed;
  await write(body.slice(0, 10));
  await meanwhile();
  await write(body.slice(10));
  await closed;
  return answer;
}

test('a request whose body trickles in, and one refused meanwhile, each keep their own request id', async () => {
  const log = capturingLogger('info');
  const t = await startTestApp({ logger: log.logger });
  try {
    await emptyTables(t.db);
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const token = t.keystone.issue({ projectId: PROJECT, userId: 'log-user' });
    const start = log.raw.length;
    let refusedId = '';
    const answer = await tricklingStop(t, stopPath(PROJECT, id), token, async () => {
      const refused = await request(t.server).post(stopPath(PROJECT, id)).timeout(10_000);
      refusedId = assertOmsError(refused, 401, 'APIGW.0301').request_id;
    });
    assert.match(answer, /^HTTP\/1\.1 200 /);
    const trickledId = /^x-request-id: (\S+)/im.exec(answer)![1];
    assert.notEqual(trickledId, refusedId);
    // The pause is recorded under the trickled request's own id.
    await assertPaused(t.db, id, { projectId: PROJECT, userId: 'log-user', requestId: trickledId });
    const access = log
      .lines()
      .slice(start)
      .filter((line) => line.context === 'Access');
    assert.deepEqual(
      access.map((line) => [line.request_id, line.status, line.user_id]),
      [
        [refusedId, 401, undefined],
        [trickledId, 200, 'log-user'],
      ],
    );
  } finally {
    await t.close();
  }
});

test('at LOG_LEVEL info, probes and scrapes are not logged; API requests are', async () => {
  const log = capturingLogger('info');
  const t = await startTestApp({ logger: log.logger });
  try {
    const start = log.raw.length;
    await request(t.server).get('/health/live');
    await request(t.server).get('/metrics');
    const res = await request(t.server).post(stopPath(PROJECT, '1'));
    assertOmsError(res, 401, 'APIGW.0301');
    const access = log
      .lines()
      .slice(start)
      .filter((line) => line.context === 'Access');
    assert.deepEqual(
      access.map((line) => [line.route, line.status, line.request_id]),
      [[STOP_ROUTE, 401, res.headers['x-request-id']]],
    );
  } finally {
    await t.close();
  }
});
