// Domain errors are answers to the caller, not faults: they are made without
// a stack trace (the cost of capturing one showed in every refusal under
// load), and making one leaves stack traces on for everything else.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Forbidden, TaskNotFound } from '../src/common/oms-errors.js';

test('a domain error has no stack trace, and other errors keep theirs', () => {
  const limit = Error.stackTraceLimit;
  const refusal = new Forbidden('the credentials are scoped to another project.');
  assert.equal(refusal.stack, undefined);
  assert.equal(new TaskNotFound().stack, undefined);
  assert.equal(refusal.name, 'Forbidden');
  assert.equal(refusal.code, 'OMS.0206');
  assert.equal(Error.stackTraceLimit, limit, 'the limit is put back');
  assert.match(new Error('a fault').stack ?? '', /\n\s+at /);
});
