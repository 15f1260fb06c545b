// POST /v2/{project_id}/tasks/batch-update over HTTP: by ids and by group,
// every changed task with its audit row; all or nothing (one task missing,
// another project's or in a status the edit refuses, and no task changes);
// every 4xx with the rows checked unchanged. The lost COMMIT answer:
// faults-database.test.ts. The official SDK's call: sdk-client.http.test.ts.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import request from 'supertest';
import { TaskStatus } from '../src/tasks/task-state.js';
import { MAX_BATCH_TASK_IDS } from '../src/tasks/task.bodies.js';
import { assertOmsError } from './support/stop-checks.js';
import {
  allAuditRows,
  emptyTables,
  insertTask,
  startTestApp,
  type TestApp,
} from './support/test-app.js';

const PROJECT = 'project-batch';
const OTHER = 'project-batch-other';
const USER = 'user-batch';
const POLICY = [{ start: '22:00', end: '06:00', max_bandwidth: 209_715_200 }];

let t: TestApp;
let token: string;

before(async () => {
  t = await startTestApp();
  token = t.keystone.issue({ projectId: PROJECT, userId: USER });
});
after(async () => t.close());
beforeEach(async () => emptyTables(t.db));

function batch(body: unknown, as = token, project = PROJECT) {
  return request(t.server)
    .post(`/v2/${project}/tasks/batch-update`)
    .set('X-Auth-Token', as)
    .set('Content-Type', 'application/json')
    .send(typeof body === 'string' ? body : (body as object));
}

async function task(status: TaskStatus, groupId: string | null = null, project = PROJECT) {
  const id = await insertTask(t.db, project, status);
  if (groupId) await t.db.query('UPDATE tasks SET group_id = $2 WHERE id = $1', [id, groupId]);
  return id;
}

/** Every task's changeable columns, and the audit trail: what "unchanged" compares. */
async function snapshot() {
  const { rows } = await t.db.query(
    'SELECT id, status, bandwidth_policy, task_priority, updated_at FROM tasks JOIN task_details ON task_id = id ORDER BY id',
  );
  return { tasks: rows, audit: await allAuditRows(t.db) };
}

describe('batch update', () => {
  test('by ids: every task gets the policy and the priority, each with one audit row', async () => {
    const ids = [
      await task(TaskStatus.Waiting),
      await task(TaskStatus.Paused),
      await task(TaskStatus.Failed),
    ];
    const untouched = await task(TaskStatus.Waiting);
    const res = await batch({
      ids: ids.map(Number),
      bandwidth_policy: POLICY,
      task_priority: 'HIGH',
    }).set('X-Request-Id', 'batch-by-ids');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.text, '');
    const { rows } = await t.db.query(
      'SELECT id, status, bandwidth_policy, task_priority FROM tasks JOIN task_details ON task_id = id ORDER BY id',
    );
    assert.deepEqual(rows, [
      { id: ids[0], status: TaskStatus.Waiting, bandwidth_policy: POLICY, task_priority: 3 },
      { id: ids[1], status: TaskStatus.Paused, bandwidth_policy: POLICY, task_priority: 3 },
      { id: ids[2], status: TaskStatus.Failed, bandwidth_policy: POLICY, task_priority: 3 },
      { id: untouched, status: TaskStatus.Waiting, bandwidth_policy: [], task_priority: 2 },
    ]);
    const audit = (await allAuditRows(t.db)).map((row) => [
      row.task_id,
      row.action,
      row.from_status,
      row.to_status,
      row.user_id,
      row.request_id,
    ]);
    assert.deepEqual(
      audit.sort(),
      [
        [ids[0], 'batch_priority', 1, 1, USER, 'batch-by-ids'],
        [ids[1], 'batch_priority', 3, 3, USER, 'batch-by-ids'],
        [ids[2], 'batch_priority', 4, 4, USER, 'batch-by-ids'],
      ].sort(),
    );
  });

  test('by group: every task of the group, running ones too when no priority is set', async () => {
    const group = [
      await task(TaskStatus.Migrating, 'group-a'),
      await task(TaskStatus.Waiting, 'group-a'),
    ];
    const elsewhere = await task(TaskStatus.Waiting, 'group-b');
    const otherProjects = await task(TaskStatus.Waiting, 'group-a', OTHER);
    const res = await batch({ group_id: 'group-a', bandwidth_policy: POLICY });
    assert.equal(res.status, 200, res.text);
    const { rows } = await t.db.query(
      'SELECT id, bandwidth_policy FROM tasks JOIN task_details ON task_id = id ORDER BY id',
    );
    assert.deepEqual(rows, [
      { id: group[0], bandwidth_policy: POLICY },
      { id: group[1], bandwidth_policy: POLICY },
      { id: elsewhere, bandwidth_policy: [] },
      { id: otherProjects, bandwidth_policy: [] },
    ]);
    const audit = await allAuditRows(t.db);
    assert.deepEqual(
      audit.map((row) => [row.task_id, row.action, row.from_status, row.to_status]).sort(),
      [
        [group[0], 'batch_update', 2, 2],
        [group[1], 'batch_update', 1, 1],
      ].sort(),
    );
  });

  test('an id named twice is one change and one audit row', async () => {
    const id = await task(TaskStatus.Paused);
    const res = await batch({ ids: [Number(id), Number(id)], bandwidth_policy: [] });
    assert.equal(res.status, 200, res.text);
    assert.equal((await allAuditRows(t.db)).length, 1);
  });
});

