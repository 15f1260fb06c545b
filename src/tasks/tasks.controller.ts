// The OMS task routes. Each handler authorizes the caller for its project
// (after the pipes, so a malformed parameter is a 400 before any 403) and
// hands over to TasksService; errors are domain errors, mapped to HTTP by
// the one exception filter.

import { Controller, Delete, Get, HttpCode, Post, Put, Req, UseInterceptors } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { RequireJsonObjectBody } from '../common/json-body.js';
import { ValidBody, ValidQuery } from '../common/validation.js';
import { AccessPolicy } from '../iam/access-policy.js';
import { Caller } from '../iam/caller.js';
import { ApiOmsErrors } from '../openapi/api-oms-errors.js';
import {
  BandwidthPolicyBody,
  BatchUpdateTasksBody,
  CreateTaskBody,
  StartTaskBody,
} from './task.bodies.js';
import { TaskBatchUpdate } from './task-batch-update.js';
import {
  BANDWIDTH_POLICY_EXAMPLES,
  BATCH_UPDATE_EXAMPLES,
  CREATE_TASK_EXAMPLES,
  START_TASK_EXAMPLES,
} from './task.examples.js';
import {
  ApiProjectPath,
  ApiTaskPath,
  ListTasksQuery,
  PageQuery,
  ProjectId,
  TaskId,
} from './task.params.js';
import { CreatedTask, TaskList, TaskObject, TaskTrail } from './task-view.js';
import { TasksService } from './tasks.service.js';

@ApiTags('tasks')
@ApiSecurity('X-Auth-Token')
@Controller('v2/:project_id/tasks')
export class TasksController {
  constructor(
    private readonly tasks: TasksService,
    private readonly access: AccessPolicy,
    private readonly batch: TaskBatchUpdate,
  ) {}

  @Post()
  @HttpCode(200)
  @UseInterceptors(RequireJsonObjectBody)
  @ApiOperation({ operationId: 'CreateTask', summary: 'Create a task; it starts by itself' })
  @ApiProjectPath()
  @ApiBody({ type: CreateTaskBody, examples: CREATE_TASK_EXAMPLES })
  @ApiOkResponse({ type: CreatedTask })
  @ApiOmsErrors('OMS.0064', 'OMS.0067', 'OMS.0077')
  async create(
    @ProjectId() projectId: string,
    @ValidBody() body: CreateTaskBody,
    @Caller() caller: Caller,
    @Req() request: FastifyRequest,
  ): Promise<CreatedTask> {
    this.access.authorize(caller, projectId, 'write');
    return this.tasks.create(projectId, body, caller, request.id);
  }

  @Get()
  @ApiOperation({ operationId: 'ListTasks', summary: 'List tasks, oldest first (by id)' })
  @ApiProjectPath()
  @ApiOkResponse({ type: TaskList })
  @ApiOmsErrors('OMS.0064')
  async list(
    @ProjectId() projectId: string,
    @ValidQuery() query: ListTasksQuery,
    @Caller() caller: Caller,
  ): Promise<TaskList> {
    this.access.authorize(caller, projectId, 'read');
    return this.tasks.list(projectId, query);
  }

  @Get(':task_id')
  @ApiOperation({ operationId: 'ShowTask', summary: 'Show one task' })
  @ApiTaskPath()
  @ApiOkResponse({ type: TaskObject })
  @ApiOmsErrors('OMS.0064', 'OMS.1009')
  async show(
    @ProjectId() projectId: string,
    @TaskId() taskId: string,
    @Caller() caller: Caller,
  ): Promise<TaskObject> {
    this.access.authorize(caller, projectId, 'read');
    return this.tasks.show(projectId, taskId);
  }

  // Beyond OMS: operators ask first what happened to a task, and when.
  @Get(':task_id/transitions')
  @ApiOperation({
    operationId: 'ListTaskTransitions',
    summary: "The task's audit trail, oldest first (by id); kept after a delete",
  })
  @ApiTaskPath()
  @ApiOkResponse({ type: TaskTrail })
  @ApiOmsErrors('OMS.0064', 'OMS.1009')
  async trail(
    @ProjectId() projectId: string,
    @TaskId() taskId: string,
    @ValidQuery() query: PageQuery,
    @Caller() caller: Caller,
  ): Promise<TaskTrail> {
    this.access.authorize(caller, projectId, 'read');
    return this.tasks.trail(projectId, taskId, query);
  }

