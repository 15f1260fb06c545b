// Path and query parameters of the task routes, validated by the global
// ValidationPipe (a failure becomes 400 OMS.0064). Query values arrive as
// strings and are checked as strings: "0x10", "1e1" or " 5" are not numbers
// a client meant, so they are refused rather than converted.

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length, Matches } from 'class-validator';
import { TaskNotFound } from '../common/oms-errors.js';
import { MAX_TASK_ID } from './task.entity.js';

export class ProjectPath {
  @ApiProperty({ minLength: 1, maxLength: 1024, description: 'The project, as in the token.' })
  @Length(1, 1024)
  project_id: string;
}

export class TaskPath extends ProjectPath {
  @ApiProperty({ minLength: 1, maxLength: 1024, description: 'A task id (digits).' })
  @Length(1, 1024)
  task_id: string;
}

export const MAX_LIST_LIMIT = 100;
export const MAX_LIST_OFFSET = 1_000_000_000;

export class ListTasksQuery {
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
