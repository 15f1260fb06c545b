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
