// The IAM circuit breaker over HTTP, against the Keystone double: after the
// threshold of consecutive failures IAM stops receiving every request (they
// fail fast with 503 and change nothing), one probe goes through per
// interval, cached tokens keep working, and IAM's recovery closes the circuit.
// The interval passes on the app's ManualClock, not in real time.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { TaskStatus } from '../src/tasks/task-state.js';
import { ManualClock } from './support/manual-clock.js';
import { parseMetrics, valueOf } from './support/metrics-text.js';
import { assertOmsError, assertStopped, assertUnchanged, stop } from './support/stop-checks.js';
import { emptyTables, insertTask, startTestApp, type TestApp } from './support/test-app.js';

const PROJECT = 'circuit-project';
const THRESHOLD = 3;
const PROBE_INTERVAL_MS = 1000;
const FAST_FAILS = 4;

async function metric(t: TestApp, name: string, labels: Record<string, string>) {
  return valueOf(parseMetrics((await request(t.server).get('/metrics')).text), name, labels);
}

for (const mode of ['error', 'reset', 'hang'] as const) {
  describe(`IAM keeps failing (${mode})`, () => {
    let t: TestApp;
    const clock = new ManualClock();
    before(async () => {
      t = await startTestApp({
        clock,
        env: {
          IAM_TIMEOUT_MS: '300',
          IAM_CIRCUIT_FAILURE_THRESHOLD: String(THRESHOLD),
          IAM_CIRCUIT_PROBE_INTERVAL_MS: String(PROBE_INTERVAL_MS),
        },
      });
      await emptyTables(t.db);
    });
    after(async () => t.close());

    test('opens after the threshold, probes once per interval, closes when IAM is back', async () => {
      // A token validated while IAM is well, and so cached.
      const cached = t.keystone.issue({ projectId: PROJECT, userId: 'cached-user' });
      const warm = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
      const paused = { projectId: PROJECT, userId: 'cached-user' };
      await assertStopped(t.db, await stop(t, PROJECT, warm, cached), warm, paused);
      await emptyTables(t.db);

      t.keystone.mode = mode;
      const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
      const fresh = () => t.keystone.issue({ projectId: PROJECT, userId: 'fresh-user' });
      for (let i = 0; i < THRESHOLD; i++) {
        assertOmsError(await stop(t, PROJECT, id, fresh()), 503, 'OMS.2004', /IAM/);
      }
      // Resets: the first failing validation may have gone out on the
      // connection kept from the warm-up's answer, and is then sent once more.
      const atOpen = t.keystone.validationCount();
      const retried = atOpen - (1 + THRESHOLD);
      assert.ok(retried === 0 || (mode === 'reset' && retried === 1), `IAM asked ${atOpen} times`);
      for (let i = 0; i < FAST_FAILS; i++) {
        assertOmsError(await stop(t, PROJECT, id, fresh()), 503, 'OMS.2004', /IAM/);
      }
      assert.equal(t.keystone.validationCount(), atOpen, 'IAM asked after the circuit opened');
      await assertUnchanged(t.db, id, TaskStatus.Migrating);
      assert.equal(
        await metric(t, 'oms_iam_circuit_state', { circuit: 'token', state: 'open' }),
        1,
      );
      assert.equal(
        await metric(t, 'oms_iam_validations_total', { outcome: 'circuit_open' }),
        FAST_FAILS,
      );
      const ready = await request(t.server).get('/health/ready');
      assert.equal(ready.body.checks.iam.circuit, 'open');

      // The cached token still works: the cache is consulted before the breaker.
      await assertStopped(t.db, await stop(t, PROJECT, id, cached), id, paused);
      await emptyTables(t.db);

      // After the interval exactly one probe reaches IAM; it fails, the circuit stays open.
      const again = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
      await clock.advance(PROBE_INTERVAL_MS - 1);
      assertOmsError(await stop(t, PROJECT, again, fresh()), 503, 'OMS.2004');
      assert.equal(t.keystone.validationCount(), atOpen, 'a probe before the interval');
      await clock.advance(1);
      assertOmsError(await stop(t, PROJECT, again, fresh()), 503, 'OMS.2004');
      assertOmsError(await stop(t, PROJECT, again, fresh()), 503, 'OMS.2004');
      assert.equal(t.keystone.validationCount(), atOpen + 1, 'one probe per interval');
      await clock.advance(PROBE_INTERVAL_MS);
      assertOmsError(await stop(t, PROJECT, again, fresh()), 503, 'OMS.2004');
      assert.equal(t.keystone.validationCount(), atOpen + 2, 'probes continue');
      assert.equal(
        await metric(t, 'oms_iam_validations_total', { outcome: 'unavailable' }),
        THRESHOLD + 2,
      );
      await assertUnchanged(t.db, again, TaskStatus.Migrating);

      // IAM recovers: the next probe succeeds and closes the circuit.
      t.keystone.mode = 'ok';
      await clock.advance(PROBE_INTERVAL_MS);
      const user = { projectId: PROJECT, userId: 'fresh-user' };
      await assertStopped(t.db, await stop(t, PROJECT, again, fresh()), again, user);
      assert.equal(
        await metric(t, 'oms_iam_circuit_state', { circuit: 'token', state: 'closed' }),
        1,
      );
      const counted = t.keystone.validationCount();
      for (let i = 0; i < 3; i++) {
        const next = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
        assert.equal((await stop(t, PROJECT, next, fresh())).status, 200);
      }
      assert.equal(
        t.keystone.validationCount(),
        counted + 3,
        'closed: every new token reaches IAM',
      );
    });
  });
}

test('IAM_CIRCUIT_FAILURE_THRESHOLD=0: every request is sent to IAM', async () => {
  const t = await startTestApp({ env: { IAM_CIRCUIT_FAILURE_THRESHOLD: '0' } });
  try {
    t.keystone.mode = 'error';
    for (let i = 0; i < 8; i++) {
      assertOmsError(await stop(t, PROJECT, '1', t.keystone.issue()), 503, 'OMS.2004');
    }
    assert.equal(t.keystone.validationCount(), 8);
  } finally {
    await t.close();
  }
});
