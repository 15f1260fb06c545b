// The one place where errors become HTTP answers. Every error answer is the
// OMS body {error_code, error_msg, request_id}; internals never leave the
// process (they are logged instead, under the request id).

import {
  Catch,
  HttpException,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '../database/database-errors.js';
import {
  DependencyUnavailable,
  InvalidParameter,
  OmsError,
  ResourceGone,
  RouteNotFound,
  Throttled,
  type OmsErrorCode,
} from './oms-errors.js';

export const HTTP_STATUS: Record<OmsErrorCode, number> = {
  'OMS.0063': 400,
  'OMS.0064': 400,
  'OMS.0065': 400,
  'OMS.0066': 400,
  'OMS.0067': 400,
  'OMS.0070': 400,
  'OMS.0077': 400,
  'OMS.1009': 400,
  'OMS.0206': 403,
  'OMS.2000': 500,
  'OMS.2004': 503,
  'APIGW.0101': 404,
  'APIGW.0301': 401,
  'APIGW.0308': 429,
};

/** The status of ResourceGone (a missing group or sync task), whose code is OMS.1009. */
export const NOT_FOUND_STATUS = 404;

/** /v2/{project_id}/tasks|sync-tasks[/{id}[/action]], any segment possibly empty. */
const TASK_PATH_SHAPE = /^\/v2\/[^/]*\/(sync-)?tasks(\/[^/]*(\/[a-z-]+)?)?\/?$/;

/** /v2/{project_id}/objectstorage/{cloud-type|data-center}, the project possibly empty. */
const REFERENCE_PATH_SHAPE = /^\/v2\/[^/]*\/objectstorage\/(cloud-type|data-center)\/?$/;

/** Seconds a client should wait before retrying a 503. */
const RETRY_AFTER_SECONDS = '5';

export interface OmsErrorBody {
  error_code: OmsErrorCode;
  error_msg: string;
  request_id: string;
}

/** The error code each refused reply was answered with, for its access line. */
const answeredCodes = new WeakMap<object, OmsErrorCode>();

/** Notes the code a reply refuses with; whoever sends an OMS error body calls it. */
export function recordErrorCode(reply: FastifyReply, code: OmsErrorCode): void {
  answeredCodes.set(reply, code);
}

/** The code recordErrorCode noted for this reply, if it was refused. */
export function errorCodeOf(reply: FastifyReply): OmsErrorCode | undefined {
  return answeredCodes.get(reply);
}

/** The one shape of every error answer, here and in transport-errors.ts. */
export function omsErrorBody(code: OmsErrorCode, message: string, requestId: string): OmsErrorBody {
  return { error_code: code, error_msg: message, request_id: requestId };
}

@Catch()
export class OmsExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('OmsExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const { status, code, message } = this.describe(exception, request);
    if (exception instanceof Throttled) {
      reply.header('Retry-After', String(exception.retryAfterSeconds));
    } else if (status === 503) {
      reply.header('Retry-After', RETRY_AFTER_SECONDS);
    }
    // Fastify's last-resort 404 (a request target such as `*` that even its
    // not-found router does not match) skips the onRequest hook that sets it.
    if (!reply.hasHeader('X-Request-Id')) reply.header('X-Request-Id', request.id);
    recordErrorCode(reply, code);
    void reply
      .status(status)
      .type('application/json; charset=utf-8')
      .send(omsErrorBody(code, message, request.id));
  }

  private describe(
    exception: unknown,
    request: FastifyRequest,
  ): { status: number; code: OmsErrorCode; message: string } {
    const known = this.asOmsError(exception, request.url);
    if (known) {
      if (known instanceof DependencyUnavailable) {
        this.logger.warn({ msg: known.message, requestId: request.id });
      }
      // A missing group answers 404 with the code a missing task answers 400 with.
      const status = known instanceof ResourceGone ? NOT_FOUND_STATUS : HTTP_STATUS[known.code];
      return { status, code: known.code, message: known.message };
    }
    // Errors from the HTTP layer that carry a 4xx status (a body too large,
    // a header the parser refused) are the client's: say so, in our shape.
    const clientStatus = this.clientErrorStatus(exception);
    if (clientStatus) {
      // The contract pairs OMS.0064 with 400, whatever status the framework
      // would have used (413 for a body over the limit).
      return { status: 400, code: 'OMS.0064', message: this.clientMessage(clientStatus) };
    }
    this.logger.error({
      msg: 'unexpected fault',
      requestId: request.id,
      error: describeError(exception),
    });
    return { status: 500, code: 'OMS.2000', message: 'Internal error. Quote the request id.' };
  }

  private asOmsError(exception: unknown, url: string): OmsError | undefined {
    if (exception instanceof OmsError) return exception;
    if (isDatabaseUnavailable(exception)) return new DependencyUnavailable('database');
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      // Nest answers unknown routes with 404 and wrong methods with 405. A
      // task path with an empty segment (/v2//tasks/1/stop) is a parameter
      // of length 0, out of bounds, rather than an unknown API.
      if (status === 404 || status === 405) {
        const path = url.split('?')[0];
        return path.includes('//') &&
          (TASK_PATH_SHAPE.test(path) || REFERENCE_PATH_SHAPE.test(path))
          ? new InvalidParameter('A path parameter is empty.')
          : new RouteNotFound();
      }
    }
    return undefined;
  }

  private clientErrorStatus(exception: unknown): number | undefined {
    const status =
      exception instanceof HttpException
        ? exception.getStatus()
        : (exception as { statusCode?: unknown } | null)?.statusCode;
    return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
  }

  private clientMessage(status: number): string {
    if (status === 413) return 'The request body is too large.';
    return 'The request is malformed.';
  }
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const head = `${error.name}: ${error.message}`;
  // A domain error has no stack (oms-errors.ts); its head says it all.
  return error.stack === undefined ? head : `${head}\n${error.stack}`;
}
