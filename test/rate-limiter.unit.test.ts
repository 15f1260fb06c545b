// Token buckets with a clock moved by hand: the burst, the refill rate, the
// Retry-After it computes, separate keys, and the bound on how many it keeps.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimiter } from '../src/limits/rate-limiter.js';

test('a burst passes, the next request waits; the bucket refills at the rate', () => {
  let now = 0;
  const limiter = new RateLimiter(2, 4, () => now);
  for (let i = 0; i < 4; i++) assert.equal(limiter.take('k'), 0, `request ${i} of the burst`);
  assert.equal(limiter.take('k'), 1, 'empty: wait one second (rounded up)');
  now += 500; // half a second at 2/s: one token back
  assert.equal(limiter.take('k'), 0);
  assert.equal(limiter.take('k'), 1);
  now += 10_000; // refills, but never above the burst
  for (let i = 0; i < 4; i++) assert.equal(limiter.take('k'), 0);
  assert.notEqual(limiter.take('k'), 0);
});

test('Retry-After is the whole seconds until a token is back, at least 1', () => {
  let now = 0;
  const slow = new RateLimiter(0.2, 1, () => now); // one per 5 s
  assert.equal(slow.take('k'), 0);
  assert.equal(slow.take('k'), 5);
  now += 2000;
  assert.equal(slow.take('k'), 3);
});

test('keys have separate buckets', () => {
  const limiter = new RateLimiter(1, 1, () => 0);
  assert.equal(limiter.take('a'), 0);
  assert.notEqual(limiter.take('a'), 0);
  assert.equal(limiter.take('b'), 0);
});

test('a refused request takes nothing: waiting the Retry-After is enough', () => {
  let now = 0;
  const limiter = new RateLimiter(1, 1, () => now);
  assert.equal(limiter.take('k'), 0);
  for (let i = 0; i < 5; i++) assert.equal(limiter.take('k'), 1);
  now += 1000;
  assert.equal(limiter.take('k'), 0);
});

test('rate 0 is no limit', () => {
  const limiter = new RateLimiter(0, 1, () => 0);
  assert.equal(limiter.enabled, false);
  for (let i = 0; i < 1000; i++) assert.equal(limiter.take('k'), 0);
});

test('bounded: past maxKeys the least recently used bucket is forgotten', () => {
  const limiter = new RateLimiter(1, 1, () => 0, 2);
  limiter.take('a');
  limiter.take('b');
  limiter.take('a'); // refused, but a is now the most recently used
  limiter.take('c'); // forgets b
  assert.notEqual(limiter.take('a'), 0, 'a was kept, still empty');
  assert.equal(limiter.take('b'), 0, 'b was forgotten: a fresh bucket');
});
