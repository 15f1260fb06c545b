// Remembers, for a short while, the access keys IAM said it does not know,
// so that requests naming the same unknown key again (a misconfigured client
// in a loop, or someone guessing) cost IAM one credential read per TTL rather
// than one each. Only what IAM really answered is kept: a lookup that failed
// (503) is not. Bounded in entries (the oldest goes) and in the size of each:
// a key is kept as given only once its length is known to be bounded.
//
// The price is that an access key created in IAM right after it was asked
// for is refused until its entry ages out (at most the TTL).

import type { AccessKeyRecord, AccessKeyStore } from './access-key.js';
import { TokenCache } from './token-cache.js';

/**
 * Longer keys are not remembered (nor, in practice, ever looked up: the
 * signature check refuses them first). Huawei's and Keystone's are 20-40.
 */
export const MAX_REMEMBERED_KEY_LENGTH = 128;

/** A cache entry that expires only by the cache's TTL. */
const UNKNOWN = { expiresAt: Number.POSITIVE_INFINITY };

export class UnknownAccessKeys implements AccessKeyStore {
  private readonly unknown: TokenCache<typeof UNKNOWN>;

  constructor(
    private readonly inner: AccessKeyStore,
    options: { ttlSeconds: number; maxEntries: number },
    private readonly now: () => number = Date.now,
  ) {
    this.unknown = new TokenCache(options.ttlSeconds * 1000, options.maxEntries);
  }

  async lookup(accessKey: string): Promise<AccessKeyRecord | undefined> {
    const remember = accessKey.length <= MAX_REMEMBERED_KEY_LENGTH;
    if (remember && this.unknown.get(accessKey, this.now())) return undefined;
    const record = await this.inner.lookup(accessKey);
    if (record === undefined && remember) this.unknown.set(accessKey, UNKNOWN, this.now());
    return record;
  }
}