describe('all or nothing', () => {
  const cases: [string, () => Promise<unknown>, number, string][] = [
    [
      'one id missing',
      async () => ({
        ids: [Number(await task(TaskStatus.Paused)), 999_999_999],
        bandwidth_policy: POLICY,
      }),
      400,
      'OMS.1009',
    ],
    [
      "one id another project's",
      async () => ({
        ids: [
          Number(await task(TaskStatus.Paused)),
          Number(await task(TaskStatus.Paused, null, OTHER)),
        ],
        bandwidth_policy: POLICY,
      }),
      400,
      'OMS.1009',
    ],
    [
      'one task succeeded',
      async () => ({
        ids: [Number(await task(TaskStatus.Paused)), Number(await task(TaskStatus.Succeeded))],
        bandwidth_policy: POLICY,
      }),
      400,
      'OMS.0070',
    ],
    [
      'a priority for a migrating task',
      async () => ({
        ids: [Number(await task(TaskStatus.Waiting)), Number(await task(TaskStatus.Migrating))],
        bandwidth_policy: POLICY,
        task_priority: 'LOW',
      }),
      400,
      'OMS.0063',
    ],
    [
      'a group with one task succeeded',
      async () => {
        await task(TaskStatus.Paused, 'group-c');
        await task(TaskStatus.Succeeded, 'group-c');
        return { group_id: 'group-c', bandwidth_policy: POLICY };
      },
      400,
      'OMS.0070',
    ],
    [
      'a group with no task',
      async () => {
        await task(TaskStatus.Paused, 'group-d');
        return { group_id: 'no-such-group', bandwidth_policy: POLICY };
      },
      400,
      'OMS.1009',
    ],
  ];
  for (const [name, body, status, code] of cases) {
    test(`${name}: ${status} ${code}, no task changed, no audit row`, async () => {
      const sent = await body();
      const before = await snapshot();
      assertOmsError(await batch(sent), status, code);
      assert.deepEqual(await snapshot(), before);
    });
  }
});

describe('refusals', () => {
  const ok = { bandwidth_policy: POLICY };
  const invalid: [string, unknown][] = [
    ['neither ids nor group_id', ok],
    ['both ids and group_id', { ...ok, ids: [1], group_id: 'g' }],
    ['no bandwidth_policy', { ids: [1] }],
    ['a null bandwidth_policy', { ids: [1], bandwidth_policy: null }],
    ['empty ids', { ...ok, ids: [] }],
    [
      `${MAX_BATCH_TASK_IDS + 1} ids`,
      { ...ok, ids: Array.from({ length: MAX_BATCH_TASK_IDS + 1 }, (_, i) => i + 1) },
    ],
    ['an id of 0', { ...ok, ids: [0] }],
    ['a negative id', { ...ok, ids: [-1] }],
    ['a fractional id', { ...ok, ids: [1.5] }],
    ['an id as a string', { ...ok, ids: ['1'] }],
    ['an id of 16 digits', { ...ok, ids: [1_000_000_000_000_000] }],
    ['ids not an array', { ...ok, ids: 1 }],
    ['an empty group_id', { ...ok, group_id: '' }],
    ['a group_id of 1,025 characters', { ...ok, group_id: 'g'.repeat(1025) }],
    ['a group_id not a string', { ...ok, group_id: 7 }],
    ['six bandwidth periods', { ids: [1], bandwidth_policy: Array(6).fill(POLICY[0]) }],
    [
      'overlapping periods',
      {
        ids: [1],
        bandwidth_policy: [
          { start: '00:00', end: '06:00', max_bandwidth: 1_048_576 },
          { start: '05:00', end: '07:00', max_bandwidth: 1_048_576 },
        ],
      },
    ],
    ['an unknown task_priority', { ...ok, ids: [1], task_priority: 'URGENT' }],
  ];
  for (const [name, body] of invalid) {
    test(`${name}: 400 OMS.0064, nothing changed`, async () => {
      await task(TaskStatus.Paused);
      const before = await snapshot();
      assertOmsError(await batch(body), 400, 'OMS.0064');
      assert.deepEqual(await snapshot(), before);
    });
  }

  test('an empty or over-long project segment: 400 OMS.0064, nothing changed', async () => {
    const id = Number(await task(TaskStatus.Paused));
    const before = await snapshot();
    for (const project of ['', 'p'.repeat(1025)]) {
      assertOmsError(
        await batch({ ids: [id], bandwidth_policy: POLICY }, token, project),
        400,
        'OMS.0064',
      );
    }
    assert.deepEqual(await snapshot(), before);
  });

  test('a body that is not JSON: 400 OMS.0067', async () => {
    assertOmsError(await batch('{"ids": [1'), 400, 'OMS.0067');
  });

  test('a reader: 403 OMS.0206; another project: 403; no credential: 401; nothing changed', async () => {
    const id = Number(await task(TaskStatus.Paused));
    const before = await snapshot();
    const body = { ids: [id], bandwidth_policy: POLICY };
    const reader = t.keystone.issue({ projectId: PROJECT, roles: ['reader'] });
    assertOmsError(await batch(body, reader), 403, 'OMS.0206');
    const stranger = t.keystone.issue({ projectId: OTHER });
    assertOmsError(await batch(body, stranger), 403, 'OMS.0206');
    assertOmsError(await batch(body, 'not-a-token-keystone-knows'), 401, 'APIGW.0301');
    assert.deepEqual(await snapshot(), before);
  });
});
