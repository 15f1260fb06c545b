// The state machine checked against the contract's own words, not against
// itself: the expected outcome of every (action, status) pair is written out
// here by hand, so a change to the table in task-state.ts has to be argued
// for in this file too.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OmsError, type OmsErrorCode } from '../src/common/oms-errors.js';
import {
  checkTransition,
  isTaskStatus,
  NEXT_STATUSES,
  TASK_ACTIONS,
  DELETED,
  TASK_STATUS_NAMES,
  TaskStatus,
  TaskTransitionRejected,
  type TaskActionName,
} from '../src/tasks/task-state.js';

const ALL_STATUSES = [1, 2, 3, 4, 5, 6, 7] as TaskStatus[];

const CONTRACT_NAMES: Record<number, string> = {
  1: 'waiting',
  2: 'migrating',
  3: 'paused',
  4: 'failed',
  5: 'succeeded',
  6: 'retrying',
  7: 'pausing',
};

type Outcome = { to: TaskStatus | typeof DELETED } | { code: OmsErrorCode };

// admit is the scheduler's move (1 → 2); its rejection never reaches a
// client, but it must still be a typed rejection rather than a silent move.
const EXPECTED: Record<TaskActionName, Record<number, Outcome>> = {
  stop: {
    1: { code: 'OMS.0066' },
    2: { to: TaskStatus.Paused },
    3: { code: 'OMS.0066' },
    4: { code: 'OMS.0066' },
    5: { code: 'OMS.0066' },
    6: { code: 'OMS.0066' },
    7: { code: 'OMS.0066' },
  },
  start: {
    1: { code: 'OMS.0065' },
    2: { code: 'OMS.0065' },
    3: { to: TaskStatus.Waiting },
    4: { to: TaskStatus.Waiting },
    5: { code: 'OMS.0070' },
    6: { code: 'OMS.0065' },
    7: { code: 'OMS.0065' },
  },
  admit: {
    1: { to: TaskStatus.Migrating },
    2: { code: 'OMS.0065' },
    3: { code: 'OMS.0065' },
    4: { code: 'OMS.0065' },
    5: { code: 'OMS.0065' },
    6: { code: 'OMS.0065' },
    7: { code: 'OMS.0065' },
  },
  // delete: "any state except 2, 6 and 7".
  delete: {
    1: { to: DELETED },
    2: { code: 'OMS.0063' },
    3: { to: DELETED },
    4: { to: DELETED },
    5: { to: DELETED },
    6: { code: 'OMS.0063' },
    7: { code: 'OMS.0063' },
  },
  // The tasks' side of a group stop: waiting or migrating → paused.
  group_stop: {
    1: { to: TaskStatus.Paused },
    2: { to: TaskStatus.Paused },
    3: { code: 'OMS.0066' },
    4: { code: 'OMS.0066' },
    5: { code: 'OMS.0066' },
    6: { code: 'OMS.0066' },
    7: { code: 'OMS.0066' },
  },
  // The tasks' side of a group start or retry.
  group_start: {
    1: { code: 'OMS.0065' },
    2: { code: 'OMS.0065' },
    3: { to: TaskStatus.Waiting },
    4: { to: TaskStatus.Waiting },
    5: { code: 'OMS.0065' },
    6: { code: 'OMS.0065' },
    7: { code: 'OMS.0065' },
  },
  // The data plane's moves (a worker holding the lease; docs/worker-protocol.md).
  // A pausing task can only be confirmed paused.
  confirm_pause: {
    1: { code: 'OMS.0066' },
    2: { code: 'OMS.0066' },
    3: { code: 'OMS.0066' },
    4: { code: 'OMS.0066' },
    5: { code: 'OMS.0066' },
    6: { code: 'OMS.0066' },
    7: { to: TaskStatus.Paused },
  },
  succeed: {
    1: { code: 'OMS.0066' },
    2: { to: TaskStatus.Succeeded },
    3: { code: 'OMS.0066' },
    4: { code: 'OMS.0066' },
    5: { code: 'OMS.0066' },
    6: { code: 'OMS.0066' },
    7: { code: 'OMS.0066' },
  },
  fail: {
    1: { code: 'OMS.0066' },
    2: { to: TaskStatus.Failed },
    3: { code: 'OMS.0066' },
    4: { code: 'OMS.0066' },
    5: { code: 'OMS.0066' },
    6: { to: TaskStatus.Failed },
    7: { code: 'OMS.0066' },
  },
  retry_objects: {
    1: { code: 'OMS.0066' },
    2: { to: TaskStatus.Retrying },
    3: { code: 'OMS.0066' },
    4: { code: 'OMS.0066' },
    5: { code: 'OMS.0066' },
    6: { code: 'OMS.0066' },
    7: { code: 'OMS.0066' },
  },
  resume: {
    1: { code: 'OMS.0065' },
    2: { code: 'OMS.0065' },
    3: { code: 'OMS.0065' },
    4: { code: 'OMS.0065' },
    5: { code: 'OMS.0065' },
    6: { to: TaskStatus.Migrating },
    7: { code: 'OMS.0065' },
  },
  // The lease sweep: a pausing task whose worker is gone.
  lease_expire: {
    1: { code: 'OMS.0066' },
    2: { code: 'OMS.0066' },
    3: { code: 'OMS.0066' },
    4: { code: 'OMS.0066' },
    5: { code: 'OMS.0066' },
    6: { code: 'OMS.0066' },
    7: { to: TaskStatus.Paused },
  },
};

