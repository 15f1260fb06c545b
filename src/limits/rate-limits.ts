// The request-rate limits the guard applies: per credential, per project, and
// per client address for credentials not proven yet. Over any: 429
// APIGW.0308 with Retry-After, and nothing is done.
//
// - Per credential: a token's bucket is taken before IAM is asked (a token
//   is a secret, so only its holder can drain it, and a hot loop with one
//   token costs IAM nothing); an access key's only once its signature is
//   verified, since access keys are sent in clear and anyone could drain a
//   victim's bucket by naming it.
// - Per project: once the credential says which project the caller acts
//   for, so nobody can use up another project's allowance.
// - Per client address (request.ip): every signed request before its
//   signature is checked, and every token that is not cached and must go to
//   IAM. An attacker can only aim it at the addresses it sends from.
//
// Every bucket key is bounded in size: a token's hash, a verified access
// key (at most 128 characters), a project id the credential named, an IP.

import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '../common/clock.js';
import { Throttled } from '../common/oms-errors.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { RateLimiter } from './rate-limiter.js';

@Injectable()
export class RateLimits {
  private readonly perCredential: RateLimiter;
  private readonly perProject: RateLimiter;
  private readonly perUnprovenAddress: RateLimiter;

  constructor(@Inject(APP_CONFIG) config: AppConfig, @Inject(CLOCK) clock: Clock) {
    const now = () => clock.now();
    this.perCredential = new RateLimiter(
      config.rateLimitPerCredentialPerSecond,
      config.rateLimitCredentialBurst,
      now,
    );
    this.perProject = new RateLimiter(
      config.rateLimitPerProjectPerSecond,
      config.rateLimitProjectBurst,
      now,
    );
    this.perUnprovenAddress = new RateLimiter(
      config.rateLimitUnprovenPerSecond,
      config.rateLimitUnprovenBurst,
      now,
    );
  }

  /** `key`: the token's tokenKey (never the token), or `access-key:` and a verified key. */
  checkCredential(key: string | undefined): void {
    if (!key || !this.perCredential.enabled) return;
    const wait = this.perCredential.take(key);
    if (wait > 0) throw new Throttled('credential', wait);
  }

  /** A request whose credential is not proven yet, from this client address. */
  checkUnproven(address: string): void {
    if (!this.perUnprovenAddress.enabled) return;
    const wait = this.perUnprovenAddress.take(address);
    if (wait > 0) throw new Throttled('client address', wait);
  }

  checkProject(projectId: string | undefined): void {
    if (projectId === undefined) return; // not project-scoped: refused later with 403
    const wait = this.perProject.take(projectId);
    if (wait > 0) throw new Throttled('project', wait);
  }
}
