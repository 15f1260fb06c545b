// Validated tokens, keyed by a SHA-256 of the token (never the token), each
// kept until min(token expiry, validation time + TTL); access-key secrets
// live by the same rules. Bounded: when full,
// the oldest entry goes. A revoked token therefore keeps working until its
// entry ages out, as with OpenStack's keystonemiddleware; the TTL bounds it.

import type { Caller } from './caller.js';

/** Anything that stops being valid at a known time. */
interface Expiring {
  /** ms since the epoch. */
  readonly expiresAt: number;
}

interface Entry<V> {
  readonly value: V;
  readonly validUntil: number;
}

export class TokenCache<V extends Expiring = Caller> {
  private readonly entries = new Map<string, Entry<V>>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string, now: number): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.validUntil <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V, now: number): void {
    const validUntil = Math.min(value.expiresAt, now + this.ttlMs);
    // Deleted even when nothing replaces it: the newer answer wins over an
    // older entry. Re-inserting also moves the key to the young end.
    this.entries.delete(key);
    if (validUntil <= now) return;
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, validUntil });
  }
}
