// Task ids must survive int64 SDKs and Terraform's float64, so only canonical
// decimal ids of at most 15 digits are ours; anything else is "not found"
// (OMS.1009, a 400 that Terraform depends on), never a 500 or a lookup.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TaskNotFound } from '../src/common/oms-errors.js';
import { parseTaskId } from '../src/tasks/task.params.js';

test('canonical ids from 1 to 999999999999999 are accepted unchanged', () => {
  for (const id of ['1', '9', '10', '42', '1000', '123456789012345', '999999999999999']) {
    assert.equal(parseTaskId(id), id);
  }
});

const NOT_OURS = [
  ['the empty string', ''],
  ['zero', '0'],
  ['leading zeros', '007'],
  ['a lone leading zero before a valid id', '01'],
  ['exponent notation', '1e3'],
  ['a leading space', ' 1'],
  ['a trailing space', '1 '],
  ['a trailing newline', '1\n'],
  ['a negative number', '-1'],
  ['a plus sign', '+1'],
  ['a decimal point', '1.0'],
  ['hexadecimal', '0x10'],
  ['letters', 'abc'],
  ['full-width digits', '\uff11\uff12'],
  ['16 digits', '1234567890123456'],
  ['one above the maximum', '1000000000000000'],
  ['far above int64', '99999999999999999999999'],
] as const;

for (const [what, text] of NOT_OURS) {
  test(`${what} (${JSON.stringify(text)}) is not found`, () => {
    assert.throws(
      () => parseTaskId(text),
      (error: unknown) => {
        assert.ok(error instanceof TaskNotFound);
        assert.equal(error.code, 'OMS.1009');
        return true;
      },
    );
  });
}
