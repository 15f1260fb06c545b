// The data plane's protocol (docs/worker-protocol.md): lease, heartbeat,
// outcome. Beyond OMS: no official client calls these; workers do. Each
// route is for the worker role only (WorkerRoleGuard), checked before the
// body is read.

import {
  applyDecorators,
  Controller,
  HttpCode,
  Post,
  Req,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { RequireJsonObjectBody } from '../common/json-body.js';
import { InvalidParameter } from '../common/oms-errors.js';
import { ValidBody } from '../common/validation.js';
import { Caller } from '../iam/caller.js';
import { ApiOmsErrors } from '../openapi/api-oms-errors.js';
import { LeaseId, pathParameterDoc, WorkerId } from '../tasks/task.params.js';
import { LeaseRequestBody, OutcomeBody, ProgressBody } from './worker.bodies.js';
import { WorkerRoleGuard } from './worker-role.guard.js';
import { WorkerService } from './worker.service.js';
import { HeartbeatAnswer, LeaseList, OutcomeAnswer } from './worker-view.js';

/** A worker names itself: 1 to 128 letters, digits and . _ : - (it is kept with each lease). */
const WORKER_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const LEASE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function checked(name: string, value: string, format: RegExp, what: string): string {
  if (!format.test(value)) throw new InvalidParameter(`${name} must be ${what}.`);
  return value;
}

const ApiWorkerPath = () =>
  pathParameterDoc('worker_id', "The worker's own name: 1 to 128 of A-Z a-z 0-9 . _ : -");
const ApiLeasePath = () =>
  applyDecorators(ApiWorkerPath(), pathParameterDoc('lease_id', 'A lease id (a UUID).'));

@ApiTags('data plane (beyond OMS)')
@ApiSecurity('X-Auth-Token')
@Controller('v2/workers/:worker_id/leases')
@UseGuards(WorkerRoleGuard)
export class WorkerController {
  constructor(private readonly workers: WorkerService) {}

  @Post()
  @HttpCode(200)
  @UseInterceptors(RequireJsonObjectBody)
  @ApiOperation({
    operationId: 'LeaseTasks',
    summary: 'Lease migrating tasks no worker holds (worker role only)',
  })
  @ApiWorkerPath()
  @ApiBody({ type: LeaseRequestBody })
  @ApiOkResponse({ type: LeaseList })
  @ApiOmsErrors('OMS.0064', 'OMS.0067')
  async lease(
    @WorkerId() workerId: string,
    @ValidBody() body: LeaseRequestBody,
    @Caller() caller: Caller,
    @Req() request: FastifyRequest,
  ): Promise<LeaseList> {
    return this.workers.lease(workerIdOf(workerId), body, caller, request.id);
  }

  @Post(':lease_id/heartbeat')
  @HttpCode(200)
  @UseInterceptors(RequireJsonObjectBody)
  @ApiOperation({
    operationId: 'LeaseHeartbeat',
    summary: 'Renew a lease, report progress; answers continue, pause or abort',
  })
  @ApiLeasePath()
  @ApiBody({ type: ProgressBody })
  @ApiOkResponse({ type: HeartbeatAnswer })
  @ApiOmsErrors('OMS.0064', 'OMS.0067')
  async heartbeat(
    @WorkerId() workerId: string,
    @LeaseId() leaseId: string,
    @ValidBody() body: ProgressBody,
  ): Promise<HeartbeatAnswer> {
    return this.workers.heartbeat(workerIdOf(workerId), leaseIdOf(leaseId), body);
  }

  @Post(':lease_id/outcome')
  @HttpCode(200)
  @UseInterceptors(RequireJsonObjectBody)
  @ApiOperation({
    operationId: 'LeaseOutcome',
    summary: 'Report paused, succeeded, failed, retrying or resumed, under the lease',
  })
  @ApiLeasePath()
  @ApiBody({ type: OutcomeBody })
  @ApiOkResponse({ type: OutcomeAnswer })
  @ApiOmsErrors('OMS.0064', 'OMS.0065', 'OMS.0066', 'OMS.0067')
  async outcome(
    @WorkerId() workerId: string,
    @LeaseId() leaseId: string,
    @ValidBody() body: OutcomeBody,
    @Caller() caller: Caller,
    @Req() request: FastifyRequest,
  ): Promise<OutcomeAnswer> {
    return this.workers.report(workerIdOf(workerId), leaseIdOf(leaseId), body, caller, request.id);
  }
}

const workerIdOf = (value: string) =>
  checked('worker_id', value, WORKER_ID, '1 to 128 of A-Z a-z 0-9 . _ : -');
const leaseIdOf = (value: string) =>
  checked('lease_id', value, LEASE_ID, 'a lease id (a UUID)').toLowerCase();
