// Documents a route's error answers in OpenAPI: the codes the route itself
// can give, plus those every authenticated route can give, each status with
// an example answer per code. The examples' messages are the service's own:
// each is made by the error the service throws for it.

import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiResponse } from '@nestjs/swagger';
import {
  DependencyUnavailable,
  Forbidden,
  InvalidParameter,
  MalformedBody,
  RouteNotFound,
  ResourceGone,
  SyncTaskNotFound,
  TaskFinished,
  TaskNotFound,
  TaskQuotaExceeded,
  Throttled,
  Unauthenticated,
  type OmsErrorCode,
} from '../common/oms-errors.js';
import { HTTP_STATUS, NOT_FOUND_STATUS } from '../common/oms-exception.filter.js';
import { TaskStatus, TaskTransitionRejected } from '../tasks/task-state.js';

export class OmsErrorBodyDoc {
  @ApiProperty({ example: 'OMS.1009' }) error_code: string;
  @ApiProperty({ example: 'No resources found.' }) error_msg: string;
  @ApiProperty({ description: 'Also in the X-Request-Id header.' }) request_id: string;
}

/** What any route behind the guard may answer. */
const EVERY_ROUTE: OmsErrorCode[] = [
  'APIGW.0301',
  'OMS.0206',
  'APIGW.0308',
  'OMS.2000',
  'OMS.2004',
];

/** A representative message for each code, as the service words it. */
const EXAMPLE_MESSAGES: Record<OmsErrorCode, string> = {
  'OMS.0063': new TaskTransitionRejected('delete', TaskStatus.Migrating).message,
  'OMS.0064': new InvalidParameter('X-Auth-Token is longer than 16384 characters.').message,
  'OMS.0065': new TaskTransitionRejected('start', TaskStatus.Migrating).message,
  'OMS.0066': new TaskTransitionRejected('stop', TaskStatus.Paused).message,
  'OMS.0067': new MalformedBody().message,
  'OMS.0070': new TaskFinished('its bandwidth policy can no longer change').message,
  'OMS.0077': new TaskQuotaExceeded('the project holds 100000 tasks').message,
  'OMS.0206': new Forbidden('the caller has no role that may make changes.').message,
  'OMS.1009': new TaskNotFound().message,
  'OMS.2000': 'Internal error. Quote the request id.',
  'OMS.2004': new DependencyUnavailable('database').message,
  'APIGW.0101': new RouteNotFound().message,
  'APIGW.0301': new Unauthenticated('the X-Auth-Token header is missing.').message,
  'APIGW.0308': new Throttled('project', 1).message,
};

const EXAMPLE_REQUEST_ID = '67b1291a-7bee-4239-98c9-2e8e47cb59e6';

function example(code: OmsErrorCode, message = EXAMPLE_MESSAGES[code]) {
  return {
    summary: code,
    value: { error_code: code, error_msg: message, request_id: EXAMPLE_REQUEST_ID },
  };
}

/**
 * A request that takes longer than REQUEST_TIMEOUT_MS to arrive: any route,
 * before it is routed (transport-errors.ts).
 */
const REQUEST_TIMEOUT = ApiResponse({
  status: 408,
  description: 'error_code OMS.0064: the request took too long to arrive',
  type: OmsErrorBodyDoc,
  examples: { 'OMS.0064': example('OMS.0064', 'The request took too long to arrive.') },
});

/**
 * An answer whose status is not its code's in HTTP_STATUS: a missing sync
 * task or task group is 404 OMS.1009 (ResourceGone), where a missing task is
 * 400 OMS.1009.
 */
export interface OmsErrorAnswerDoc {
  readonly code: OmsErrorCode;
  readonly status: number;
  readonly message: string;
}

export const SYNC_TASK_NOT_FOUND: OmsErrorAnswerDoc = {
  code: 'OMS.1009',
  status: NOT_FOUND_STATUS,
  message: new SyncTaskNotFound().message,
};

export const TASK_GROUP_NOT_FOUND: OmsErrorAnswerDoc = {
  code: 'OMS.1009',
  status: NOT_FOUND_STATUS,
  message: new ResourceGone('task group').message,
};

const OTHER_STATUSES: readonly OmsErrorAnswerDoc[] = [SYNC_TASK_NOT_FOUND, TASK_GROUP_NOT_FOUND];

/** Every status the code is answered with somewhere. */
export function statusesOf(code: OmsErrorCode): number[] {
  return [
    HTTP_STATUS[code],
    ...OTHER_STATUSES.filter((answer) => answer.code === code).map((answer) => answer.status),
  ];
}

export function ApiOmsErrors(...codes: (OmsErrorCode | OmsErrorAnswerDoc)[]) {
  const byStatus = new Map<number, { code: OmsErrorCode; message: string }[]>();
  for (const entry of [...codes, ...EVERY_ROUTE]) {
    const { code, status, message } =
      typeof entry === 'string'
        ? { code: entry, status: HTTP_STATUS[entry], message: EXAMPLE_MESSAGES[entry] }
        : entry;
    byStatus.set(status, [...(byStatus.get(status) ?? []), { code, message }]);
  }
  return applyDecorators(
    ...[...byStatus].map(([status, answers]) =>
      ApiResponse({
        status,
        description: `error_code ${answers.map(({ code }) => code).join(', ')}`,
        type: OmsErrorBodyDoc,
        examples: Object.fromEntries(
          answers.map(({ code, message }) => [code, example(code, message)]),
        ),
      }),
    ),
    REQUEST_TIMEOUT,
  );
}
