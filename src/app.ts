// Builds the HTTP application (used by main.ts and by the tests): Fastify
// under Nest, the global exception filter, bodies kept unparsed, request ids,
// and migrations run under an advisory lock (validation: common/validation.ts).

import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import { AppModule, type AppDependencies } from './app.module.js';
import { UnparsedJson } from './common/json-body.js';
import { OmsExceptionFilter } from './common/oms-exception.filter.js';
import { requestIdFor } from './common/request-id.js';
import { omsErrorBody } from './common/oms-exception.filter.js';
import {
  answerClientError,
  answerFrameworkError,
  answerUnmetExpectation,
} from './common/transport-errors.js';
import { runMigrationsLocked } from './database/migrate.js';
import { serveOpenApi } from './openapi/openapi.js';
import { recordAnsweredRequests } from './metrics/answered-requests.js';
import { Metrics, type PoolStats } from './metrics/metrics.js';
import type { AuthenticatedRequest } from './iam/auth.guard.js';
import type { JsonLogger } from './logging/json-logger.js';

/** Room for a 16,384-character X-Auth-Token plus the usual headers. */
const MAX_HEADER_BYTES = 64 * 1024;
const MAX_BODY_BYTES = 1024 * 1024;

export async function createApp(
  deps: AppDependencies,
  logger?: JsonLogger,
): Promise<NestFastifyApplication> {
  const metrics = new Metrics();
  const adapter = new FastifyAdapter({
    logger: false,
    genReqId: requestIdFor,
    trustProxy: deps.config.trustProxy, // request.ip: the client behind a load balancer
    routerOptions: { maxParamLength: MAX_HEADER_BYTES, ignoreTrailingSlash: true },
    bodyLimit: MAX_BODY_BYTES,
    // A client gets REQUEST_TIMEOUT_MS to send its whole request (408 in
    // the OMS shape after that, see transport-errors.ts). Node checks the
    // bound every connectionsCheckingInterval, 30 s unless told otherwise.
    requestTimeout: deps.config.requestTimeoutMs,
    http: {
      maxHeaderSize: MAX_HEADER_BYTES,
      requestTimeout: deps.config.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, deps.config.requestTimeoutMs / 2),
      // Node's own answer to a missing Host is a bare 400; ours comes below.
      requireHostHeader: false,
    },
    // During a graceful shutdown Fastify would answer a request that arrives
    // on a connection still open (pipelined behind one in flight) with a bare
    // 503; it is in flight too, and is served like the others.
    return503OnClosing: false,
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: (error, socket) => {
      const status = answerClientError(error, socket);
      if (status !== undefined) metrics.requestRefused(status);
    },
  });
  const fastify = adapter.getInstance();
  // A callback hook, not an async one: no promise per request.
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('X-Request-Id', request.id);
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
      // HTTP/1.1 requires Host (RFC 9112, 3.2), in the OMS shape like any refusal.
      // Answered without done(): the request goes no further.
      void reply
        .status(400)
        .type('application/json; charset=utf-8')
        .send(omsErrorBody('OMS.0064', 'The Host header is missing.', request.id));
      return;
    }
    done();
  });
  // Node answers an Expect other than 100-continue with a bare 417.
  fastify.server.on('checkExpectation', (request, response) => {
    metrics.requestRefused(answerUnmetExpectation(request, response));
  });
  recordAnsweredRequests(fastify, metrics, logger);
  // No body is parsed here, before authentication: a costly shape would cost
  // the service its CPU whoever sent it, and stop (which ignores its body:
  // the Go SDK sends an empty one labelled JSON, Terraform none at all),
  // delete, the reads and unknown paths never need one parsed. Both parsers
  // keep the bytes as received, which an access-key signature covers; the
  // routes that read a body parse it after the guard (common/json-body.ts).
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    (req as AuthenticatedRequest).rawBody = body as Buffer;
    done(null, new UnparsedJson(body as Buffer));
  });
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body, done) => {
    (req as AuthenticatedRequest).rawBody = body as Buffer;
    done(null, body);
  });

  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.register(deps, metrics),
    adapter,
    { bodyParser: false, logger: logger ?? false, abortOnError: false },
  );
  const dataSource = app.get(DataSource);
  // TypeORM's postgres driver keeps its pg Pool as `master`.
  metrics.watchPool(() => (dataSource.driver as { master?: PoolStats }).master);
  app.useGlobalFilters(new OmsExceptionFilter());
  serveOpenApi(app);
  if (deps.config.runMigrations) await runMigrationsLocked(dataSource);
  return app;
}
