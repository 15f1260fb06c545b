// Builds the HTTP application (used by main.ts and by the tests): Fastify
// under Nest, the global validation pipe and exception filter, lenient body
// parsing, request ids, and migrations run under an advisory lock.

import 'reflect-metadata';
import { ValidationPipe, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { ValidationError } from 'class-validator';
import { DataSource } from 'typeorm';
import { AppModule, type AppDependencies } from './app.module.js';
import { InvalidParameter } from './common/oms-errors.js';
import { OmsExceptionFilter } from './common/oms-exception.filter.js';
import { requestIdFor } from './common/request-id.js';
import { answerClientError, answerFrameworkError } from './common/transport-errors.js';
import { runMigrationsLocked } from './database/migrate.js';

/** Room for a 16,384-character X-Auth-Token plus the usual headers. */
const MAX_HEADER_BYTES = 64 * 1024;
const MAX_BODY_BYTES = 1024 * 1024;

/** What a JSON body that does not parse becomes; routes that read bodies reject it. */
export const MALFORMED_JSON = Symbol('malformed JSON');

function firstMessage(errors: ValidationError[]): string {
  for (const error of errors) {
    const messages = Object.values(error.constraints ?? {});
    if (messages.length > 0) return `${messages[0]}.`;
    const nested = error.children && firstMessage(error.children);
    if (nested) return nested;
  }
  return 'A parameter is invalid.';
}

export async function createApp(
  deps: AppDependencies,
  logger?: LoggerService,
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    logger: false,
    genReqId: requestIdFor,
    routerOptions: { maxParamLength: MAX_HEADER_BYTES, ignoreTrailingSlash: true },
    bodyLimit: MAX_BODY_BYTES,
    http: { maxHeaderSize: MAX_HEADER_BYTES },
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
  });
  const fastify = adapter.getInstance();
  // A callback hook, not an async one: no promise per request.
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('X-Request-Id', request.id);
    done();
  });
  // Stop ignores its body, whatever it is (the Go SDK sends an empty one
  // labelled JSON, Terraform none at all), so parsing never fails a request:
  // bad JSON becomes MALFORMED_JSON for the routes that do read bodies.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(null, MALFORMED_JSON);
    }
  });
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(deps), adapter, {
    bodyParser: false,
    logger: logger ?? false,
    abortOnError: false,
  });
  app.useGlobalFilters(new OmsExceptionFilter());
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      transform: true,
      exceptionFactory: (errors) => new InvalidParameter(firstMessage(errors)),
    }),
  );
  if (deps.config.runMigrations) await runMigrationsLocked(app.get(DataSource));
  return app;
}