describe('task statuses', () => {
  test('the enum holds exactly the seven statuses of the contract', () => {
    const numeric = Object.values(TaskStatus).filter((v) => typeof v === 'number');
    assert.deepEqual(numeric, ALL_STATUSES);
  });

  test('every status has the name the contract gives it', () => {
    assert.deepEqual(
      Object.keys(TASK_STATUS_NAMES).map(Number),
      ALL_STATUSES,
      'one name per status, no more',
    );
    for (const status of ALL_STATUSES) {
      assert.equal(TASK_STATUS_NAMES[status], CONTRACT_NAMES[status], `name of ${status}`);
    }
  });

  test('every status has an entry in NEXT_STATUSES, and every move leads to a status or deletion', () => {
    assert.deepEqual(Object.keys(NEXT_STATUSES).map(Number), ALL_STATUSES);
    for (const status of ALL_STATUSES) {
      const next = NEXT_STATUSES[status];
      assert.ok(Array.isArray(next), `NEXT_STATUSES[${status}] is a list`);
      for (const target of next) {
        assert.ok(
          target === DELETED || isTaskStatus(target),
          `${status} → ${target} leads to a real status`,
        );
        assert.notEqual(target, status, `${status} does not move to itself`);
      }
    }
  });

  test('the moves the contract names are all in NEXT_STATUSES', () => {
    const required: [TaskStatus, TaskStatus | typeof DELETED][] = [
      [TaskStatus.Waiting, TaskStatus.Migrating], // the scheduler admits
      [TaskStatus.Migrating, TaskStatus.Paused], // stop
      [TaskStatus.Migrating, TaskStatus.Pausing], // stop while draining
      [TaskStatus.Pausing, TaskStatus.Paused],
      [TaskStatus.Migrating, TaskStatus.Succeeded],
      [TaskStatus.Migrating, TaskStatus.Failed],
      [TaskStatus.Paused, TaskStatus.Waiting], // start
      [TaskStatus.Failed, TaskStatus.Waiting], // start
    ];
    for (const deletable of [1, 3, 4, 5] as TaskStatus[]) required.push([deletable, DELETED]);
    for (const [from, to] of required) {
      assert.ok(NEXT_STATUSES[from].includes(to), `${from} → ${to} is allowed`);
    }
  });

  test('succeeded is terminal: nothing but deletion leaves it', () => {
    assert.deepEqual(NEXT_STATUSES[TaskStatus.Succeeded], [DELETED]);
    for (const [name, action] of Object.entries(TASK_ACTIONS)) {
      if (action.to === DELETED) continue;
      assert.ok(
        !(action.from as readonly TaskStatus[]).includes(TaskStatus.Succeeded),
        `${name} does not start from succeeded`,
      );
      assert.throws(() => checkTransition(name as TaskActionName, TaskStatus.Succeeded));
    }
  });

  test('isTaskStatus accepts 1..7 and nothing else', () => {
    for (const status of ALL_STATUSES) assert.equal(isTaskStatus(status), true, String(status));
    for (const value of [0, 8, -1, 1.5, NaN, '1', null, undefined, {}]) {
      assert.equal(isTaskStatus(value), false, String(value));
    }
  });
});

