// The cache decides how long a revoked token keeps working, so its expiry
// arithmetic is checked to the millisecond, with times passed in by hand.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Caller } from '../src/iam/caller.js';
import { TokenCache } from '../src/iam/token-cache.js';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

function identity(expiresAt: number, userId = 'user-1'): Caller {
  return { userId, userName: userId, projectId: 'project-1', roles: ['member'], expiresAt };
}

test('an entry is served until validation + TTL, and not a millisecond longer', () => {
  const cache = new TokenCache(60_000, 10);
  const who = identity(T0 + HOUR);
  cache.set('k', who, T0);
  assert.equal(cache.get('k', T0), who);
  assert.equal(cache.get('k', T0 + 59_999), who);
  assert.equal(cache.get('k', T0 + 60_000), undefined);
});

test('an entry is served until the token expires when that comes before the TTL', () => {
  const cache = new TokenCache(60_000, 10);
  const who = identity(T0 + 10_000);
  cache.set('k', who, T0);
  assert.equal(cache.get('k', T0 + 9_999), who);
  assert.equal(cache.get('k', T0 + 10_000), undefined);
});

test('an expired entry is dropped, not just hidden', () => {
  const cache = new TokenCache(60_000, 10);
  cache.set('k', identity(T0 + HOUR), T0);
  assert.equal(cache.size, 1);
  cache.get('k', T0 + 60_000);
  assert.equal(cache.size, 0);
  // A clock that steps back must not bring it back.
  assert.equal(cache.get('k', T0), undefined);
});

test('TTL 0 caches nothing', () => {
  const cache = new TokenCache(0, 10);
  cache.set('k', identity(T0 + HOUR), T0);
  assert.equal(cache.size, 0);
  assert.equal(cache.get('k', T0), undefined);
});

test('an identity that has already expired is not cached', () => {
  const cache = new TokenCache(60_000, 10);
  cache.set('at-expiry', identity(T0), T0);
  cache.set('after-expiry', identity(T0 - 1), T0);
  assert.equal(cache.size, 0);
});

test('a newer validation that finds the token expired replaces the cached entry', () => {
  const cache = new TokenCache(60_000, 10);
  cache.set('k', identity(T0 + HOUR), T0);
  // IAM now says the token ends right now (revoked, or the clock caught up).
  cache.set('k', identity(T0 + 1_000), T0 + 1_000);
  assert.equal(cache.get('k', T0 + 1_000), undefined);
  assert.equal(cache.size, 0);
});

test('a missing key is a miss', () => {
  const cache = new TokenCache(60_000, 10);
  cache.set('k', identity(T0 + HOUR), T0);
  assert.equal(cache.get('other', T0), undefined);
});

test('the cache is bounded: when full, the oldest entry goes', () => {
  const cache = new TokenCache(60_000, 3);
  for (const key of ['a', 'b', 'c', 'd', 'e']) cache.set(key, identity(T0 + HOUR, key), T0);
  assert.equal(cache.size, 3);
  assert.equal(cache.get('a', T0), undefined);
  assert.equal(cache.get('b', T0), undefined);
  assert.equal(cache.get('c', T0)?.userId, 'c');
  assert.equal(cache.get('d', T0)?.userId, 'd');
  assert.equal(cache.get('e', T0)?.userId, 'e');
});

test('storing a key again refreshes it instead of evicting another entry', () => {
  const cache = new TokenCache(60_000, 2);
  cache.set('a', identity(T0 + HOUR, 'a1'), T0);
  cache.set('b', identity(T0 + HOUR, 'b'), T0);
  cache.set('a', identity(T0 + HOUR, 'a2'), T0 + 1);
  assert.equal(cache.size, 2);
  assert.equal(cache.get('b', T0 + 1)?.userId, 'b');
  assert.equal(cache.get('a', T0 + 1)?.userId, 'a2');
  // 'a' is now the younger entry, so 'b' is the one to go next.
  cache.set('c', identity(T0 + HOUR, 'c'), T0 + 2);
  assert.equal(cache.get('b', T0 + 2), undefined);
  assert.equal(cache.get('a', T0 + 2)?.userId, 'a2');
  assert.equal(cache.get('c', T0 + 2)?.userId, 'c');
});

test('storing a key again makes it the youngest, even when the cache is not full', () => {
  const cache = new TokenCache(60_000, 3);
  cache.set('a', identity(T0 + HOUR, 'a1'), T0);
  cache.set('b', identity(T0 + HOUR, 'b'), T0);
  cache.set('a', identity(T0 + HOUR, 'a2'), T0 + 1);
  cache.set('c', identity(T0 + HOUR, 'c'), T0 + 2);
  cache.set('d', identity(T0 + HOUR, 'd'), T0 + 3);
  assert.equal(cache.get('b', T0 + 3), undefined, 'b was the oldest');
  assert.equal(cache.get('a', T0 + 3)?.userId, 'a2');
  assert.equal(cache.get('c', T0 + 3)?.userId, 'c');
  assert.equal(cache.get('d', T0 + 3)?.userId, 'd');
});

test('storing a key again restarts its TTL from the new validation', () => {
  const cache = new TokenCache(60_000, 10);
  cache.set('k', identity(T0 + HOUR), T0);
  cache.set('k', identity(T0 + HOUR), T0 + 30_000);
  assert.ok(cache.get('k', T0 + 89_999));
  assert.equal(cache.get('k', T0 + 90_000), undefined);
});
