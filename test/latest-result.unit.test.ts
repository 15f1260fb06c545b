// LatestResult: the readiness check's sharing, on a clock the test moves.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LatestResult } from '../src/health/latest-result.js';

function counter() {
  let calls = 0;
  let release: (value: number) => void = () => undefined;
  return {
    get calls() {
      return calls;
    },
    compute: () => {
      calls++;
      return new Promise<number>((resolve) => (release = resolve));
    },
    finish: (value: number) => release(value),
  };
}

test('callers while a computation is out share it', async () => {
  const latest = new LatestResult<number>(1000, () => 0);
  const c = counter();
  const answers = [latest.get(c.compute), latest.get(c.compute), latest.get(c.compute)];
  c.finish(7);
  assert.deepEqual(await Promise.all(answers), [7, 7, 7]);
  assert.equal(c.calls, 1);
});

test('a result is answered again until it is maxAgeMs old, counted from when it was known', async () => {
  let now = 0;
  const latest = new LatestResult<number>(1000, () => now);
  const c = counter();
  const first = latest.get(c.compute);
  now = 500; // the computation took 500 ms
  c.finish(1);
  assert.equal(await first, 1);
  now = 1499;
  assert.equal(await latest.get(c.compute), 1);
  assert.equal(c.calls, 1);
  now = 1500;
  const second = latest.get(c.compute);
  c.finish(2);
  assert.equal(await second, 2);
  assert.equal(c.calls, 2);
});

test('maxAgeMs 0 keeps no result, but still shares the computation in flight', async () => {
  const latest = new LatestResult<number>(0, () => 0);
  const c = counter();
  const a = latest.get(c.compute);
  const b = latest.get(c.compute);
  c.finish(3);
  assert.deepEqual([await a, await b], [3, 3]);
  const next = latest.get(c.compute);
  c.finish(4);
  assert.equal(await next, 4);
  assert.equal(c.calls, 2);
});

test('a failed computation is not kept', async () => {
  const latest = new LatestResult<number>(1000, () => 0);
  await assert.rejects(
    latest.get(() => Promise.reject(new Error('down'))),
    /down/,
  );
  assert.equal(await latest.get(() => Promise.resolve(5)), 5);
});