describe('task actions', () => {
  test('the actions under test are exactly the ones the service knows', () => {
    assert.deepEqual(Object.keys(TASK_ACTIONS).sort(), Object.keys(EXPECTED).sort());
  });

  test('every action leaves from at least one status, to a real status or deletion', () => {
    for (const [name, action] of Object.entries(TASK_ACTIONS)) {
      assert.ok(action.from.length > 0, `${name} has a from`);
      assert.ok(action.to === DELETED || isTaskStatus(action.to), `${name} leads to a status`);
    }
  });

  test("every action's from → to is a move NEXT_STATUSES allows", () => {
    for (const [name, action] of Object.entries(TASK_ACTIONS)) {
      for (const from of action.from) {
        assert.ok(
          NEXT_STATUSES[from].includes(action.to),
          `${name}: ${from} → ${action.to} is in NEXT_STATUSES`,
        );
      }
    }
  });

  test('delete never takes a running task (2, 6, 7)', () => {
    for (const running of [2, 6, 7] as TaskStatus[]) {
      assert.ok(!(TASK_ACTIONS.delete.from as readonly TaskStatus[]).includes(running));
    }
  });

  test('stop is 2 → 3 and nothing else', () => {
    assert.deepEqual([...TASK_ACTIONS.stop.from], [TaskStatus.Migrating]);
    assert.equal(TASK_ACTIONS.stop.to, TaskStatus.Paused);
  });
});

describe('checkTransition, for every action and every status', () => {
  for (const action of Object.keys(EXPECTED) as TaskActionName[]) {
    for (const status of ALL_STATUSES) {
      const outcome = EXPECTED[action][status];
      if (outcome === undefined) throw new Error(`no expectation for ${action} from ${status}`);
      if ('to' in outcome) {
        test(`${action} from ${status} (${CONTRACT_NAMES[status]}) → ${outcome.to}`, () => {
          assert.equal(checkTransition(action, status), outcome.to);
        });
      } else {
        test(`${action} from ${status} (${CONTRACT_NAMES[status]}) is rejected with ${outcome.code}`, () => {
          assert.throws(
            () => checkTransition(action, status),
            (error: unknown) => {
              assert.ok(error instanceof TaskTransitionRejected, 'a TaskTransitionRejected');
              assert.ok(error instanceof OmsError, 'a domain error');
              assert.equal(error.name, 'TaskTransitionRejected');
              assert.equal(error.code, outcome.code);
              assert.equal(error.action, action);
              assert.equal(error.from, status);
              // The message names the current status by number and name.
              assert.match(
                error.message,
                new RegExp(`\\b${status} \\(${CONTRACT_NAMES[status]}\\)`),
              );
              return true;
            },
          );
        });
      }
    }
  }
});

describe('moves while a worker holds the task', () => {
  test('stop and group stop drain a leased task (2 → 7); no other action has a leased form', () => {
    const leased = Object.entries(TASK_ACTIONS)
      .filter(([, spec]) => 'whileLeased' in spec)
      .map(([name, spec]) => [name, (spec as { whileLeased: TaskStatus }).whileLeased]);
    assert.deepEqual(leased, [
      ['stop', TaskStatus.Pausing],
      ['group_stop', TaskStatus.Pausing],
    ]);
  });

  test('every whileLeased status is a move the contract knows from the statuses a worker holds', () => {
    for (const [name, spec] of Object.entries(TASK_ACTIONS)) {
      if (!('whileLeased' in spec)) continue;
      assert.ok(
        NEXT_STATUSES[TaskStatus.Migrating].includes(spec.whileLeased),
        `${name}: 2 → ${spec.whileLeased}`,
      );
    }
  });

  test("the data plane's moves are made only under a lease, and those that end it say so", () => {
    const byWorker = Object.entries(TASK_ACTIONS)
      .filter(([, spec]) => 'byLeaseHolder' in spec)
      .map(([name, spec]) => [name, 'endsLease' in spec]);
    assert.deepEqual(byWorker, [
      ['confirm_pause', true],
      ['succeed', true],
      ['fail', true],
      ['retry_objects', false],
      ['resume', false],
    ]);
  });
});
