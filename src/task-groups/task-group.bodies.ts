// The create body of a task group (CreateTaskGroupReq in the official SDKs).
// Start and retry take the task's StartTaskBody (StartTaskGroupReq and
// RetryTaskGroupReq carry the same keys), update the task's
// BandwidthPolicyBody. Unknown fields are dropped, as for tasks (smn_config
// and source_cdn among them: this service sends no notifications and reads
// no CDN).

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
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
  MAX_SECURITY_TOKEN_LENGTH,
} from '../tasks/task.bodies.js';
import { GROUP_TASK_TYPES, type GroupTaskType } from './task-group.entity.js';

/** How many prefixes a PREFIX group may name: one task each. */
export const MAX_GROUP_PREFIXES = 1000;

export class GroupListFileBody {
  @ApiProperty({ minLength: 1, maxLength: 1024 })
  @IsString()
  @Length(1, 1024)
  list_file_key: string;

  @ApiProperty({ minLength: 1, maxLength: 1024 })
  @IsString()
  @Length(1, 1024)
  obs_bucket: string;

  @ApiPropertyOptional({ description: 'How many list files (a string of digits).' })
  @IsOptional()
  @IsString()
  @Matches(/^[0-9]{1,9}$/, { message: 'list_file_num must be digits' })
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
}

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