  /** Pause a migrating task. Any request body is ignored. */
  @Post(':task_id/stop')
  @HttpCode(200)
  @ApiOperation({ operationId: 'StopTask', summary: 'Pause a migrating task (2 → 3)' })
  @ApiTaskPath()
  @ApiOkResponse({ description: 'Paused; empty body.' })
  @ApiOmsErrors('OMS.0064', 'OMS.0066', 'OMS.1009')
  async stop(
    @ProjectId() projectId: string,
    @TaskId() taskId: string,
    @Caller() caller: Caller,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    this.access.authorize(caller, projectId, 'write');
    await this.tasks.stop(projectId, taskId, caller, request.id);
  }

  @Post(':task_id/start')
  @HttpCode(200)
  @UseInterceptors(RequireJsonObjectBody)
  @ApiOperation({ operationId: 'StartTask', summary: 'Start a paused or failed task again' })
  @ApiTaskPath()
  @ApiBody({ type: StartTaskBody, examples: START_TASK_EXAMPLES })
  @ApiOkResponse({ description: 'Waiting for a slot; empty body.' })
  @ApiOmsErrors('OMS.0064', 'OMS.0065', 'OMS.0067', 'OMS.0070', 'OMS.1009')
  async start(
    @ProjectId() projectId: string,
    @TaskId() taskId: string,
    @ValidBody() body: StartTaskBody,
    @Caller() caller: Caller,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    this.access.authorize(caller, projectId, 'write');
    await this.tasks.start(projectId, taskId, body, caller, request.id);
  }

  @Delete(':task_id')
  @HttpCode(200)
  @ApiOperation({ operationId: 'DeleteTask', summary: 'Delete a task that is not running' })
  @ApiTaskPath()
  @ApiOkResponse({ description: 'Deleted; empty body.' })
  @ApiOmsErrors('OMS.0063', 'OMS.0064', 'OMS.1009')
  async delete(
    @ProjectId() projectId: string,
    @TaskId() taskId: string,
    @Caller() caller: Caller,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    this.access.authorize(caller, projectId, 'write');
    await this.tasks.delete(projectId, taskId, caller, request.id);
  }

  @Put(':task_id/bandwidth-policy')
  @HttpCode(200)
  @UseInterceptors(RequireJsonObjectBody)
  @ApiOperation({ operationId: 'UpdateBandwidthPolicy', summary: 'Replace the bandwidth policy' })
  @ApiTaskPath()
  @ApiBody({ type: BandwidthPolicyBody, examples: BANDWIDTH_POLICY_EXAMPLES })
  @ApiOkResponse({ description: 'Replaced; empty body.' })
  @ApiOmsErrors('OMS.0064', 'OMS.0067', 'OMS.0070', 'OMS.1009')
  async setBandwidthPolicy(
    @ProjectId() projectId: string,
    @TaskId() taskId: string,
    @ValidBody() body: BandwidthPolicyBody,
    @Caller() caller: Caller,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    this.access.authorize(caller, projectId, 'write');
    await this.tasks.setBandwidthPolicy(
      projectId,
      taskId,
      body.bandwidth_policy,
      caller,
      request.id,
    );
  }

  // A static segment: the router prefers it to the :task_id routes, and no
  // POST route has two segments after tasks/ anyway.
  @Post('batch-update')
  @HttpCode(200)
  @UseInterceptors(RequireJsonObjectBody)
  @ApiOperation({
    operationId: 'BatchUpdateTasks',
    summary: 'Replace the bandwidth policy (and priority) of many tasks, all or none',
  })
  @ApiProjectPath()
  @ApiBody({ type: BatchUpdateTasksBody, examples: BATCH_UPDATE_EXAMPLES })
  @ApiOkResponse({ description: 'Updated; empty body.' })
  @ApiOmsErrors('OMS.0063', 'OMS.0064', 'OMS.0067', 'OMS.0070', 'OMS.1009')
  async batchUpdate(
    @ProjectId() projectId: string,
    @ValidBody() body: BatchUpdateTasksBody,
    @Caller() caller: Caller,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    this.access.authorize(caller, projectId, 'write');
    await this.batch.update(projectId, body, caller, request.id);
  }
}
