// The test harness's clock and polling helper, which the other tests trust:
// ManualClock moves only when told and runs its timers as they fall due;
// waitUntil returns what it waited for and fails, in time, saying what.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from './support/manual-clock.js';
import { waitUntil } from './support/wait-until.js';

test('ManualClock: time moves only by advance(), and starts at the real time', async () => {
  const before = Date.now();
  const clock = new ManualClock();
  assert.ok(clock.now() >= before && clock.now() <= Date.now());
  const start = clock.now();
  await clock.advance(1500);
  assert.equal(clock.now(), start + 1500);
  assert.equal(new ManualClock(42).now(), 42);
});

test('ManualClock: a timer runs each time it falls due, at that time, until cancelled', async () => {
  const clock = new ManualClock(0);
  const runs: number[] = [];
  const cancel = clock.every(100, () => runs.push(clock.now()));
  await clock.advance(99);
  assert.deepEqual(runs, []);
  await clock.advance(1);
  assert.deepEqual(runs, [100]);
  await clock.advance(250);
  assert.deepEqual(runs, [100, 200, 300]);
  cancel();
  await clock.advance(1000);
  assert.deepEqual(runs, [100, 200, 300]);
});

test('ManualClock: advance() resolves once what the timers started has settled', async () => {
  const clock = new ManualClock(0);
  let done = false;
  clock.every(10, async () => {
    await new Promise((resolve) => setImmediate(resolve));
    done = true;
  });
  await clock.advance(10);
  assert.equal(done, true);
});

test('waitUntil: returns the first value that is neither undefined nor false', async () => {
  let n = 0;
  assert.equal(await waitUntil('n to reach 3', () => ++n >= 3 && n, { everyMs: 0 }), 3);
  assert.equal(await waitUntil('zero', () => 0), 0);
});

test('waitUntil: fails after the bound, naming what never happened; a throwing check ends it', async () => {
  await assert.rejects(
    waitUntil(
      () => 'the impossible',
      () => false,
      { timeoutMs: 50 },
    ),
    {
      message: /waited 50 ms: the impossible/,
    },
  );
  await assert.rejects(
    waitUntil('anything', () => {
      throw new Error('gave up early');
    }),
    { message: 'gave up early' },
  );
});
