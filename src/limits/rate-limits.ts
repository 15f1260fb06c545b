// The two request-rate limits the guard applies: per credential (before IAM
// is asked, so a hot loop with one token costs IAM nothing) and per project
// (once the token says which project the caller acts for, so nobody can use
// up another project's allowance with made-up tokens). Over either: 429
// APIGW.0308 with Retry-After, and nothing is done.

import { Inject, Injectable } from '@nestjs/common';
import { Throttled } from '../common/oms-errors.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { RateLimiter } from './rate-limiter.js';

@Injectable()
export class RateLimits {
  private readonly perCredential: RateLimiter;
  private readonly perProject: RateLimiter;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.perCredential = new RateLimiter(
      config.rateLimitPerCredentialPerSecond,
      config.rateLimitCredentialBurst,
    );
    this.perProject = new RateLimiter(
      config.rateLimitPerProjectPerSecond,
      config.rateLimitProjectBurst,
    );
  }

  /** `key`: the token's tokenKey (never the token), or `access-key:` and the key. */
  checkCredential(key: string | undefined): void {
    if (!key || !this.perCredential.enabled) return;
    const wait = this.perCredential.take(key);
    if (wait > 0) throw new Throttled('credential', wait);
  }

  checkProject(projectId: string | undefined): void {
    if (projectId === undefined) return; // not project-scoped: refused later with 403
    const wait = this.perProject.take(projectId);
    if (wait > 0) throw new Throttled('project', wait);
  }
}
