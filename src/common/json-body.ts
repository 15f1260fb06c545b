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
  assertStorable(value);
  return value;
}

// PostgreSQL text cannot hold U+0000, and jsonb refuses an unpaired
// surrogate: a body carrying either would fail in the database, as a 500.
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function assertStorable(body: object): void {
  const pending: unknown[] = [body]; // a loop, not recursion: nesting may be deep
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'string' && UNSTORABLE.test(value)) {
      throw new InvalidParameter(
        'A text in the request body holds NUL or an unpaired surrogate, which cannot be stored.',
      );
    }
    if (typeof value === 'object' && value !== null) {
      for (const [key, inner] of Object.entries(value)) pending.push(key, inner);
    }
  }
}
