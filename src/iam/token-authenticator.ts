// Turns an X-Auth-Token into an Caller: checks its shape and length, then
// the cache, then IAM (concurrent requests with the same unvalidated token
// share one IAM call). A token longer than IAM's front end accepts
// (IAM_MAX_TOKEN_LENGTH) is refused here: sent, it would be dropped or
// refused there, and no valid token is that long.

import { hash } from 'node:crypto';
import { DependencyUnavailable, InvalidParameter, Unauthenticated } from '../common/oms-errors.js';
import { IamCircuitOpen, IamQueueFull } from './circuit-breaker.js';
import type { IamObserver, ValidationOutcome } from './iam-observer.js';
import type { Caller, TokenValidator } from './caller.js';
import { SingleFlight } from './single-flight.js';
import { TokenCache } from './token-cache.js';

export const MAX_TOKEN_LENGTH = 16_384;

// Tokens are printable ASCII (Keystone Fernet, Huawei CMS/PKI base64).
const TOKEN_SHAPE = /^[\x21-\x7e]+$/;

/** What a token is known by wherever it is kept or counted: never the token itself. */
export function tokenKey(token: string): string {
  // One-shot: no Hash object per request (a third of createHash's cost).
  return hash('sha256', token, 'base64');
}

function outcomeOf(error: unknown): ValidationOutcome {
  if (error instanceof IamCircuitOpen) return 'circuit_open';
  if (error instanceof IamQueueFull) return 'queue_full';
  return error instanceof DependencyUnavailable ? 'unavailable' : 'invalid';
}

export class TokenAuthenticator {
  private readonly cache: TokenCache;
  private readonly inflight = new SingleFlight<Caller>();
  private readonly observer: IamObserver | undefined;
  private readonly maxIamTokenLength: number;

  constructor(
    private readonly validator: TokenValidator,
    options: {
      ttlSeconds: number;
      maxEntries: number;
      observer?: IamObserver;
      /** What IAM's front end accepts; default MAX_TOKEN_LENGTH. */
      maxIamTokenLength?: number;
    },
    private readonly now: () => number = Date.now,
  ) {
    this.observer = options.observer;
    this.maxIamTokenLength = options.maxIamTokenLength ?? MAX_TOKEN_LENGTH;
    this.cache = new TokenCache(options.ttlSeconds * 1000, options.maxEntries);
  }

  /**
   * `key`: tokenKey(token), if the caller has made it already. `beforeIam`
   * runs when the token is not cached, before IAM is asked; it may refuse by
   * throwing (the guard's limit on unproven credentials).
   */
  async authenticate(
    token: string | undefined,
    key?: string,
    beforeIam?: () => void,
  ): Promise<Caller> {
    key ??= token ? tokenKey(token) : '';
    return this.cached(token, key) ?? this.fromIam(token!, key, beforeIam);
  }

  /**
   * The caller a cached token stands for, without waiting for anything (the
   * guard answers most requests so, with no promise made); undefined if the
   * token is not cached and IAM must be asked (fromIam). Throws for a token
   * that is missing or too long. `key` is tokenKey(token).
   */
  cached(token: string | undefined, key: string): Caller | undefined {
    if (token === undefined || token === '') {
      throw new Unauthenticated('the X-Auth-Token header is missing.');
    }
    if (token.length > MAX_TOKEN_LENGTH) {
      throw new InvalidParameter(`X-Auth-Token is longer than ${MAX_TOKEN_LENGTH} characters.`);
    }
    // The shape is checked only for a token not cached: one that is was
    // checked before it was (and a malformed token has no entry).
    const cached = this.cache.get(key, this.now());
    if (cached) this.observer?.tokenCacheLookup(true);
    return cached;
  }

  /** For a token that cached() did not know: checks its shape, then asks IAM. */
  async fromIam(token: string, key: string, beforeIam?: () => void): Promise<Caller> {
    if (!TOKEN_SHAPE.test(token)) {
      throw new Unauthenticated('the token is malformed.');
    }
    if (token.length > this.maxIamTokenLength) {
      throw new Unauthenticated('the token is longer than IAM accepts.');
    }
    this.observer?.tokenCacheLookup(false);
    beforeIam?.();
    return this.inflight.run(key, () => this.validateAndCache(key, token));
  }

  private async validateAndCache(key: string, token: string): Promise<Caller> {
    let caller: Caller;
    try {
      caller = await this.validator.validate(token);
    } catch (error) {
      this.observer?.iamValidation(outcomeOf(error));
      throw error;
    }
    const now = this.now();
    if (caller.expiresAt <= now) {
      this.observer?.iamValidation('invalid');
      throw new Unauthenticated('the token has expired.');
    }
    this.observer?.iamValidation('valid');
    this.cache.set(key, caller, now);
    return caller;
  }
}
