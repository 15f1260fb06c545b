// smn_config on task create (the official SDKs' SmnConfig) and smn_info in
// the task object (SmnInfo): what create stores in tasks.options (the shape
// the events relay reads), what show and list answer before and after the
// relay records its result, and every bad smn_config refused with 400
// OMS.0064 naming the field, nothing created.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { TaskStatus } from '../src/tasks/task-state.js';
import { assertRefusedUnchanged } from './support/stop-checks.js';
import { createBody, TaskApi } from './support/task-api.js';
import { emptyTables, startTestApp, type TestApp } from './support/test-app.js';

const PROJECT = 'project-smn';
const TOPIC_URN = 'urn:smn:cn-north-4:0a1b2c3d4e5f60718293a4b5c6d7e8f9:oms-migrations';

let t: TestApp;
let api: TaskApi;

before(async () => {
  t = await startTestApp();
  api = new TaskApi(t, PROJECT, t.keystone.issue({ projectId: PROJECT }));
});
after(async () => t.close());
beforeEach(async () => emptyTables(t.db));

async function create(smnConfig: unknown): Promise<string> {
  const res = await api.create(createBody({ smn_config: smnConfig }));
  assert.equal(res.status, 200, res.text);
  return String(res.body.id);
}

async function storedOptions(id: string): Promise<Record<string, unknown>> {
  const { rows } = await t.db.query(
    'SELECT options FROM tasks JOIN task_details ON task_id = id WHERE id = $1',
    [id],
  );
  return rows[0].options;
}

/** What the events relay writes once it has published the task's notification. */
async function recordSmnResult(id: string, result: unknown): Promise<void> {
  await t.db.query(
    `UPDATE task_details SET options = options || jsonb_build_object('smn_result', $2::jsonb)
     WHERE task_id = $1`,
    [id, JSON.stringify(result)],
  );
}

describe('smn_config on create', () => {
  test('is stored as {topic_urn, trigger_conditions, language}, fields the model lacks dropped', async () => {
    const id = await create({
      topic_urn: TOPIC_URN,
      trigger_conditions: ['FAILURE', 'SUCCESS'],
      language: 'zh-cn',
      message_template_name: 'not-ours',
    });
    const options = await storedOptions(id);
    assert.deepEqual(options.smn_config, {
      topic_urn: TOPIC_URN,
      trigger_conditions: ['FAILURE', 'SUCCESS'],
      language: 'zh-cn',
    });
    assert.equal(options.smn_result, undefined);
  });

  test('language defaults to en-us', async () => {
    const id = await create({ topic_urn: TOPIC_URN, trigger_conditions: ['SUCCESS'] });
    assert.deepEqual((await storedOptions(id)).smn_config, {
      topic_urn: TOPIC_URN,
      trigger_conditions: ['SUCCESS'],
      language: 'en-us',
    });
  });

  test('a task created without it has none, and no smn_info', async () => {
    const id = await create(undefined);
    assert.equal((await storedOptions(id)).smn_config, undefined);
    const shown = await api.show(id);
    assert.equal(shown.status, 200);
    assert.equal('smn_info' in shown.body, false);
  });

  test('a start keeps it', async () => {
    const id = await create({ topic_urn: TOPIC_URN, trigger_conditions: ['FAILURE'] });
    await t.db.query('UPDATE tasks SET status = $2 WHERE id = $1', [id, TaskStatus.Paused]);
    const started = await api.start(id);
    assert.equal(started.status, 200, started.text);
    assert.deepEqual((await storedOptions(id)).smn_config, {
      topic_urn: TOPIC_URN,
      trigger_conditions: ['FAILURE'],
      language: 'en-us',
    });
  });
});

