// Path and query parameters of the task routes (a failure becomes 400
// OMS.0064). Query values arrive as strings and are checked as strings by
// ValidQuery (common/validation.ts): "0x10", "1e1" or " 5" are not numbers a
// client meant, so they are refused rather than converted.

import { applyDecorators, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ApiParam, ApiPropertyOptional } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { IsOptional, IsString, Length, Matches } from 'class-validator';
import { InvalidParameter, TaskNotFound } from '../common/oms-errors.js';
import { MAX_TASK_ID } from './task.entity.js';

export const MAX_PATH_PARAMETER_LENGTH = 1024;

/**
 * A path parameter, within its bounds: 1 to 1,024 characters. Checked as
 * Nest extracts it, not by a pipe: a parameter with any pipe on it (a global
 * one included) is awaited on every request, and pipes with class-validator
 * took about 15 % of the CPU of a refused stop under load (BENCHMARKS.md).
 */
const PathParameter = createParamDecorator((name: string, context: ExecutionContext): string => {
  const params = context.switchToHttp().getRequest<FastifyRequest>().params as Record<
    string,
    string | undefined
  >;
  const value = params[name] ?? '';
  if (value.length < 1 || value.length > MAX_PATH_PARAMETER_LENGTH) {
    throw new InvalidParameter(
      `${name} must be 1 to ${MAX_PATH_PARAMETER_LENGTH} characters long.`,
    );
  }
  return value;
});

/** The route's {project_id}, within bounds. */
export const ProjectId = () => PathParameter('project_id');

/** The route's {task_id}, within bounds (whether it names a task is the service's business). */
export const TaskId = () => PathParameter('task_id');

/** The route's {group_id} (task groups), within bounds. */
export const GroupId = () => PathParameter('group_id');
/** The route's {sync_task_id}, within bounds (sync-tasks/). */
export const SyncTaskId = () => PathParameter('sync_task_id');

/** The route's {worker_id} (worker/), within bounds. */
export const WorkerId = () => PathParameter('worker_id');
/** The route's {lease_id} (worker/), within bounds. */
export const LeaseId = () => PathParameter('lease_id');

/** OpenAPI for a route under /v2/{project_id}/sync-tasks/{sync_task_id}. */
export const ApiSyncTaskPath = () =>
  applyDecorators(
    ApiProjectPath(),
    pathParameterDoc('sync_task_id', 'A sync task id (as create issued it).'),
  );

export const pathParameterDoc = (name: string, description: string) =>
  ApiParam({
    name,
    description,
    schema: { minLength: 1, maxLength: MAX_PATH_PARAMETER_LENGTH, type: 'string' },
  });

/** OpenAPI for a route under /v2/{project_id}/tasks. */
export const ApiProjectPath = () => pathParameterDoc('project_id', 'The project, as in the token.');

/** OpenAPI for a route under /v2/{project_id}/tasks/{task_id}. */
export const ApiTaskPath = () =>
  applyDecorators(ApiProjectPath(), pathParameterDoc('task_id', 'A task id (digits).'));

/** OpenAPI for a route under /v2/{project_id}/taskgroups/{group_id}. */
export const ApiGroupPath = () =>
  applyDecorators(ApiProjectPath(), pathParameterDoc('group_id', 'A task group id (a UUID).'));

export const MAX_LIST_LIMIT = 100;
export const MAX_LIST_OFFSET = 1_000_000_000;

/** limit and offset, as every paged read of the task API takes them. */
export class PageQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_LIST_LIMIT, default: 10 })
  @IsOptional()
  @IsString()
  @Matches(/^(100|[1-9][0-9]?)$/, { message: 'limit must be an integer from 1 to 100' })
  limit?: string;

  @ApiPropertyOptional({ minimum: 0, maximum: MAX_LIST_OFFSET, default: 0 })
  @IsOptional()
  @IsString()
  @Matches(/^(0|[1-9][0-9]{0,8}|1000000000)$/, {
    message: `offset must be an integer from 0 to ${MAX_LIST_OFFSET}`,
  })
  offset?: string;
}

/** The page as numbers, the defaults filled in. */
export function pageOf(query: PageQuery): { limit: number; offset: number } {
  return { limit: Number(query.limit ?? 10), offset: Number(query.offset ?? 0) };
}

export class ListTasksQuery extends PageQuery {
  @ApiPropertyOptional({ enum: [1, 2, 3, 4, 5, 6, 7] })
  @IsOptional()
  @IsString()
  @Matches(/^[1-7]$/, { message: 'status must be an integer from 1 to 7' })
  status?: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: 100 })
  @IsOptional()
  @IsString()
  @Length(1, 100, { message: 'group_id must be 1 to 100 characters' })
  group_id?: string;
}

const TASK_ID_SHAPE = /^[1-9][0-9]{0,14}$/;

/**
 * A task id as the database knows it. Anything that cannot be one of our ids
 * (not canonical digits, above MAX_TASK_ID) is simply not found, as in OMS.
 */
export function parseTaskId(text: string): string {
  if (!TASK_ID_SHAPE.test(text) || Number(text) > MAX_TASK_ID) throw new TaskNotFound();
  return text;
}
