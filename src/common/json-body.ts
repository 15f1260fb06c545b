// JSON bodies. The content-type parsers in app.ts only keep the bytes (an
// access-key signature covers them): no body is parsed before the caller is
// authenticated, and a route that ignores its body (stop, delete, the reads)
// or an unknown path never parses it at all. The routes that read a body
// (create, start, bandwidth-policy) use RequireJsonObjectBody, an
// interceptor: it runs after the guard and before the validation pipe.
//
// A body's shape is bounded on its bytes before JSON.parse sees it. Parsing
// and validating cost grows with how deep a body nests and how many items it
// holds, not only with its size: within the 1 MiB limit, nested arrays cost
// ~130 ms of CPU to parse and ~860 ms to validate, and 5,000 levels in 10 KB
// overflowed class-transformer's stack (a 500).

import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Observable } from 'rxjs';
import { InvalidParameter, MalformedBody } from './oms-errors.js';

/**
 * How deep a body may nest. The deepest the API defines is 3 levels (create's
 * `src_node.object_key[]`, `bandwidth_policy[{}]`); the rest is room for the
 * fields newer clients send, which are dropped. class-transformer and
 * class-validator recurse once per level.
 */
export const MAX_JSON_DEPTH = 10;

/**
 * How many items a body may hold: its arrays and objects and the values after
 * each comma, about one per value. The largest body the API defines, a create
 * with 1,000 object keys and every other field, holds 1,053; this leaves
 * room for newer clients' fields, and validating a body at the bound costs a
 * few milliseconds.
 */
export const MAX_JSON_ITEMS = 4096;

/** A body labelled JSON, as received: parsed only by a route that reads it. */
export class UnparsedJson {
  constructor(readonly bytes: Buffer) {}
}

@Injectable()
export class RequireJsonObjectBody implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    request.body = jsonObject(request.body);
    return next.handle();
  }
}

function jsonObject(body: unknown): object {
  let value = body; // undefined: no body at all (Terraform's stop, curl -X POST)
  // Blank but labelled JSON is no body either (the Go SDK's stop).
  if (body instanceof UnparsedJson) value = parse(body.bytes, { blankIsMissing: true });
  // Sent without Content-Type: application/json; JSON all the same is fine.
  else if (Buffer.isBuffer(body)) value = parse(body, { blankIsMissing: false });
  if (value === undefined) throw new InvalidParameter('The request body is missing.');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidParameter('The request body must be a JSON object.');
  }
  assertStorable(value);
  return value;
}

function parse(bytes: Buffer, { blankIsMissing }: { blankIsMissing: boolean }): unknown {
  const fault = jsonShapeFault(bytes);
  if (fault !== undefined) throw new InvalidParameter(fault);
  const text = bytes.toString('utf8');
  if (blankIsMissing && text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new MalformedBody();
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * What makes a body's shape too costly, as the message of its 400; undefined
 * within the bounds. One pass over the bytes that stops at the first bound
 * passed: strings are skipped (no byte of a multi-byte UTF-8 character is a
 * quote or a backslash), brackets and commas counted. Whether the bytes are
 * JSON at all is for JSON.parse to say afterwards.
 */
export function jsonShapeFault(
  bytes: Buffer,
  maxDepth = MAX_JSON_DEPTH,
  maxItems = MAX_JSON_ITEMS,
): string | undefined {
  let depth = 0;
  let items = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === QUOTE) {
      i = closingQuote(bytes, i);
    } else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
      if (++depth > maxDepth) return `The request body is nested deeper than ${maxDepth} levels.`;
      if (++items > maxItems) return `The request body holds more than ${maxItems} items.`;
    } else if (byte === COMMA) {
      if (++items > maxItems) return `The request body holds more than ${maxItems} items.`;
    } else if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) {
      depth--;
    }
  }
  return undefined;
}

/** The closing quote of the string opened at `open`, or the end of the bytes. */
function closingQuote(bytes: Buffer, open: number): number {
  let quote = open;
  for (;;) {
    quote = bytes.indexOf(QUOTE, quote + 1);
    if (quote === -1) return bytes.length;
    // Escaped if an odd number of backslashes comes before it. Each run of
    // backslashes is counted once: the scan stays linear.
    let backslashes = 0;
    while (bytes[quote - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
  }
}

// PostgreSQL text cannot hold U+0000, and jsonb refuses an unpaired
// surrogate: a body carrying either would fail in the database, as a 500.
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function assertStorable(body: object): void {
  const pending: unknown[] = [body]; // a loop, not recursion
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