describe('smn_info in the task object', () => {
  test('not notified until the relay records a result; then its result and error', async () => {
    const id = await create({ topic_urn: TOPIC_URN, trigger_conditions: ['SUCCESS', 'FAILURE'] });
    const waiting = {
      notify_result: false,
      notify_error_message: null,
      topic_name: 'oms-migrations',
    };
    assert.deepEqual((await api.show(id)).body.smn_info, waiting);
    assert.deepEqual((await api.list()).body.tasks[0].smn_info, waiting, 'list answers it too');

    await recordSmnResult(id, { notified: false, error: 'SMN.0013: topic not found' });
    assert.deepEqual((await api.show(id)).body.smn_info, {
      notify_result: false,
      notify_error_message: 'SMN.0013: topic not found',
      topic_name: 'oms-migrations',
    });

    await recordSmnResult(id, { notified: true, error: null });
    assert.deepEqual((await api.show(id)).body.smn_info, {
      notify_result: true,
      notify_error_message: null,
      topic_name: 'oms-migrations',
    });
  });
});

describe('a bad smn_config: 400 OMS.0064 naming the field, nothing created', () => {
  const valid = { topic_urn: TOPIC_URN, trigger_conditions: ['SUCCESS'] };
  const bad: [what: string, smnConfig: unknown, field: RegExp][] = [
    ['a string', TOPIC_URN, /smn_config/],
    ['an array', [valid], /smn_config/],
    ['a number', 1, /smn_config/],
    ['no topic_urn', { trigger_conditions: ['SUCCESS'] }, /smn_config topic_urn/],
    ['topic_urn a number', { ...valid, topic_urn: 5 }, /smn_config topic_urn/],
    ['topic_urn empty', { ...valid, topic_urn: '' }, /smn_config topic_urn/],
    ['topic_urn not a URN', { ...valid, topic_urn: 'oms-migrations' }, /smn_config topic_urn/],
    [
      'topic_urn of another service',
      { ...valid, topic_urn: 'urn:obs:cn-north-4:0a1b2c3d:oms-migrations' },
      /smn_config topic_urn/,
    ],
    [
      'topic_urn without a topic name',
      { ...valid, topic_urn: 'urn:smn:cn-north-4:0a1b2c3d:' },
      /smn_config topic_urn/,
    ],
    [
      'a topic name starting with a hyphen',
      { ...valid, topic_urn: 'urn:smn:cn-north-4:0a1b2c3d:-oms' },
      /smn_config topic_urn/,
    ],
    [
      'a topic name of 256 characters',
      { ...valid, topic_urn: `urn:smn:cn-north-4:0a1b2c3d:${'t'.repeat(256)}` },
      /smn_config topic_urn/,
    ],
    ['no trigger_conditions', { topic_urn: TOPIC_URN }, /smn_config trigger_conditions/],
    [
      'trigger_conditions a string',
      { ...valid, trigger_conditions: 'SUCCESS' },
      /smn_config trigger_conditions/,
    ],
    [
      'trigger_conditions empty',
      { ...valid, trigger_conditions: [] },
      /smn_config trigger_conditions/,
    ],
    [
      'a condition repeated',
      { ...valid, trigger_conditions: ['SUCCESS', 'SUCCESS'] },
      /smn_config trigger_conditions/,
    ],
    [
      'three conditions',
      { ...valid, trigger_conditions: ['SUCCESS', 'FAILURE', 'SUCCESS'] },
      /smn_config trigger_conditions/,
    ],
    [
      'an unknown condition',
      { ...valid, trigger_conditions: ['DONE'] },
      /smn_config trigger_conditions/,
    ],
    [
      'a condition in lower case',
      { ...valid, trigger_conditions: ['success'] },
      /smn_config trigger_conditions/,
    ],
    [
      'a condition a number',
      { ...valid, trigger_conditions: [1] },
      /smn_config trigger_conditions/,
    ],
    ['an unknown language', { ...valid, language: 'fr-fr' }, /smn_config language/],
    ['a language in upper case', { ...valid, language: 'EN-US' }, /smn_config language/],
    ['a language a number', { ...valid, language: 1 }, /smn_config language/],
  ];
  for (const [what, smnConfig, field] of bad) {
    test(what, async () => {
      await assertRefusedUnchanged(
        t.db,
        () => api.create(createBody({ smn_config: smnConfig })),
        400,
        'OMS.0064',
        field,
      );
    });
  }
});
