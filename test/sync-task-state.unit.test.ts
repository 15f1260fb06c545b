// The sync-task state machine checked against the contract's words
// (oms-groups-sync.md, "Sync tasks"): every (action, status) pair's outcome
// is written out by hand, and the table goes through the same moveAllowed()
// as the tasks' table.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OmsError, type OmsErrorCode } from '../src/common/oms-errors.js';
import { DELETED, moveAllowed } from '../src/tasks/task-state.js';
import {
  checkSyncTransition,
  isSyncTaskStatus,
  SYNC_INITIAL_STATUS,
  SYNC_NEXT_STATUSES,
  SYNC_TASK_ACTIONS,
  SYNC_TASK_STATUSES,
  SyncTaskTransitionRejected,
  type SyncTaskActionName,
  type SyncTaskStatus,
} from '../src/sync-tasks/sync-task-state.js';

type Outcome = { to: SyncTaskStatus | typeof DELETED } | { code: OmsErrorCode };

const EXPECTED: Record<SyncTaskActionName, Record<SyncTaskStatus, Outcome>> = {
  stop: { SYNCHRONIZING: { to: 'STOPPED' }, STOPPED: { code: 'OMS.0066' } },
  start: { SYNCHRONIZING: { code: 'OMS.0065' }, STOPPED: { to: 'SYNCHRONIZING' } },
  delete: { SYNCHRONIZING: { code: 'OMS.0063' }, STOPPED: { to: DELETED } },
};

test('every action from every status: the contract outcome', () => {
  for (const action of Object.keys(SYNC_TASK_ACTIONS) as SyncTaskActionName[]) {
    for (const status of SYNC_TASK_STATUSES) {
      const expected = EXPECTED[action][status];
      if ('to' in expected) {
        assert.equal(checkSyncTransition(action, status), expected.to, `${action} from ${status}`);
      } else {
        assert.throws(
          () => checkSyncTransition(action, status),
          (error: unknown) =>
            error instanceof SyncTaskTransitionRejected &&
            error instanceof OmsError &&
            error.code === expected.code &&
            error.message.includes(status),
          `${action} from ${status}`,
        );
      }
    }
  }
});

test('the table and the shared check agree: each action leaves exactly its from statuses', () => {
  for (const [name, spec] of Object.entries(SYNC_TASK_ACTIONS)) {
    for (const status of SYNC_TASK_STATUSES) {
      assert.equal(
        moveAllowed(spec, SYNC_NEXT_STATUSES, status),
        (spec.from as readonly string[]).includes(status),
        `${name} from ${status}`,
      );
    }
  }
});

test('a sync task starts synchronizing; statuses are the two strings OMS shows', () => {
  assert.equal(SYNC_INITIAL_STATUS, 'SYNCHRONIZING');
  assert.ok(isSyncTaskStatus('STOPPED'));
  assert.ok(!isSyncTaskStatus('stopped'));
  assert.ok(!isSyncTaskStatus(3));
});
