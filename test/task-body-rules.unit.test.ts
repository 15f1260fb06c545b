// The body rules that span fields: bandwidth periods (non-empty, no
// overlap, periods may wrap past midnight) and what each task type needs
// from its source.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidParameter } from '../src/common/oms-errors.js';
import { checkBandwidthPolicy, checkSourceForTaskType } from '../src/tasks/task-body-rules.js';
import type { SourceNode } from '../src/tasks/task.entity.js';

const p = (start: string, end: string) => ({ start, end, max_bandwidth: 1_048_576 });

function refused(run: () => void, message: RegExp) {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof InvalidParameter);
    assert.equal(error.code, 'OMS.0064');
    assert.match(error.message, message);
    return true;
  });
}

describe('bandwidth periods', () => {
  const accepted: [string, ReturnType<typeof p>[]][] = [
    ['none', []],
    ['one', [p('00:00', '23:59')]],
    ['touching end to start', [p('00:00', '06:00'), p('06:00', '12:00')]],
    [
      'five apart',
      [
        p('00:00', '01:00'),
        p('02:00', '03:00'),
        p('04:00', '05:00'),
        p('06:00', '07:00'),
        p('08:00', '09:00'),
      ],
    ],
    ['one past midnight beside a daytime one', [p('22:00', '02:00'), p('02:00', '22:00')]],
    ['a full day as 00:00-00:00 is not allowed, but 00:01-00:00 wraps', [p('00:01', '00:00')]],
  ];
  for (const [what, periods] of accepted) {
    test(`accepted: ${what}`, () => checkBandwidthPolicy(periods));
  }

  const refusedCases: [string, ReturnType<typeof p>[], RegExp][] = [
    ['an empty period', [p('05:00', '05:00')], /\[0\].*empty/],
    ['the same period twice', [p('01:00', '02:00'), p('01:00', '02:00')], /\[0\].*\[1\].*overlap/],
    ['one inside another', [p('00:00', '10:00'), p('03:00', '04:00')], /overlap/],
    ['overlapping by a minute', [p('00:00', '06:01'), p('06:00', '07:00')], /overlap/],
    ['two that both wrap midnight', [p('23:00', '01:00'), p('23:30', '00:30')], /overlap/],
    ['a wrapping one over an early one', [p('22:00', '03:00'), p('02:00', '04:00')], /overlap/],
    [
      'the third against the first',
      [p('00:00', '02:00'), p('05:00', '06:00'), p('01:00', '01:30')],
      /\[0\].*\[2\]/,
    ],
  ];
  for (const [what, periods, message] of refusedCases) {
    test(`refused: ${what}`, () => refused(() => checkBandwidthPolicy(periods), message));
  }
});

describe('what each task type needs from its source', () => {
  const base: SourceNode = { cloud_type: 'AWS', region: 'r', bucket: 'b' };
  const withKeys = { ...base, object_key: ['a/'] };
  const withList = { ...base, list_file: { list_file_key: 'list.txt', obs_bucket: 'lists' } };

  test('object and prefix take object_key', () => {
    checkSourceForTaskType('object', withKeys);
    checkSourceForTaskType('prefix', withKeys);
    refused(() => checkSourceForTaskType('object', base), /object_key is required/);
    refused(() => checkSourceForTaskType('prefix', withList), /object_key is required/);
    refused(
      () => checkSourceForTaskType('object', { ...withKeys, list_file: withList.list_file }),
      /list_file is not used/,
    );
  });

  test('list and url_list take list_file', () => {
    checkSourceForTaskType('list', withList);
    checkSourceForTaskType('url_list', withList);
    refused(() => checkSourceForTaskType('list', base), /list_file is required/);
    refused(() => checkSourceForTaskType('url_list', withKeys), /list_file is required/);
    refused(
      () => checkSourceForTaskType('url_list', { ...withList, object_key: ['x'] }),
      /object_key is not used/,
    );
  });
});
