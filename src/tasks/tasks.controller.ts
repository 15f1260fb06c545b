import { Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AccessPolicy } from '../iam/access-policy.js';
import { Caller } from '../iam/auth.guard.js';
import type { Identity } from '../iam/identity.js';
import { TaskPath } from './task.params.js';
import { TasksService } from './tasks.service.js';

@Controller('v2/:project_id/tasks')
export class TasksController {
  constructor(
    private readonly tasks: TasksService,
    private readonly access: AccessPolicy,
  ) {}

  /** Pause a migrating task. Any request body is ignored. */
  @Post(':task_id/stop')
  @HttpCode(200)
  async stop(
    @Param() path: TaskPath,
    @Caller() caller: Identity,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    this.access.authorize(caller, path.project_id, 'write');
    await this.tasks.stop(path.project_id, path.task_id, {
      userId: caller.userId,
      requestId: request.id,
    });
  }
}
