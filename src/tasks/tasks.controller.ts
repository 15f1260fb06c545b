// The OMS task routes. Each handler authorizes the caller for its project
// (after the pipes, so a malformed parameter is a 400 before any 403) and
// hands over to TasksService; errors are domain errors, mapped to HTTP by
// the one exception filter.

import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Put,
  Query,
  Req,
  UseInterceptors,
} from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { RequireJsonObjectBody } from '../common/json-body.js';
import { AccessPolicy } from '../iam/access-policy.js';
import { Caller } from '../iam/auth.guard.js';
import type { Identity } from '../iam/identity.js';
import { ApiOmsErrors } from '../openapi/api-oms-errors.js';
import { BandwidthPolicyBody, CreateTaskBody, StartTaskBody } from './task.bodies.js';
import { ListTasksQuery, ProjectPath, TaskPath } from './task.params.js';
import { CreatedTask, TaskList, TaskObject } from './task-view.js';
import type { Actor } from './task-transitions.js';
import { TasksService } from './tasks.service.js';

function actor(caller: Identity, request: FastifyRequest): Actor {
  return { userId: caller.userId, requestId: request.id };
}

@ApiTags('tasks')
@ApiSecurity('X-Auth-Token')
@Controller('v2/:project_id/tasks')
export class TasksController {
  constructor(
    private readonly tasks: TasksService,
    private readonly access: AccessPolicy,
  ) {}

  @Post()
  @HttpCode(200)
  @UseInterceptors(RequireJsonObjectBody)
  @ApiOperation({ operationId: 'CreateTask', summary: 'Create a task; it starts by itself' })
  @ApiOkResponse({ type: CreatedTask })
  @ApiOmsErrors('OMS.0064', 'OMS.0067', 'OMS.0077')
  async create(
    @Param() path: ProjectPath,
    @Body() body: CreateTaskBody,
    @Caller() caller: Identity,
    @Req() request: FastifyRequest,
  ): Promise<CreatedTask> {
    this.access.authorize(caller, path.project_id, 'write');
    return this.tasks.create(path.project_id, body, actor(caller, request));
  }

  @Get()
  @ApiOperation({ operationId: 'ListTasks', summary: 'List tasks, newest first' })
  @ApiOkResponse({ type: TaskList })
  @ApiOmsErrors('OMS.0064')
  async list(
    @Param() path: ProjectPath,
    @Query() query: ListTasksQuery,
    @Caller() caller: Identity,
  ): Promise<TaskList> {
    this.access.authorize(caller, path.project_id, 'read');
    return this.tasks.list(path.project_id, query);
  }

  @Get(':task_id')
  @ApiOperation({ operationId: 'ShowTask', summary: 'Show one task' })
  @ApiOkResponse({ type: TaskObject })
  @ApiOmsErrors('OMS.0064', 'OMS.1009')
  async show(@Param() path: TaskPath, @Caller() caller: Identity): Promise<TaskObject> {
    this.access.authorize(caller, path.project_id, 'read');
    return this.tasks.show(path.project_id, path.task_id);
  }

  /** Pause a migrating task. Any request body is ignored. */
  @Post(':task_id/stop')
  @HttpCode(200)
  @ApiOperation({ operationId: 'StopTask', summary: 'Pause a migrating task (2 → 3)' })
  @ApiOkResponse({ description: 'Paused; empty body.' })
  @ApiOmsErrors('OMS.0064', 'OMS.0066', 'OMS.1009')
  async stop(
    @Param() path: TaskPath,
    @Caller() caller: Identity,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    this.access.authorize(caller, path.project_id, 'write');
    await this.tasks.stop(path.project_id, path.task_id, actor(caller, request));
  }

  @Post(':task_id/start')
  @HttpCode(200)
  @UseInterceptors(RequireJsonObjectBody)
  @ApiOperation({ operationId: 'StartTask', summary: 'Start a paused or failed task again' })
  @ApiOkResponse({ description: 'Waiting for a slot; empty body.' })
  @ApiOmsErrors('OMS.0064', 'OMS.0065', 'OMS.0067', 'OMS.0070', 'OMS.1009')
  async start(
    @Param() path: TaskPath,
    @Body() body: StartTaskBody,
    @Caller() caller: Identity,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    this.access.authorize(caller, path.project_id, 'write');
    await this.tasks.start(path.project_id, path.task_id, body, actor(caller, request));
  }

  @Delete(':task_id')
  @HttpCode(200)
  @ApiOperation({ operationId: 'DeleteTask', summary: 'Delete a task that is not running' })
  @ApiOkResponse({ description: 'Deleted; empty body.' })
  @ApiOmsErrors('OMS.0063', 'OMS.0064', 'OMS.1009')
  async delete(
    @Param() path: TaskPath,
    @Caller() caller: Identity,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    this.access.authorize(caller, path.project_id, 'write');
    await this.tasks.delete(path.project_id, path.task_id, actor(caller, request));
  }

  @Put(':task_id/bandwidth-policy')
  @HttpCode(200)
  @UseInterceptors(RequireJsonObjectBody)
  @ApiOperation({ operationId: 'UpdateBandwidthPolicy', summary: 'Replace the bandwidth policy' })
  @ApiBody({ type: BandwidthPolicyBody })
  @ApiOkResponse({ description: 'Replaced; empty body.' })
  @ApiOmsErrors('OMS.0064', 'OMS.0067', 'OMS.0070', 'OMS.1009')
  async setBandwidthPolicy(
    @Param() path: TaskPath,
    @Body() body: BandwidthPolicyBody,
    @Caller() caller: Identity,
  ): Promise<void> {
    this.access.authorize(caller, path.project_id, 'write');
    await this.tasks.setBandwidthPolicy(path.project_id, path.task_id, body.bandwidth_policy);
  }
}
