// Health checks for orchestrators and load balancers, outside the /v2 auth.
// /health/live: the process is up and serving HTTP (restart it if not).
// /health/ready: it can do its work: the database answers a query and IAM
// answers HTTP, each within HEALTH_TIMEOUT_MS; 503 otherwise. The answer
// says which check failed, in a word: the details (addresses, driver
// messages) go to the log, not to whoever can reach this URL. Events
// (NATS) are reported but never make it fail: while NATS is down events
// wait in the audit tables, and the API still does its work. Callers share
// one check per HEALTH_READY_CACHE_MS (latest-result.ts says why).

import { ApiExcludeController } from '@nestjs/swagger';
import { Controller, Get, Inject, Logger, Optional, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import { CLOCK, type Clock } from '../common/clock.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { PublicRoute } from '../iam/auth.guard.js';
import { CircuitBreakingAccessKeyStore, CircuitBreakingValidator } from '../iam/circuit-breaker.js';
import type { CircuitState } from '../iam/iam-observer.js';
import { TOKEN_VALIDATOR, type TokenValidator } from '../iam/caller.js';
import { EventRelay, type EventsStatus } from '../events/event-relay.js';
import { LatestResult } from './latest-result.js';

export interface CheckResult {
  status: 'up' | 'down';
  /** Why it is down: 'timeout' or 'error'. */
  reason?: 'timeout' | 'error';
}

export interface Readiness {
  status: 'ok' | 'unavailable';
  checks: {
    database: CheckResult;
    /** accessKeyCircuit: only when access-key signatures are on. */
    iam: CheckResult & { circuit: CircuitState; accessKeyCircuit?: CircuitState };
    events: EventsStatus;
  };
}

interface Checks {
  database: CheckResult;
  iam: CheckResult;
}

class CheckTimedOut extends Error {}

// Operations, not the OMS API: left out of the OpenAPI document.
@ApiExcludeController()
@Controller('health')
@PublicRoute()
export class HealthController {
  private readonly logger = new Logger('Health');
  private readonly checks: LatestResult<Checks>;

  constructor(
    private readonly db: DataSource,
    @Inject(TOKEN_VALIDATOR) private readonly iam: TokenValidator,
    private readonly breaker: CircuitBreakingValidator,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) clock: Clock,
    private readonly events: EventRelay,
    @Optional() private readonly accessKeyBreaker?: CircuitBreakingAccessKeyStore,
  ) {
    this.checks = new LatestResult(config.healthReadyCacheMs, () => clock.now());
  }

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Readiness> {
    const { database, iam } = await this.checks.get(() => this.runChecks(request.id));
    const ready = database.status === 'up' && iam.status === 'up';
    void reply.status(ready ? 200 : 503);
    return {
      status: ready ? 'ok' : 'unavailable',
      checks: {
        database,
        iam: {
          ...iam,
          circuit: this.breaker.state,
          ...(this.accessKeyBreaker && { accessKeyCircuit: this.accessKeyBreaker.state }),
        },
        events: this.events.status,
      },
    };
  }

  /** `requestId`: the request that set the checks off, named in their log lines. */
  private async runChecks(requestId: string): Promise<Checks> {
    const [database, iam] = await Promise.all([
      this.check(requestId, 'database', () => this.db.query('SELECT 1')),
      // The development IAM is in-process: always there.
      this.check(requestId, 'IAM', async () =>
        this.iam.checkReachable?.(this.config.healthTimeoutMs),
      ),
    ]);
    return { database, iam };
  }

  private async check(
    requestId: string,
    name: string,
    probe: () => Promise<unknown>,
  ): Promise<CheckResult> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CheckTimedOut()), this.config.healthTimeoutMs);
    });
    try {
      await Promise.race([probe(), deadline]);
      return { status: 'up' };
    } catch (error) {
      const timedOut = error instanceof CheckTimedOut;
      this.logger.warn({
        msg: `readiness: the ${name} is down`,
        requestId,
        error: timedOut ? 'no answer in time' : String(error),
      });
      return { status: 'down', reason: timedOut ? 'timeout' : 'error' };
    } finally {
      clearTimeout(timer);
    }
  }
}
