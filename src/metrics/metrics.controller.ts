// GET /metrics in Prometheus's text format. Open when METRICS_TOKEN is unset
// (keep the port internal then); with it set, scrapers must send
// `Authorization: Bearer <METRICS_TOKEN>`. Either way it is outside the /v2
// IAM auth: a scraper has no IAM token.

import { ApiExcludeController } from '@nestjs/swagger';
import { Controller, Get, Headers, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { Unauthenticated } from '../common/oms-errors.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { PublicRoute } from '../iam/auth.guard.js';
import { Metrics } from './metrics.js';

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

// Operations, not the OMS API: left out of the OpenAPI document.
@ApiExcludeController()
@Controller('metrics')
@PublicRoute()
export class MetricsController {
  private readonly expected: Buffer | undefined;

  constructor(
    private readonly metrics: Metrics,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.expected = config.metricsToken === undefined ? undefined : digest(config.metricsToken);
  }

  @Get()
  async scrape(
    @Headers('authorization') authorization: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    if (this.expected) {
      const given = /^Bearer (\S+)$/i.exec(authorization ?? '')?.[1];
      // Digests have equal lengths, so the comparison takes constant time.
      if (!given || !timingSafeEqual(digest(given), this.expected)) {
        throw new Unauthenticated('GET /metrics needs the bearer token METRICS_TOKEN.');
      }
    }
    void reply.type(this.metrics.contentType);
    return this.metrics.render();
  }
}
