// The OMS sync-task routes. As for tasks: each handler authorizes the caller
// for its project after the pipes (a malformed parameter is a 400 before
// any 403) and hands over to SyncTasksService. A missing sync task, or
// another project's through one's own path, is 404 OMS.1009.

import { Controller, Delete, Get, HttpCode, Post, Req, UseInterceptors } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { RequireJsonObjectBody } from '../common/json-body.js';
import { ValidBody, ValidQuery } from '../common/validation.js';
import { AccessPolicy } from '../iam/access-policy.js';
import { Caller } from '../iam/caller.js';
import { ApiOmsErrors, SYNC_TASK_NOT_FOUND } from '../openapi/api-oms-errors.js';
import { ApiProjectPath, ApiSyncTaskPath, ProjectId, SyncTaskId } from '../tasks/task.params.js';
import {
  CreateSyncTaskBody,
  ListSyncTasksQuery,
  ShowSyncTaskQuery,
  StartSyncTaskBody,
  SyncEventsBody,
  SyncTaskStatisticsQuery,
} from './sync-task.bodies.js';
import {
  CreatedSyncTask,
  SyncTaskList,
  SyncTaskObject,
  SyncTaskStatistics,
} from './sync-task-view.js';
import {
  CREATE_SYNC_TASK_EXAMPLES,
  START_SYNC_TASK_EXAMPLES,
  SYNC_EVENTS_EXAMPLES,
} from './sync-task.examples.js';
import { SyncTasksService } from './sync-tasks.service.js';

@ApiTags('sync-tasks')
@ApiSecurity('X-Auth-Token')
@Controller('v2/:project_id/sync-tasks')
export class SyncTasksController {
  constructor(
    private readonly syncTasks: SyncTasksService,
    private readonly access: AccessPolicy,
  ) {}

  @Post()
  @HttpCode(200)
  @UseInterceptors(RequireJsonObjectBody)
  @ApiOperation({ operationId: 'CreateSyncTask', summary: 'Create a sync task; it starts at once' })
  @ApiProjectPath()
  @ApiBody({ type: CreateSyncTaskBody, examples: CREATE_SYNC_TASK_EXAMPLES })
  @ApiOkResponse({ type: CreatedSyncTask })
  @ApiOmsErrors('OMS.0064', 'OMS.0067')
  async create(
    @ProjectId() projectId: string,
    @ValidBody() body: CreateSyncTaskBody,
    @Caller() caller: Caller,
    @Req() request: FastifyRequest,
  ): Promise<CreatedSyncTask> {
    this.access.authorize(caller, projectId, 'write');
    return this.syncTasks.create(projectId, body, caller, request.id);
  }

  @Get()
  @ApiOperation({ operationId: 'ListSyncTasks', summary: 'List sync tasks, oldest first' })
  @ApiProjectPath()
  @ApiOkResponse({ type: SyncTaskList })
  @ApiOmsErrors('OMS.0064')
  async list(
    @ProjectId() projectId: string,
    @ValidQuery() query: ListSyncTasksQuery,
    @Caller() caller: Caller,
  ): Promise<SyncTaskList> {
    this.access.authorize(caller, projectId, 'read');
    return this.syncTasks.list(projectId, query);
  }

  @Get(':sync_task_id')
  @ApiOperation({
    operationId: 'ShowSyncTask',
    summary: 'Show one sync task (query_time required)',
  })
  @ApiSyncTaskPath()
  @ApiOkResponse({ type: SyncTaskObject })
  @ApiOmsErrors('OMS.0064', SYNC_TASK_NOT_FOUND)
  async show(
    @ProjectId() projectId: string,
    @SyncTaskId() syncTaskId: string,
    @ValidQuery() _query: ShowSyncTaskQuery,
    @Caller() caller: Caller,
  ): Promise<SyncTaskObject> {
    this.access.authorize(caller, projectId, 'read');
    return this.syncTasks.show(projectId, syncTaskId);
  }

