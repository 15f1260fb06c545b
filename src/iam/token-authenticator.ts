// Turns an X-Auth-Token into an Identity: checks its shape, then the cache,
// then IAM (concurrent requests with the same unvalidated token share one
// IAM call).

import { createHash } from 'node:crypto';
import { InvalidParameter, Unauthenticated } from '../common/oms-errors.js';
import type { Identity, TokenValidator } from './identity.js';
import { SingleFlight } from './single-flight.js';
import { TokenCache } from './token-cache.js';

export const MAX_TOKEN_LENGTH = 16_384;

// Tokens are printable ASCII (Keystone Fernet, Huawei CMS/PKI base64).
const TOKEN_SHAPE = /^[\x21-\x7e]+$/;

export class TokenAuthenticator {
  private readonly cache: TokenCache;
  private readonly inflight = new SingleFlight<Identity>();

  constructor(
    private readonly validator: TokenValidator,
    options: { ttlSeconds: number; maxEntries: number },
    private readonly now: () => number = Date.now,
  ) {
    this.cache = new TokenCache(options.ttlSeconds * 1000, options.maxEntries);
  }

  async authenticate(token: string | undefined): Promise<Identity> {
    if (token === undefined || token === '') {
      throw new Unauthenticated('the X-Auth-Token header is missing.');
    }
    if (token.length > MAX_TOKEN_LENGTH) {
      throw new InvalidParameter(`X-Auth-Token is longer than ${MAX_TOKEN_LENGTH} characters.`);
    }
    if (!TOKEN_SHAPE.test(token)) {
      throw new Unauthenticated('the token is malformed.');
    }
    const key = createHash('sha256').update(token).digest('base64');
    const cached = this.cache.get(key, this.now());
    if (cached) return cached;

    return this.inflight.run(key, () => this.validateAndCache(key, token));
  }

  private async validateAndCache(key: string, token: string): Promise<Identity> {
    const identity = await this.validator.validate(token);
    const now = this.now();
    if (identity.expiresAt <= now) throw new Unauthenticated('the token has expired.');
    this.cache.set(key, identity, now);
    return identity;
  }
}
