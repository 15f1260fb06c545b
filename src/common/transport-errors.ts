// Errors that happen before a request reaches Nest, answered in the same OMS
// shape as every other error: a URL the router cannot decode (Fastify's
// "framework errors"), and a request Node's HTTP parser refuses outright
// (malformed, headers too large, too slow), where all we have is the socket.

import { Logger } from '@nestjs/common';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { omsErrorBody, recordErrorCode } from './oms-exception.filter.js';
import { generateRequestId, requestIdFor } from './request-id.js';

export function answerFrameworkError(
  _error: Error,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  recordErrorCode(reply, 'OMS.0064');
  void reply
    .status(400)
    .header('X-Request-Id', request.id)
    .send(omsErrorBody('OMS.0064', 'The request URL is malformed.', request.id));
}

/** Returns the status it answered with, or undefined if there was no one to answer. */
export function answerClientError(
  error: Error & { code?: string },
  socket: Socket,
): number | undefined {
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return undefined;
  }
  // 400 even for headers over the limit (HTTP would say 431): the contract
  // answers an over-long X-Auth-Token with 400 OMS.0064, and that is the
  // usual way to get here.
  const [status, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [400, 'The request headers are too large.']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'The request took too long to arrive.']
        : [400, 'The request is malformed.'];
  const requestId = generateRequestId();
  // No request reached a route, so this is its access-log line. Only the
  // parser's code: the bytes it refused may hold anything, tokens included.
  new Logger('Access').log({
    msg: 'request refused by the HTTP parser',
    requestId,
    status,
    reason: error.code,
  });
  const body = JSON.stringify(omsErrorBody('OMS.0064', message, requestId));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Request-Id: ${requestId}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
  return status;
}

/** An Expect header other than 100-continue: 400 OMS.0064, as the contract pairs them. */
export function answerUnmetExpectation(request: IncomingMessage, response: ServerResponse): number {
  const requestId = requestIdFor(request);
  new Logger('Access').log({ msg: 'request refused: unmet Expect', requestId, status: 400 });
  const body = JSON.stringify(
    omsErrorBody(
      'OMS.0064',
      'The Expect header asks for what this service does not do.',
      requestId,
    ),
  );
  response
    .writeHead(400, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      'X-Request-Id': requestId,
      Connection: 'close',
    })
    .end(body);
  return 400;
}
