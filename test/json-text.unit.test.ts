// The hand-written JSON of access lines and error bodies is JSON.stringify's
// text, byte for byte, whatever the string holds.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonString } from '../src/common/json-text.js';
import { omsErrorBody, omsErrorText } from '../src/common/oms-exception.filter.js';

const SAMPLES = [
  '',
  'plain',
  '/v2/:project_id/tasks/:task_id/stop',
  'a "quoted" word',
  'back\\slash',
  'new\nline\ttab\r\u0000\u001f\u007f',
  'café ünïcödé 任务',
  '\ud83d\ude00 an emoji',
  'lone \ud800 surrogate \udfff',
  '</script>',
  'x'.repeat(256),
  'x'.repeat(257),
  `${'y'.repeat(300)}"`,
];

test('jsonString is JSON.stringify for every kind of string', () => {
  for (const sample of SAMPLES) assert.equal(jsonString(sample), JSON.stringify(sample), sample);
  for (let code = 0; code < 0x10000; code++) {
    const sample = `id-${String.fromCharCode(code)}-1`;
    assert.equal(jsonString(sample), JSON.stringify(sample), `U+${code.toString(16)}`);
  }
});

test('omsErrorText is the JSON of omsErrorBody', () => {
  for (const message of SAMPLES) {
    for (const requestId of ['f1c2d3e4-0000-4000-8000-000000000000', 'caller.id:7', message]) {
      assert.equal(
        omsErrorText('OMS.0206', message, requestId),
        JSON.stringify(omsErrorBody('OMS.0206', message, requestId)),
      );
    }
  }
});
