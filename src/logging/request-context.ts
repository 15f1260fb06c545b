// Which request the code now running serves, so that every log line can name
// it without the request being passed down. Fastify runs a request's hooks,
// body parsing and handler as a chain of callbacks started from onRequest, so
// entering the context there covers the whole request (logs.http.test.ts
// checks it, bodies included).

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
  fastify.addHook('onRequest', (request: FastifyRequest, _reply, done) =>
    storage.run({ requestId: request.id }, done),
  );
}
