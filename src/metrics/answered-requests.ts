// The one place that sees every request Fastify answered: it counts it in the
// metrics and writes its access-log line. Both name the route's pattern
// (/v2/:project_id/tasks/:task_id/stop), never the URL: one metric series
// per API rather than per task, and no caller input in the log. Nothing from
// headers or bodies is logged, so no token or key can leak this way.

import type { FastifyInstance } from 'fastify';
import type { JsonLogger } from '../logging/json-logger.js';
import { UNMATCHED_ROUTE, type Metrics } from './metrics.js';

/** Probes and scrapes come every few seconds: logged only at debug level. */
const QUIET_ROUTES = new Set(['/health/live', '/health/ready', '/metrics']);

/** `log`: where access lines go (none without a logger, as in most tests). */
export function recordAnsweredRequests(
  fastify: FastifyInstance,
  metrics: Metrics,
  log: JsonLogger | undefined,
): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
    const status = reply.statusCode;
    metrics.requestAnswered(request.method, route, status, reply.elapsedTime / 1000);
    log?.requestAnswered(QUIET_ROUTES.has(route) ? 'debug' : 'info', {
      requestId: request.id,
      method: request.method,
      route,
      status,
      durationMs: Math.round(reply.elapsedTime * 10) / 10,
    });
    done();
  });
}
