// The bounded scan of a JSON body's bytes (common/json-body.ts): how deep it
// nests and how many items it holds, counted without parsing, so that a
// body too costly in shape is refused before JSON.parse and validation see it.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_JSON_DEPTH, MAX_JSON_ITEMS, jsonShapeFault } from '../src/common/json-body.js';
import { MAX_BANDWIDTH_PERIODS } from '../src/tasks/task.bodies.js';

const fault = (text: string) => jsonShapeFault(Buffer.from(text, 'utf8'));
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const nestedObjects = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const DEPTH = /nested deeper than/;
const ITEMS = /more than .* items/;

/** The largest body the API defines: a create with every field at its largest. */
function largestCreate(): object {
  const node = {
    cloud_type: 'Aliyun',
    region: 'cn-hangzhou',
    bucket: 'b'.repeat(1024),
    ak: 'a'.repeat(100),
    sk: 's'.repeat(100),
    security_token: 't'.repeat(16_384),
  };
  return {
    src_node: {
      ...node,
      app_id: 'x'.repeat(255),
      object_key: Array.from({ length: 1000 }, (_, i) => `k${i}/`.padEnd(1024, 'k')),
      list_file: { list_file_key: 'l'.repeat(1024), obs_bucket: 'o'.repeat(1024) },
    },
    dst_node: { ...node, save_prefix: 'p'.repeat(1024) },
    task_type: 'object',
    description: 'd'.repeat(255),
    migrate_since: 0,
    bandwidth_policy: Array.from({ length: MAX_BANDWIDTH_PERIODS }, () => ({
      start: '00:00',
      end: '01:00',
      max_bandwidth: 1_048_576,
    })),
    enable_kms: true,
    enable_restore: true,
    enable_metadata_migration: true,
    enable_failed_object_recording: true,
    enable_requester_pays: true,
    object_overwrite_mode: 'NO_OVERWRITE',
    dst_storage_policy: 'STANDARD',
    consistency_check: 'crc64',
    task_priority: 'HIGH',
  };
}

describe('within the bounds', () => {
  const accepted: [string, string][] = [
    ['an empty object', '{}'],
    ['an empty body', ''],
    ['a scalar', '"text"'],
    [`${MAX_JSON_DEPTH} levels of arrays`, nested(MAX_JSON_DEPTH)],
    [`${MAX_JSON_DEPTH} levels of objects`, nestedObjects(MAX_JSON_DEPTH)],
    [`${MAX_JSON_ITEMS} items in one array`, `[${Array(MAX_JSON_ITEMS).fill(0).join(',')}]`],
    ['the largest create body', JSON.stringify(largestCreate())],
    [
      'brackets and commas inside a string',
      JSON.stringify({ a: '[{'.repeat(5000) + ','.repeat(MAX_JSON_ITEMS) }),
    ],
    ['an escaped quote does not end a string', JSON.stringify({ a: '"[[[[[[[[[[[[[[[[[[[[[' })],
    ['non-ASCII text beside brackets', JSON.stringify({ 'é😀': ['[é', '😀{'] })],
    ['malformed, but shallow (JSON.parse refuses it later)', ']]]]]]]]]]]]]]]]]]]]]]]]{'],
  ];
  for (const [what, text] of accepted) {
    test(what, () => assert.equal(fault(text), undefined));
  }
});

describe('over the bounds', () => {
  const refused: [string, string, RegExp][] = [
    [`${MAX_JSON_DEPTH + 1} levels of arrays`, nested(MAX_JSON_DEPTH + 1), DEPTH],
    [`${MAX_JSON_DEPTH + 1} levels of objects`, nestedObjects(MAX_JSON_DEPTH + 1), DEPTH],
    ['5,000 levels in 10 KB', nested(5000), DEPTH],
    ['deep nesting under a key', `{"src_node":{"x":${nested(MAX_JSON_DEPTH)}}}`, DEPTH],
    ['unclosed brackets, 1 MiB', '['.repeat(1024 * 1024), DEPTH],
    [
      'an escaped backslash ends the string: the brackets after it count',
      `["\\\\",${nested(MAX_JSON_DEPTH)}]`,
      DEPTH,
    ],
    [
      `${MAX_JSON_ITEMS + 1} items in one array`,
      `[${Array(MAX_JSON_ITEMS + 1)
        .fill(0)
        .join(',')}]`,
      ITEMS,
    ],
    ['a huge array of empty arrays', `[${Array(100_000).fill('[]').join(',')}]`, ITEMS],
    [
      'many keys',
      JSON.stringify(Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, i]))),
      ITEMS,
    ],
    [
      'items spread over nested containers',
      JSON.stringify(Array.from({ length: 100 }, () => Array(100).fill({ a: 1 }))),
      ITEMS,
    ],
  ];
  for (const [what, text, message] of refused) {
    test(what, () => assert.match(fault(text) ?? 'accepted', message));
  }
});
