// The OMS task-group routes (note: a group's actions are PUT, a task's
// POST). Each handler authorizes the caller for its project after the
// pipes, as the task routes do, and hands over to TaskGroupsService.

import { Controller, Delete, Get, HttpCode, Post, Put, Req, UseInterceptors } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { RequireJsonObjectBody } from '../common/json-body.js';
import { ValidBody, ValidQuery } from '../common/validation.js';
import { AccessPolicy } from '../iam/access-policy.js';
import { Caller } from '../iam/caller.js';
import { ApiOmsErrors, TASK_GROUP_NOT_FOUND } from '../openapi/api-oms-errors.js';
import { BandwidthPolicyBody, StartTaskBody } from '../tasks/task.bodies.js';
import { ApiGroupPath, ApiProjectPath, GroupId, ProjectId } from '../tasks/task.params.js';
import {
  CreateTaskGroupBody,
  ListTaskGroupsQuery,
  RetryTaskGroupBody,
} from './task-group.bodies.js';
import { CreatedTaskGroup, TaskGroupList, TaskGroupObject } from './task-group-view.js';
import { TaskGroupsService } from './task-groups.service.js';

@ApiTags('task groups')
@ApiSecurity('X-Auth-Token')
@Controller('v2/:project_id/taskgroups')
export class TaskGroupsController {
  constructor(
    private readonly groups: TaskGroupsService,
    private readonly access: AccessPolicy,
  ) {}

  @Post()
  @HttpCode(200)
  @UseInterceptors(RequireJsonObjectBody)
  @ApiOperation({
    operationId: 'CreateTaskGroup',
    summary: 'Create a task group and its tasks; they start by themselves',
  })
  @ApiProjectPath()
  @ApiBody({ type: CreateTaskGroupBody })
  @ApiOkResponse({ type: CreatedTaskGroup })
  @ApiOmsErrors('OMS.0064', 'OMS.0067', 'OMS.0077')
  async create(
    @ProjectId() projectId: string,
    @ValidBody() body: CreateTaskGroupBody,
    @Caller() caller: Caller,
    @Req() request: FastifyRequest,
  ): Promise<CreatedTaskGroup> {
    this.access.authorize(caller, projectId, 'write');
    return this.groups.create(projectId, body, caller, request.id);
  }

  @Get()
  @ApiOperation({ operationId: 'ListTaskGroup', summary: 'List task groups, oldest first' })
  @ApiProjectPath()
  @ApiOkResponse({ type: TaskGroupList })
  @ApiOmsErrors('OMS.0064')
  async list(
    @ProjectId() projectId: string,
    @ValidQuery() query: ListTaskGroupsQuery,
    @Caller() caller: Caller,
  ): Promise<TaskGroupList> {
    this.access.authorize(caller, projectId, 'read');
    return this.groups.list(projectId, query);
  }

  @Get(':group_id')
  @ApiOperation({ operationId: 'ShowTaskGroup', summary: 'Show one task group (404 if none)' })
  @ApiGroupPath()
  @ApiOkResponse({ type: TaskGroupObject })
  @ApiOmsErrors('OMS.0064', TASK_GROUP_NOT_FOUND)
  async show(
    @ProjectId() projectId: string,
    @GroupId() groupId: string,
    @Caller() caller: Caller,
  ): Promise<TaskGroupObject> {
    this.access.authorize(caller, projectId, 'read');
    return this.groups.show(projectId, groupId);
  }

  /** Any request body is ignored. */
  @Put(':group_id/stop')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'StopTaskGroup',
    summary: 'Pause every waiting or migrating task of the group (1 or 2 → 3)',
  })
  @ApiGroupPath()
  @ApiOkResponse({ description: 'Paused; empty body.' })
  @ApiOmsErrors('OMS.0064', 'OMS.0066', TASK_GROUP_NOT_FOUND)
  async stop(
    @ProjectId() projectId: string,
    @GroupId() groupId: string,
    @Caller() caller: Caller,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    this.access.authorize(caller, projectId, 'write');
    await this.groups.stop(projectId, groupId, caller, request.id);
  }

  @Put(':group_id/start')
  @HttpCode(200)
  @UseInterceptors(RequireJsonObjectBody)
  @ApiOperation({
    operationId: 'StartTaskGroup',
    summary: 'Start a paused group again with fresh keys (3 → 2)',
  })
  @ApiGroupPath()
  @ApiBody({ type: StartTaskBody })
  @ApiOkResponse({ description: 'Its tasks wait for a slot; empty body.' })
  @ApiOmsErrors('OMS.0064', 'OMS.0065', 'OMS.0067', TASK_GROUP_NOT_FOUND)
  async start(
    @ProjectId() projectId: string,
    @GroupId() groupId: string,
    @ValidBody() body: StartTaskBody,
    @Caller() caller: Caller,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    this.access.authorize(caller, projectId, 'write');
    await this.groups.start(projectId, groupId, body, caller, request.id);
  }

  @Put(':group_id/retry')
  @HttpCode(200)
  @UseInterceptors(RequireJsonObjectBody)
  @ApiOperation({
    operationId: 'RetryTaskGroup',
    summary: 'Retry a failed group, with fresh keys or the ones its tasks have (4 or 5 → 2)',
  })
  @ApiGroupPath()
  @ApiBody({ type: RetryTaskGroupBody })
  @ApiOkResponse({ description: 'Its failed tasks wait for a slot; empty body.' })
  @ApiOmsErrors('OMS.0064', 'OMS.0065', 'OMS.0067', TASK_GROUP_NOT_FOUND)
  async retry(
    @ProjectId() projectId: string,
    @GroupId() groupId: string,
    @ValidBody() body: RetryTaskGroupBody,
    @Caller() caller: Caller,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    this.access.authorize(caller, projectId, 'write');
    await this.groups.retry(projectId, groupId, body, caller, request.id);
  }

  @Put(':group_id/update')
  @HttpCode(200)
  @UseInterceptors(RequireJsonObjectBody)
  @ApiOperation({
    operationId: 'UpdateTaskGroup',
    summary: "Replace the bandwidth policy of the group's unfinished tasks",
  })
  @ApiGroupPath()
  @ApiBody({ type: BandwidthPolicyBody })
  @ApiOkResponse({ description: 'Replaced; empty body.' })
  @ApiOmsErrors('OMS.0064', 'OMS.0067', 'OMS.0070', TASK_GROUP_NOT_FOUND)
  async update(
    @ProjectId() projectId: string,
    @GroupId() groupId: string,
    @ValidBody() body: BandwidthPolicyBody,
    @Caller() caller: Caller,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    this.access.authorize(caller, projectId, 'write');
    await this.groups.update(projectId, groupId, body.bandwidth_policy, caller, request.id);
  }

  @Delete(':group_id')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'DeleteTaskGroup',
    summary: 'Delete a group and its tasks (refused while 1, 2 or 7)',
  })
  @ApiGroupPath()
  @ApiOkResponse({ description: 'Deleted; empty body.' })
  @ApiOmsErrors('OMS.0063', 'OMS.0064', TASK_GROUP_NOT_FOUND)
  async delete(
    @ProjectId() projectId: string,
    @GroupId() groupId: string,
    @Caller() caller: Caller,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    this.access.authorize(caller, projectId, 'write');
    await this.groups.delete(projectId, groupId, caller, request.id);
  }
}
