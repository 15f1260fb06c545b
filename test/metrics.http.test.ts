// GET /metrics: the counts match what the test did (each suite has an app of
// its own, so every number is exact), series are labelled by route pattern
// and never by URL, and METRICS_TOKEN guards the endpoint when set.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { TaskStatus } from '../src/tasks/task-state.js';
import { parseMetrics, series, valueOf, type Sample } from './support/metrics-text.js';
import { TaskApi } from './support/task-api.js';
import { TaskGroupApi } from './support/task-group-api.js';
import { assertOmsError, assertStopped, stop } from './support/stop-checks.js';
import {
  allAuditRows,
  emptyTables,
  insertTask,
  startTestApp,
  type TestApp,
} from './support/test-app.js';

const PROJECT = 'metrics-project-0000000000000001';
const STOP_ROUTE = '/v2/:project_id/tasks/:task_id/stop';

async function scrape(t: TestApp, token?: string): Promise<Sample[]> {
  const req = request(t.server).get('/metrics');
  const res = await (token ? req.set('Authorization', `Bearer ${token}`) : req);
  assert.equal(res.status, 200, res.text);
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  return parseMetrics(res.text);
}

describe('metrics after a known sequence of requests', () => {
  let t: TestApp;
  let samples: Sample[];
  let text: string;
  let paused: string;

  before(async () => {
    t = await startTestApp();
    await emptyTables(t.db);
    const token = t.keystone.issue({ projectId: PROJECT, userId: 'u-metrics' });
    paused = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    // 1: 200 (cache miss, IAM says valid); 2: 400 OMS.0066 (cache hit);
    // 3: 401 (a token IAM does not know: miss, invalid); 4: 404 unmatched.
    await assertStopped(t.db, await stop(t, PROJECT, paused, token), paused, {
      projectId: PROJECT,
      userId: 'u-metrics',
    });
    assertOmsError(await stop(t, PROJECT, paused, token), 400, 'OMS.0066');
    assertOmsError(await stop(t, PROJECT, paused, 'unknown-token'), 401, 'APIGW.0301');
    assertOmsError(await request(t.server).get(`/v2/${PROJECT}/nothing-here`), 404, 'APIGW.0101');
    const res = await request(t.server).get('/metrics');
    text = res.text;
    samples = parseMetrics(text);
  });
  after(async () => t.close());

  test('requests by method, route pattern and status', () => {
    const stops = (status: string) =>
      valueOf(samples, 'oms_http_requests_total', { method: 'POST', route: STOP_ROUTE, status });
    assert.equal(stops('200'), 1);
    assert.equal(stops('400'), 1);
    assert.equal(stops('401'), 1);
    assert.equal(
      valueOf(samples, 'oms_http_requests_total', { route: 'unmatched', status: '404' }),
      1,
    );
  });

  test('no URL, project id or task id in any label', () => {
    assert.ok(!text.includes(PROJECT), 'a project id became a label value');
    assert.doesNotMatch(text, /route="\/v2\/metrics-project/);
    const routes = new Set(series(samples, 'oms_http_requests_total').map((s) => s.labels.route));
    assert.deepEqual([...routes].sort(), [STOP_ROUTE, 'unmatched']);
  });

  test('a latency histogram per route: buckets, count and sum', () => {
    const labels = { method: 'POST', route: STOP_ROUTE };
    assert.equal(valueOf(samples, 'oms_http_request_duration_seconds_count', labels), 3);
    const sum = valueOf(samples, 'oms_http_request_duration_seconds_sum', labels)!;
    assert.ok(sum > 0 && sum < 30, `sum ${sum}`);
    const buckets = series(samples, 'oms_http_request_duration_seconds_bucket', labels);
    assert.ok(buckets.length >= 10);
    assert.equal(buckets.find((b) => b.labels.le === '+Inf')?.value, 3);
  });

  test('IAM validations by outcome and token cache hits and misses', () => {
    assert.equal(valueOf(samples, 'oms_iam_validations_total', { outcome: 'valid' }), 1);
    assert.equal(valueOf(samples, 'oms_iam_validations_total', { outcome: 'invalid' }), 1);
    assert.equal(valueOf(samples, 'oms_token_cache_lookups_total', { result: 'hit' }), 1);
    assert.equal(valueOf(samples, 'oms_token_cache_lookups_total', { result: 'miss' }), 2);
    assert.equal(t.keystone.validationCount(), 2, 'the metrics count what IAM saw');
  });

  test('state transitions by from and to, as many as audit rows', async () => {
    const rows = await allAuditRows(t.db);
    assert.equal(rows.length, 1);
    assert.equal(
      valueOf(samples, 'oms_task_transitions_total', { from: 'migrating', to: 'paused' }),
      1,
    );
    assert.equal(series(samples, 'oms_task_transitions_total').length, 1);
  });

  test('database pool use and the circuit state', () => {
    const total = valueOf(samples, 'oms_db_pool_connections')!;
    const idle = valueOf(samples, 'oms_db_pool_idle_connections')!;
    assert.ok(total >= 1 && total <= 10, `total ${total}`);
    assert.ok(idle >= 0 && idle <= total, `idle ${idle} of ${total}`);
    assert.equal(valueOf(samples, 'oms_db_pool_waiting_clients'), 0);
    for (const circuit of ['token', 'access_key']) {
      assert.equal(valueOf(samples, 'oms_iam_circuit_state', { circuit, state: 'closed' }), 1);
      assert.equal(valueOf(samples, 'oms_iam_circuit_state', { circuit, state: 'open' }), 0);
    }
  });

  test('process metrics are there too', () => {
    assert.ok(series(samples, 'process_cpu_user_seconds_total').length === 1);
    assert.ok(series(samples, 'nodejs_heap_size_used_bytes').length === 1);
  });

  test('each app counts its own requests', async () => {
    const other = await startTestApp();
    try {
      const fresh = await scrape(other);
      assert.equal(series(fresh, 'oms_http_requests_total', { route: STOP_ROUTE }).length, 0);
      assert.equal(valueOf(fresh, 'oms_task_transitions_total'), undefined);
      const again = await scrape(t);
      assert.equal(
        valueOf(again, 'oms_http_requests_total', {
          method: 'POST',
          route: STOP_ROUTE,
          status: '200',
        }),
        1,
      );
    } finally {
      await other.close();
    }
  });
});

describe('METRICS_TOKEN', () => {
  const METRICS_TOKEN = 'scrape-secret-0123456789';
  let t: TestApp;
  before(async () => (t = await startTestApp({ env: { METRICS_TOKEN } })));
  after(async () => t.close());

  test('without the bearer token: 401 APIGW.0301, nothing revealed', async () => {
    const res = await request(t.server).get('/metrics');
    assertOmsError(res, 401, 'APIGW.0301');
    assert.doesNotMatch(res.text, /oms_|scrape-secret/);
  });

  test('with a wrong one, or the right one in the wrong place: 401', async () => {
    for (const header of [
      ['Authorization', 'Bearer scrape-secret-0123456788'],
      ['Authorization', `Basic ${METRICS_TOKEN}`],
      ['Authorization', `Bearer ${METRICS_TOKEN}x`],
      ['X-Auth-Token', METRICS_TOKEN],
    ]) {
      assertOmsError(
        await request(t.server).get('/metrics').set(header[0], header[1]),
        401,
        'APIGW.0301',
      );
    }
    assert.equal(t.keystone.validationCount(), 0, 'the metrics token is not an IAM token');
  });

  test('with it: 200, the metrics', async () => {
    const samples = await scrape(t, METRICS_TOKEN);
    assert.ok(series(samples, 'oms_http_requests_total').length > 0);
  });
});

describe('every kind of move is counted, whoever makes it', () => {
  test('create, admit (by the scheduler), stop, start and delete, as the audit trail has them', async () => {
    const t = await startTestApp({ env: { SCHEDULER_SWEEP_INTERVAL_MS: '3600000' } });
    try {
      await emptyTables(t.db);
      const api = new TaskApi(t, PROJECT, t.keystone.issue({ projectId: PROJECT }));
      const id = (await api.create()).body.id;
      await api.waitForStatus(id, [2]);
      assert.equal((await api.stop(id)).status, 200);
      assert.equal((await api.start(id)).status, 200);
      await api.waitForStatus(id, [2]);
      assert.equal((await api.stop(id)).status, 200);
      assert.equal((await api.delete(id)).status, 200);

      const samples = await scrape(t);
      const counted = new Map(
        series(samples, 'oms_task_transitions_total').map((s) => [
          `${s.labels.from}>${s.labels.to}`,
          s.value,
        ]),
      );
      const audited = new Map<string, number>();
      const names: Record<string, string> = { 1: 'waiting', 2: 'migrating', 3: 'paused' };
      for (const row of await allAuditRows(t.db)) {
        const key = `${row.from_status === null ? 'none' : names[row.from_status]}>${row.to_status === null ? 'deleted' : names[row.to_status]}`;
        audited.set(key, (audited.get(key) ?? 0) + 1);
      }
      assert.deepEqual(
        counted,
        new Map([
          ['none>waiting', 1],
          ['waiting>migrating', 2],
          ['migrating>paused', 2],
          ['paused>waiting', 1],
          ['paused>deleted', 1],
        ]),
      );
      assert.deepEqual(counted, audited);
    } finally {
      await t.close();
    }
  });

  test("a group's moves count each of its tasks, as their audit rows do", async () => {
    const t = await startTestApp({ env: { SCHEDULER_SWEEP_INTERVAL_MS: '3600000' } });
    try {
      await emptyTables(t.db);
      const token = t.keystone.issue({ projectId: PROJECT });
      const groups = new TaskGroupApi(t, PROJECT, token);
      const api = new TaskApi(t, PROJECT, token);
      const groupId = (await groups.create()).body.group_id;
      const ids = async () => (await t.db.query('SELECT id FROM tasks')).rows.map((r) => r.id);
      for (const id of await ids()) await api.waitForStatus(id, [2]);
      assert.equal((await groups.stop(groupId)).status, 200);
      assert.equal((await groups.start(groupId)).status, 200);
      for (const id of await ids()) await api.waitForStatus(id, [2]);
      assert.equal((await groups.stop(groupId)).status, 200);
      assert.equal((await groups.delete(groupId)).status, 200);

      const samples = await scrape(t);
      const counted = new Map(
        series(samples, 'oms_task_transitions_total').map((s) => [
          `${s.labels.from}>${s.labels.to}`,
          s.value,
        ]),
      );
      const names: Record<string, string> = { 1: 'waiting', 2: 'migrating', 3: 'paused' };
      const audited = new Map<string, number>();
      for (const row of await allAuditRows(t.db)) {
        const key = `${row.from_status === null ? 'none' : names[row.from_status]}>${row.to_status === null ? 'deleted' : names[row.to_status]}`;
        audited.set(key, (audited.get(key) ?? 0) + 1);
      }
      assert.equal(counted.get('migrating>paused'), 6, 'two group stops of three tasks');
      assert.deepEqual(counted, audited);
    } finally {
      await t.close();
    }
  });
});