  /** Any request body is ignored. */
  @Post(':sync_task_id/stop')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'StopSyncTask',
    summary: 'Stop a sync task (SYNCHRONIZING → STOPPED)',
  })
  @ApiSyncTaskPath()
  @ApiOkResponse({ description: 'Stopped; empty body.' })
  @ApiOmsErrors('OMS.0064', 'OMS.0066', SYNC_TASK_NOT_FOUND)
  async stop(
    @ProjectId() projectId: string,
    @SyncTaskId() syncTaskId: string,
    @Caller() caller: Caller,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    this.access.authorize(caller, projectId, 'write');
    await this.syncTasks.stop(projectId, syncTaskId, caller, request.id);
  }

  @Post(':sync_task_id/start')
  @HttpCode(200)
  @UseInterceptors(RequireJsonObjectBody)
  @ApiOperation({ operationId: 'StartSyncTask', summary: 'Start a stopped sync task again' })
  @ApiSyncTaskPath()
  @ApiBody({ type: StartSyncTaskBody, examples: START_SYNC_TASK_EXAMPLES })
  @ApiOkResponse({ description: 'Synchronizing; empty body.' })
  @ApiOmsErrors('OMS.0064', 'OMS.0065', 'OMS.0067', SYNC_TASK_NOT_FOUND)
  async start(
    @ProjectId() projectId: string,
    @SyncTaskId() syncTaskId: string,
    @ValidBody() body: StartSyncTaskBody,
    @Caller() caller: Caller,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    this.access.authorize(caller, projectId, 'write');
    await this.syncTasks.start(projectId, syncTaskId, body, caller, request.id);
  }

  @Delete(':sync_task_id')
  @HttpCode(200)
  @ApiOperation({ operationId: 'DeleteSyncTask', summary: 'Delete a stopped sync task' })
  @ApiSyncTaskPath()
  @ApiOkResponse({ description: 'Deleted; empty body.' })
  @ApiOmsErrors('OMS.0063', 'OMS.0064', SYNC_TASK_NOT_FOUND)
  async delete(
    @ProjectId() projectId: string,
    @SyncTaskId() syncTaskId: string,
    @Caller() caller: Caller,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    this.access.authorize(caller, projectId, 'write');
    await this.syncTasks.delete(projectId, syncTaskId, caller, request.id);
  }

  @Get(':sync_task_id/statistics')
  @ApiOperation({
    operationId: 'ListSyncTaskStatistic',
    summary: 'Counts of a sync task over a time range (zero: no data plane)',
  })
  @ApiSyncTaskPath()
  @ApiOkResponse({ type: SyncTaskStatistics })
  @ApiOmsErrors('OMS.0064', SYNC_TASK_NOT_FOUND)
  async statistics(
    @ProjectId() projectId: string,
    @SyncTaskId() syncTaskId: string,
    @ValidQuery() query: SyncTaskStatisticsQuery,
    @Caller() caller: Caller,
  ): Promise<SyncTaskStatistics> {
    this.access.authorize(caller, projectId, 'read');
    return this.syncTasks.statistics(projectId, syncTaskId, query);
  }

  @Post(':sync_task_id/events')
  @HttpCode(200)
  @UseInterceptors(RequireJsonObjectBody)
  @ApiOperation({
    operationId: 'CreateSyncEvents',
    summary: 'Ask for objects to be synchronized (recorded for the data plane)',
  })
  @ApiSyncTaskPath()
  @ApiBody({ type: SyncEventsBody, examples: SYNC_EVENTS_EXAMPLES })
  @ApiOkResponse({ description: 'Recorded; empty body.' })
  @ApiOmsErrors('OMS.0064', 'OMS.0067', SYNC_TASK_NOT_FOUND)
  async events(
    @ProjectId() projectId: string,
    @SyncTaskId() syncTaskId: string,
    @ValidBody() body: SyncEventsBody,
    @Caller() caller: Caller,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    this.access.authorize(caller, projectId, 'write');
    await this.syncTasks.recordEvents(projectId, syncTaskId, body.object_keys, request.id);
  }
}
