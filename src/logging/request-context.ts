// Which request the code now running serves, so that every log line can name
// it without the request being passed down. Fastify runs a request's hooks
// and handler as a chain of callbacks; entering the context in onRequest
// covers that chain, and entering it again in preHandler covers the part
// after a body was read (stream events run in the socket's context).

import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyInstance, FastifyRequest } from 'fastify';

interface RequestContext {
  readonly requestId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

export function bindRequestContext(fastify: FastifyInstance): void {
  const enter = (request: FastifyRequest, _reply: unknown, done: () => void) =>
    storage.run({ requestId: request.id }, done);
  fastify.addHook('onRequest', enter);
  fastify.addHook('preHandler', enter);
}
