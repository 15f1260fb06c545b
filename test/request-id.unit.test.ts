// A caller's X-Request-Id ends up in logs, audit rows and a response header,
// so only a sane one is echoed; anything else is replaced by a fresh UUID.

import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { requestIdFor } from '../src/common/request-id.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function requestWith(id?: string | string[]): IncomingMessage {
  return { headers: id === undefined ? {} : { 'x-request-id': id } } as IncomingMessage;
}

for (const id of [
  'req-abc',
  '4f1c2d3e-0000-4000-8000-123456789abc',
  'A',
  'trace:1.2_3-x',
  'a'.repeat(128),
]) {
  test(`a sane id (${id.length > 20 ? `${id.length} characters` : id}) is echoed`, () => {
    assert.equal(requestIdFor(requestWith(id)), id);
  });
}

for (const [what, id] of [
  ['no id', undefined],
  ['an empty id', ''],
  ['129 characters', 'a'.repeat(129)],
  ['a very long id', 'a'.repeat(10_000)],
  ['a space', 'req abc'],
  ['non-ASCII', 'req-\u00e9t\u00e9'],
  ['a CRLF', 'req-abc\r\nSet-Cookie: x=1'],
  ['a trailing newline', 'req-abc\n'],
  ['a NUL', 'req\u0000abc'],
  ['a quote', 'req"abc'],
  ['a slash', '../../etc/passwd'],
  ['two ids (repeated header)', ['req-a', 'req-b']],
] as const) {
  test(`${what} is replaced by a UUID`, () => {
    const generated = requestIdFor(requestWith(id as string | string[] | undefined));
    assert.match(generated, UUID);
    assert.notEqual(generated, id);
  });
}

test('each generated id is new', () => {
  const ids = new Set(Array.from({ length: 100 }, () => requestIdFor(requestWith())));
  assert.equal(ids.size, 100);
});
