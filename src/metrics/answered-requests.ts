// The one place that sees every request Fastify answered: it counts it in the
// metrics and writes its access-log line. Both name the route's pattern
// (/v2/:project_id/tasks/:task_id/stop), never the URL: one metric series
// per API rather than per task. The access line also names the project and
// task the path gave (the router bounds them; the logger escapes them), the
// authenticated user and the error code of a refusal. Nothing from headers
// or bodies is logged, so no token or key can leak this way.

import type { FastifyInstance } from 'fastify';
import { errorCodeOf } from '../common/oms-exception.filter.js';
import type { AuthenticatedRequest } from '../iam/auth.guard.js';
import type { JsonLogger } from '../logging/json-logger.js';
import { UNMATCHED_ROUTE, type Metrics } from './metrics.js';

/**
 * Probes and scrapes come every few seconds, and the API document's page
 * loads a dozen static files: logged only at debug level.
 */
const QUIET_ROUTES = new Set(['/health/live', '/health/ready', '/metrics']);
const QUIET_PREFIX = '/docs';

/**
 * A worker asks for tasks every second or so and heartbeats each every few
 * seconds: answered, these are logged at debug level too (a lease is in the
 * audit trail, and an outcome, which moves a task, stays at info).
 */
const QUIET_WHEN_ANSWERED = new Set([
  '/v2/workers/:worker_id/leases',
  '/v2/workers/:worker_id/leases/:lease_id/heartbeat',
]);

/** A path parameter in the access line: ids are far shorter; a longer one was refused anyway. */
const MAX_LOGGED_PARAMETER = 128;

function bounded(value: string | undefined): string | undefined {
  return value !== undefined && value.length > MAX_LOGGED_PARAMETER
    ? `${value.slice(0, MAX_LOGGED_PARAMETER)}…`
    : value;
}

interface PathParameters {
  project_id?: string;
  task_id?: string;
  group_id?: string;
  sync_task_id?: string;
}

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
    if (log) {
      const quiet =
        QUIET_ROUTES.has(route) ||
        route.startsWith(QUIET_PREFIX) ||
        (status < 300 && QUIET_WHEN_ANSWERED.has(route));
      const params = request.params as PathParameters | undefined;
      log.requestAnswered(quiet ? 'debug' : 'info', {
        requestId: request.id,
        method: request.method,
        route,
        status,
        durationMs: Math.round(reply.elapsedTime * 10) / 10,
        projectId: bounded(params?.project_id),
        taskId: bounded(params?.task_id),
        groupId: bounded(params?.group_id),
        syncTaskId: bounded(params?.sync_task_id),
        userId: (request as AuthenticatedRequest).caller?.userId,
        errorCode: errorCodeOf(reply),
      });
    }
    done();
  });
}
