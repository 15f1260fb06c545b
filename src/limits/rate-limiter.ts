// Token buckets, one per key, in this process's memory. Each bucket holds up
// to `burst` tokens and refills at `ratePerSecond`; a request takes one. With
// N replicas behind a load balancer the effective limit is N times the
// configured one: the buckets are not shared (sharing them would put a
// database round trip in front of every request).

/** Beyond this many keys the least recently used bucket is dropped. */
const MAX_KEYS = 100_000;

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = MAX_KEYS,
  ) {}

  get enabled(): boolean {
    return this.ratePerSecond > 0;
  }

  /** Takes a token for `key`: 0 if there was one, else whole seconds until there will be. */
  take(key: string): number {
    if (!this.enabled) return 0;
    const now = this.now();
    const bucket = this.buckets.get(key);
    let tokens = this.burst;
    if (bucket) {
      tokens = Math.min(
        this.burst,
        bucket.tokens + ((now - bucket.at) * this.ratePerSecond) / 1000,
      );
      // Re-inserted below, which moves the key to the young end of the map.
      this.buckets.delete(key);
    } else if (this.buckets.size >= this.maxKeys) {
      // The oldest bucket has been idle longest and is likely full again;
      // forgetting it at worst gives that key a fresh burst.
      const oldest = this.buckets.keys().next();
      if (!oldest.done) this.buckets.delete(oldest.value);
    }
    const allowed = tokens >= 1;
    this.buckets.set(key, { tokens: allowed ? tokens - 1 : tokens, at: now });
    return allowed ? 0 : Math.max(1, Math.ceil((1 - tokens) / this.ratePerSecond));
  }
}
