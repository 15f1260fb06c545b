// The JSON logger on its own: one parseable object per line, Nest's calling
// conventions, levels, the request id an object message names, fields
// that hold secrets replaced, and the access line written as text.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LogLevel } from '../src/config/config.js';
import { JsonLogger } from '../src/logging/json-logger.js';

function capture(level: LogLevel = 'verbose') {
  const lines: string[] = [];
  const logger = new JsonLogger(level, (line) => lines.push(line));
  const parsed = () =>
    lines.map((line) => {
      assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'), 'one line per entry');
      return JSON.parse(line) as Record<string, unknown>;
    });
  return { logger, parsed };
}

test('a line has time, level, msg and context', () => {
  const { logger, parsed } = capture();
  logger.log('Listening on 0.0.0.0:8080', 'Main');
  const [line] = parsed();
  assert.equal(line.level, 'info');
  assert.equal(line.msg, 'Listening on 0.0.0.0:8080');
  assert.equal(line.context, 'Main');
  assert.ok(!Number.isNaN(Date.parse(String(line.time))));
  assert.equal(line.request_id, undefined, 'no request, no request id');
});

test('an object message is spread into the line; its requestId becomes request_id', () => {
  const { logger, parsed } = capture();
  logger.warn({ msg: 'database unavailable', requestId: 'r-1', attempt: 2 }, 'Filter');
  assert.deepEqual(
    { ...parsed()[0], time: undefined },
    {
      time: undefined,
      level: 'warn',
      msg: 'database unavailable',
      context: 'Filter',
      request_id: 'r-1',
      attempt: 2,
    },
  );
});

test("Nest's error(message, stack, context) keeps the stack and the context", () => {
  const { logger, parsed } = capture();
  const stack = 'Error: boom\n    at somewhere (file.js:1:1)';
  logger.error('boom', stack, 'ExceptionHandler');
  const [line] = parsed();
  assert.equal(line.level, 'error');
  assert.equal(line.stack, stack);
  assert.equal(line.context, 'ExceptionHandler');
});

test('levels below LOG_LEVEL are dropped', () => {
  const { logger, parsed } = capture('warn');
  logger.verbose('v');
  logger.debug('d');
  logger.log('i');
  logger.warn('w');
  logger.error('e');
  logger.fatal('f');
  assert.deepEqual(
    parsed().map((line) => line.level),
    ['warn', 'error', 'fatal'],
  );
});

test('fields named like secrets are replaced, at any depth', () => {
  const { logger, parsed } = capture();
  logger.log({
    msg: 'm',
    token: 'tok-123',
    headers: { 'x-auth-token': 'tok-456', Authorization: 'Bearer x', accept: 'json' },
    body: { src_node: { ak: 'AK-1', sk: 'SK-1', bucket: 'b' }, dst_sk: 'SK-2' },
    security_token: 's',
    signature: 'sig',
  });
  const text = JSON.stringify(parsed());
  for (const secret of ['tok-123', 'tok-456', 'Bearer x', 'AK-1', 'SK-1', 'SK-2', '"s"', 'sig"']) {
    assert.ok(!text.includes(secret), `${secret} was logged: ${text}`);
  }
  assert.match(text, /"bucket":"b"/);
  assert.match(text, /"accept":"json"/);
});

test("a message cannot forge the line's own fields; a cycle or a BigInt still logs", () => {
  const { logger, parsed } = capture();
  logger.log({ msg: 'forged?', level: 'fatal', time: 'yesterday', request_id: 'someone-else' });
  const cyclic: Record<string, unknown> = { msg: 'cycle' };
  cyclic.self = cyclic;
  logger.warn(cyclic);
  logger.warn({ msg: 'big', n: 10n });
  const [forged, cycle, big] = parsed();
  assert.equal(forged.level, 'info');
  assert.notEqual(forged.time, 'yesterday');
  assert.equal(forged.request_id, undefined);
  assert.equal(cycle.msg, 'cycle');
  assert.deepEqual([big.msg, big.unserializable], ['big', true]);
});

