// The audit trail's `action` column is varchar(16) with no constraint: every
// action the service writes must fit, and an edit is allowed only where the
// state table says the task can still change.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  TASK_ACTIONS,
  TASK_EDITS,
  TASK_STATUS_NAMES,
  TaskStatus,
  type AuditAction,
} from '../src/tasks/task-state.js';

const ACTIONS: AuditAction[] = [
  'create',
  ...(Object.keys(TASK_ACTIONS) as AuditAction[]),
  ...(Object.keys(TASK_EDITS) as AuditAction[]),
];

test('every audited action fits the column and none is both a move and an edit', () => {
  for (const action of ACTIONS) assert.ok(action.length <= 16, action);
  assert.equal(new Set(ACTIONS).size, ACTIONS.length);
});

test('a bandwidth update is allowed in every status but succeeded', () => {
  const all = Object.keys(TASK_STATUS_NAMES).map(Number) as TaskStatus[];
  assert.deepEqual(
    [...TASK_EDITS.update_bandwidth.in].sort(),
    all.filter((status) => status !== TaskStatus.Succeeded).sort(),
  );
});
