// The one place that sees every request Fastify answered: it counts it in the
// metrics and writes its access-log line. Both name the route's pattern
// (/v2/:project_id/tasks/:task_id/stop), never the URL: one metric series
// per API rather than per task, and no caller input in the log. Nothing from
// headers or bodies is logged, so no token or key can leak this way.

import { Logger } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { UNMATCHED_ROUTE, type Metrics } from './metrics.js';

/** Probes and scrapes come every few seconds: logged only at debug level. */
const QUIET_ROUTES = new Set(['/health/live', '/health/ready', '/metrics']);

export function recordAnsweredRequests(fastify: FastifyInstance, metrics: Metrics): void {
  const accessLog = new Logger('Access');
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
    const seconds = reply.elapsedTime / 1000;
    metrics.requestAnswered(request.method, route, reply.statusCode, seconds);
    const line = {
      msg: 'request answered',
      requestId: request.id,
      method: request.method,
      route,
      status: reply.statusCode,
      duration_ms: Math.round(reply.elapsedTime * 10) / 10,
    };
    if (QUIET_ROUTES.has(route)) accessLog.debug(line);
    else accessLog.log(line);
    done();
  });
}
