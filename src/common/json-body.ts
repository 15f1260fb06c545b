// JSON bodies. The parser in app.ts never fails a request (stop ignores its
// body, whatever it is) and leaves its verdict on the request instead; the
// routes that do read a body (create, start, bandwidth-policy) use
// RequireJsonObjectBody, which runs before the validation pipe.

import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Observable } from 'rxjs';
import { InvalidParameter, MalformedBody } from './oms-errors.js';

/** What a JSON body that does not parse becomes. */
export const MALFORMED_JSON = Symbol('malformed JSON');

@Injectable()
export class RequireJsonObjectBody implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    request.body = jsonObject(request.body);
    return next.handle();
  }
}

function jsonObject(body: unknown): object {
  let value = body;
  if (value === MALFORMED_JSON) throw new MalformedBody();
  // Sent without Content-Type: application/json; JSON all the same is fine.
  if (Buffer.isBuffer(value)) {
    try {
      value = JSON.parse(value.toString('utf8'));
    } catch {
      throw new MalformedBody();
    }
  }
  if (value === undefined) throw new InvalidParameter('The request body is missing.');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidParameter('The request body must be a JSON object.');
  }
  return value;
}
