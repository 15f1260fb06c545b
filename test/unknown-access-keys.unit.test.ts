// The negative cache for unknown access keys on its own, the clock moved by
// hand: one IAM lookup per unknown key per TTL, and only for what IAM really
// answered; bounded in entries and in the length of what it keeps.

import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { DependencyUnavailable } from '../src/common/oms-errors.js';
import type { AccessKeyRecord, AccessKeyStore } from '../src/iam/access-key.js';
import { MAX_REMEMBERED_KEY_LENGTH, UnknownAccessKeys } from '../src/iam/unknown-access-keys.js';

const KNOWN: AccessKeyRecord = {
  secretKey: 's',
  caller: { userId: 'u', userName: 'u', projectId: 'p', roles: [], expiresAt: 1 },
  expiresAt: 1,
};

class CountingStore implements AccessKeyStore {
  readonly asked: string[] = [];
  known = new Set<string>(['AK-KNOWN']);
  failing = false;
  async lookup(accessKey: string): Promise<AccessKeyRecord | undefined> {
    this.asked.push(accessKey);
    if (this.failing) throw new DependencyUnavailable('IAM');
    return this.known.has(accessKey) ? KNOWN : undefined;
  }
}

describe('UnknownAccessKeys', () => {
  const TTL_SECONDS = 30;
  let inner: CountingStore;
  let now: number;
  let store: UnknownAccessKeys;

  beforeEach(() => {
    inner = new CountingStore();
    now = 1_000_000;
    store = new UnknownAccessKeys(inner, { ttlSeconds: TTL_SECONDS, maxEntries: 3 }, () => now);
  });

  test('an unknown key: asked once within the TTL, again once it is up', async () => {
    for (let i = 0; i < 5; i++) {
      assert.equal(await store.lookup('AK-UNKNOWN'), undefined);
      now += 1000;
    }
    assert.deepEqual(inner.asked, ['AK-UNKNOWN']);
    now += TTL_SECONDS * 1000;
    assert.equal(await store.lookup('AK-UNKNOWN'), undefined);
    assert.equal(inner.asked.length, 2);
  });

  test('the entry lasts exactly the TTL', async () => {
    await store.lookup('AK-UNKNOWN');
    now += TTL_SECONDS * 1000 - 1;
    await store.lookup('AK-UNKNOWN');
    assert.equal(inner.asked.length, 1);
    now += 1;
    await store.lookup('AK-UNKNOWN');
    assert.equal(inner.asked.length, 2);
  });

  test('a known key is never remembered as unknown, nor answered from here', async () => {
    for (let i = 0; i < 3; i++) assert.equal(await store.lookup('AK-KNOWN'), KNOWN);
    assert.equal(inner.asked.length, 3, "known keys are the positive cache's business");
  });

  test('a failed lookup is not an answer: nothing is remembered', async () => {
    inner.failing = true;
    await assert.rejects(store.lookup('AK-NEW'), DependencyUnavailable);
    inner.failing = false;
    inner.known.add('AK-NEW');
    assert.equal(await store.lookup('AK-NEW'), KNOWN);
  });

  test('bounded: past maxEntries the oldest unknown key is forgotten', async () => {
    for (const key of ['A1', 'A2', 'A3', 'A4']) await store.lookup(key);
    await store.lookup('A4');
    await store.lookup('A2');
    assert.equal(inner.asked.length, 4, 'the young entries are kept');
    await store.lookup('A1');
    assert.equal(inner.asked.length, 5, 'the oldest went');
  });

  test('keys longer than the bound are passed on and never kept', async () => {
    const long = 'K'.repeat(MAX_REMEMBERED_KEY_LENGTH + 1);
    await store.lookup(long);
    await store.lookup(long);
    assert.equal(inner.asked.length, 2);
    const atBound = 'K'.repeat(MAX_REMEMBERED_KEY_LENGTH);
    await store.lookup(atBound);
    await store.lookup(atBound);
    assert.equal(inner.asked.length, 3);
  });

  test('a TTL of 0 remembers nothing', async () => {
    const off = new UnknownAccessKeys(inner, { ttlSeconds: 0, maxEntries: 3 }, () => now);
    await off.lookup('AK-UNKNOWN');
    await off.lookup('AK-UNKNOWN');
    assert.equal(inner.asked.length, 2);
  });
});