test('the access line, written as text, is the line the generic path gives', () => {
  const { logger, parsed } = capture('info');
  const answer = {
    requestId: 'r-"quoted"\\1',
    method: 'POST',
    route: '/v2/:project_id/tasks/:task_id/stop',
    status: 403,
    durationMs: 1.5,
  };
  logger.requestAnswered('info', answer);
  const { requestId, durationMs, ...rest } = answer;
  logger.log({ msg: 'request answered', requestId, ...rest, duration_ms: durationMs }, 'Access');
  logger.requestAnswered('debug', answer);
  const [text, generic, ...dropped] = parsed();
  assert.deepEqual(dropped, [], 'a debug access line is dropped at info level');
  assert.deepEqual(Object.keys(text), Object.keys(generic), 'same fields, same order');
  assert.deepEqual({ ...text, time: undefined }, { ...generic, time: undefined });
  assert.equal(text.request_id, 'r-"quoted"\\1');
  assert.ok(!Number.isNaN(Date.parse(String(text.time))));
});

test('the access line names project, task, user and error code when there are some', () => {
  const { logger, parsed } = capture('info');
  logger.requestAnswered('info', {
    requestId: 'r-2',
    method: 'POST',
    route: '/v2/:project_id/tasks/:task_id/stop',
    status: 400,
    durationMs: 2,
    projectId: 'p-"1"',
    taskId: '7',
    userId: 'u-1',
    errorCode: 'OMS.0066',
  });
  const [line] = parsed();
  assert.equal(line.project_id, 'p-"1"');
  assert.equal(line.task_id, '7');
  assert.equal(line.user_id, 'u-1');
  assert.equal(line.error_code, 'OMS.0066');
  assert.equal(line.group_id, undefined, 'only the ids the path has');
});

test('the access line names a task group or a sync task the path names', () => {
  const { logger, parsed } = capture('info');
  const base = { requestId: 'r', method: 'PUT', status: 200, durationMs: 1 };
  logger.requestAnswered('info', {
    ...base,
    route: '/v2/:project_id/taskgroups/:group_id/stop',
    projectId: 'p',
    groupId: 'g-1',
  });
  logger.requestAnswered('info', {
    ...base,
    route: '/v2/:project_id/sync-tasks/:sync_task_id/stop',
    projectId: 'p',
    syncTaskId: 's-1',
  });
  const [group, sync] = parsed();
  assert.equal(group.group_id, 'g-1');
  assert.equal(sync.sync_task_id, 's-1');
  assert.equal(group.task_id, undefined);
});

test("Nest's start-up narration is debug, not info; its warnings stay", () => {
  const { logger, parsed } = capture('info');
  logger.log('AppModule dependencies initialized', 'InstanceLoader');
  logger.log('Mapped {/v2/:project_id/tasks, POST} route', 'RouterExplorer');
  logger.log('Nest application successfully started', 'NestApplication');
  logger.warn('something Nest wants seen', 'NestApplication');
  logger.log('Listening on 127.0.0.1:8080', 'Main');
  assert.deepEqual(
    parsed().map((line) => line.msg),
    ['something Nest wants seen', 'Listening on 127.0.0.1:8080'],
  );
});

test('text format: one readable line, fields as name=value, quoted only when needed', () => {
  const lines: string[] = [];
  const logger = new JsonLogger('info', (line) => lines.push(line), 'text');
  logger.warn(
    { msg: 'database unavailable', requestId: 'r-1', reason: 'no answer', attempt: 2 },
    'Filter',
  );
  logger.requestAnswered('info', {
    requestId: 'r-3',
    method: 'GET',
    route: '/v2/:project_id/tasks',
    status: 200,
    durationMs: 3.1,
    projectId: 'p1',
    userId: 'u1',
  });
  logger.log({ msg: 'keys', access_key: 'AKIA-SECRET' }, 'Main');
  assert.match(
    lines[0],
    /^\d\d:\d\d:\d\d\.\d{3} WARN  Filter {2}database unavailable request_id=r-1 reason="no answer" attempt=2\n$/,
  );
  assert.match(
    lines[1],
    /^\d\d:\d\d:\d\d\.\d{3} INFO  Access {2}GET \/v2\/:project_id\/tasks 200 3\.1 ms project_id=p1 user_id=u1 request_id=r-3\n$/,
  );
  assert.ok(!lines[2].includes('AKIA-SECRET'), 'secrets are replaced in text too');
});
