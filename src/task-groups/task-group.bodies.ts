// The create body of a task group (CreateTaskGroupReq in the official SDKs),
// with its SmnConfig and SourceCdnReq (the sync tasks' SourceCdnBody).
// Start takes the task's StartTaskBody (StartTaskGroupReq requires dst_ak
// and dst_sk, as it does); retry the same keys, none of them required
// (RetryTaskGroupReq marks none), update the task's BandwidthPolicyBody.
// Unknown fields are dropped, as for tasks.

import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import {
  MigrationOptionsBody,
  RequiredNested,
  DestinationNodeBody,
  SmnConfigBody,
  MAX_SECURITY_TOKEN_LENGTH,
  StartTaskBody,
} from '../tasks/task.bodies.js';
import { SourceCdnBody } from '../sync-tasks/sync-task.bodies.js';
import { GROUP_TASK_TYPES, type GroupTaskType } from './task-group.entity.js';

/** How many prefixes a PREFIX group may name: one task each. */
export const MAX_GROUP_PREFIXES = 1000;

/**
 * How many list files a LIST / URL_LIST group may name (list_file_num): one
 * task each. OMS keeps at most 2,000 list files in a group's folder.
 */
export const MAX_GROUP_LIST_FILES = 2000;

export class GroupListFileBody {
  @ApiProperty({ minLength: 1, maxLength: 1024 })
  @IsString()
  @Length(1, 1024)
  list_file_key: string;

  @ApiProperty({ minLength: 1, maxLength: 1024 })
  @IsString()
  @Length(1, 1024)
  obs_bucket: string;

  @ApiPropertyOptional({
    description:
      `How many list files the folder list_file_key holds (digits, 1 to ${MAX_GROUP_LIST_FILES}): ` +
      'the group creates one task per file, task i reading <list_file_key>/<i>.txt. ' +
      'Without it, list_file_key is the one list file.',
  })
  @IsOptional()
  @IsString()
  @Matches(/^(?:[1-9][0-9]{0,2}|1[0-9]{3}|2000)$/, {
    message: `list_file_num must be an integer from 1 to ${MAX_GROUP_LIST_FILES}, as a string`,
  })
  list_file_num?: string;
}

export class GroupSourceNodeBody {
  @ApiPropertyOptional({
    example: 'Aliyun',
    default: 'Aliyun',
    description: 'URLSource for URL_LIST.',
  })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  cloud_type?: string;

  @ApiPropertyOptional({ example: 'cn-hangzhou', maxLength: 100 })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  region?: string;

  @ApiPropertyOptional({ writeOnly: true, minLength: 1, maxLength: 100 })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  ak?: string;

  @ApiPropertyOptional({ writeOnly: true, minLength: 1, maxLength: 100 })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  sk?: string;

  @ApiPropertyOptional({ writeOnly: true, maxLength: MAX_SECURITY_TOKEN_LENGTH })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_SECURITY_TOKEN_LENGTH)
  security_token?: string;

  @ApiPropertyOptional({ maxLength: 255 })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  app_id?: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: 1024 })
  @IsOptional()
  @IsString()
  @Length(1, 1024)
  bucket?: string;

  @ApiPropertyOptional({
    type: [String],
    maxItems: MAX_GROUP_PREFIXES,
    description: 'Prefixes for PREFIX (one task each); [""] is the whole bucket.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_GROUP_PREFIXES)
  @IsString({ each: true })
  @MaxLength(1024, { each: true })
  object_key?: string[];

  @ApiPropertyOptional({ type: GroupListFileBody, description: 'Required for LIST and URL_LIST.' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => GroupListFileBody)
  list_file?: GroupListFileBody;
}

export class CreateTaskGroupBody extends MigrationOptionsBody {
  @RequiredNested(GroupSourceNodeBody)
  src_node: GroupSourceNodeBody;

  @RequiredNested(DestinationNodeBody)
  dst_node: DestinationNodeBody;

  @ApiPropertyOptional({ enum: GROUP_TASK_TYPES, default: 'PREFIX' })
  @IsOptional()
  @IsIn(GROUP_TASK_TYPES)
  task_type?: GroupTaskType;

  @ApiPropertyOptional({ type: SmnConfigBody, description: 'Copied to each task of the group.' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => SmnConfigBody)
  smn_config?: SmnConfigBody;

  @ApiPropertyOptional({
    type: SourceCdnBody,
    description: 'Read the source through this CDN; its key is sealed with the other secrets.',
  })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => SourceCdnBody)
  source_cdn?: SourceCdnBody;
}

/** RetryTaskGroupReq: the start keys, none required; the keys not given stay as they were. */
export class RetryTaskGroupBody extends PartialType(StartTaskBody) {}

export class ListTaskGroupsQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 10 })
  @IsOptional()
  @IsString()
  @Matches(/^(100|[1-9][0-9]?)$/, { message: 'limit must be an integer from 1 to 100' })
  limit?: string;

  @ApiPropertyOptional({ minimum: 0, maximum: 1_000_000_000, default: 0 })
  @IsOptional()
  @IsString()
  @Matches(/^(0|[1-9][0-9]{0,8}|1000000000)$/, {
    message: 'offset must be an integer from 0 to 1000000000',
  })
  offset?: string;

  @ApiPropertyOptional({ enum: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] })
  @IsOptional()
  @IsString()
  @Matches(/^[0-9]$/, { message: 'status must be an integer from 0 to 9' })
  status?: string;
}
