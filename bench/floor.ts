// The framework floors: what Fastify alone, and Nest on Fastify, cost for
// the wrong-project answer when they do nothing else. Same route, same 403
// OMS body and X-Request-Id as the service; no token cache, no logging, no
// metrics, no rate limits. Run by `npm run bench -- --floors` on the
// wrong-project path only, so that BENCHMARKS.md can say how much of the gap
// between the service and the yardstick the frameworks take before the
// service's own work begins.
//
//   node dist/bench/floor.js fastify | nest

import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import {
  Catch,
  Controller,
  HttpCode,
  Module,
  Param,
  Post,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';

const ROUTE = '/v2/:project_id/tasks/:task_id/stop';

function refusal(requestId: string) {
  return {
    error_code: 'OMS.0206',
    error_msg: 'Permission denied: the credentials are scoped to another project.',
    request_id: requestId,
  };
}

function answer403(reply: FastifyReply, requestId: string): void {
  void reply
    .status(403)
    .header('X-Request-Id', requestId)
    .type('application/json; charset=utf-8')
    .send(refusal(requestId));
}

async function fastifyFloor(): Promise<string> {
  const app = Fastify({ logger: false, genReqId: () => randomUUID() });
  app.post(ROUTE, (request, reply) => answer403(reply, request.id));
  return app.listen({ host: '127.0.0.1', port: 0 });
}

// Stackless, as the service's domain errors are (src/common/oms-errors.ts):
// the limit unset, not 0, at which V8 still walks the stack.
(Error as { stackTraceLimit: unknown }).stackTraceLimit = undefined;
class Refused extends Error {}

@Catch()
class RefusalFilter implements ExceptionFilter {
  catch(_error: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    answer403(host.switchToHttp().getResponse<FastifyReply>(), request.id);
  }
}

@Controller('v2/:project_id/tasks')
class FloorController {
  @Post(':task_id/stop')
  @HttpCode(200)
  stop(@Param('project_id') projectId: string): void {
    throw new Refused(projectId);
  }
}

@Module({ controllers: [FloorController] })
class FloorModule {}

async function nestFloor(): Promise<string> {
  const app = await NestFactory.create<NestFastifyApplication>(
    FloorModule,
    new FastifyAdapter({ logger: false, genReqId: () => randomUUID() }),
    { logger: false },
  );
  app.useGlobalFilters(new RefusalFilter());
  await app.listen({ host: '127.0.0.1', port: 0 });
  return app.getUrl();
}

const which = process.argv[2];
const url = await (which === 'nest' ? nestFloor() : fastifyFloor());
console.log(`Listening on ${new URL(url).host}`);
// Exits normally on a signal, so that `node --cpu-prof` writes its profile.
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
