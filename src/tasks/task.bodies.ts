// Request bodies of create, start and bandwidth-policy, validated field by
// field by ValidBody (common/validation.ts; a failure is 400 OMS.0064 naming the
// field). Unknown fields are dropped, as OMS's newer fields may be sent by
// newer clients. Rules that span fields (task type against object_key and
// list_file, bandwidth periods that must not overlap) live in
// task-body-rules.ts, checked by the service.

import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import {
  MAX_TASK_ID,
  SMN_LANGUAGES,
  type SmnConfig,
  SMN_TRIGGER_CONDITIONS,
  TASK_PRIORITIES,
  TASK_TYPES,
  type SmnLanguage,
  type SmnTriggerCondition,
  type TaskPriorityName,
  type TaskType,
} from './task.entity.js';

export const MIN_BANDWIDTH = 1_048_576;
export const MAX_BANDWIDTH = 209_715_200;
export const MAX_BANDWIDTH_PERIODS = 5;
export const MAX_SECURITY_TOKEN_LENGTH = 16_384;
const HH_MM = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;

/** Keys and tokens: never shown in examples with real-looking values. */
const secret = (description: string) => ({
  description,
  writeOnly: true,
  minLength: 1,
  maxLength: 100,
});

/** A required field holding one object of `type`, validated field by field. */
export function RequiredNested(type: new () => object) {
  return applyDecorators(
    ApiProperty({ type }),
    IsDefined(),
    IsObject(),
    ValidateNested(),
    Type(() => type),
  );
}

export class BandwidthPeriodBody {
  @ApiProperty({ example: '00:00', description: 'Start of the period, hh:mm (UTC+8 in OMS).' })
  @IsString()
  @Matches(HH_MM, { message: 'bandwidth_policy start must be hh:mm' })
  start: string;

  @ApiProperty({
    example: '08:00',
    description: 'End of the period, hh:mm; before start wraps past midnight.',
  })
  @IsString()
  @Matches(HH_MM, { message: 'bandwidth_policy end must be hh:mm' })
  end: string;

  @ApiProperty({
    minimum: MIN_BANDWIDTH,
    maximum: MAX_BANDWIDTH,
    example: 20_971_520,
    description: 'Bytes per second.',
  })
  @IsInt({ message: 'bandwidth_policy max_bandwidth must be an integer' })
  @Min(MIN_BANDWIDTH, {
    message: `bandwidth_policy max_bandwidth must be at least ${MIN_BANDWIDTH}`,
  })
  @Max(MAX_BANDWIDTH, {
    message: `bandwidth_policy max_bandwidth must be at most ${MAX_BANDWIDTH}`,
  })
  max_bandwidth: number;
}

export class ListFileBody {
  @ApiProperty({ minLength: 1, maxLength: 1024 })
  @IsString()
  @Length(1, 1024)
  list_file_key: string;

  @ApiProperty({ minLength: 1, maxLength: 1024 })
  @IsString()
  @Length(1, 1024)
  obs_bucket: string;
}

/** What both ends of a migration give: where the bucket is, and the keys to it. */
class BucketAccessBody {
  @ApiProperty({ example: 'cn-north-4', minLength: 1, maxLength: 100 })
  @IsString()
  @Length(1, 100)
  region: string;

  @ApiProperty({ minLength: 1, maxLength: 1024, example: 'my-bucket' })
  @IsString()
  @Length(1, 1024)
  bucket: string;

  @ApiProperty(secret('Access key for the bucket.'))
  @IsString()
  @Length(1, 100)
  ak: string;

  @ApiProperty(secret('Secret key for the bucket.'))
  @IsString()
  @Length(1, 100)
  sk: string;

  @ApiPropertyOptional({ writeOnly: true, maxLength: MAX_SECURITY_TOKEN_LENGTH })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_SECURITY_TOKEN_LENGTH)
  security_token?: string;
}

export class SourceNodeBody extends BucketAccessBody {
  @ApiProperty({ example: 'Aliyun', minLength: 1, maxLength: 100 })
  @IsString()
  @Length(1, 100)
  cloud_type: string;

  @ApiPropertyOptional({ maxLength: 255 })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  app_id?: string;

  @ApiPropertyOptional({
    type: [String],
    description: 'Objects or prefixes to migrate; required for task_type object and prefix.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @Length(1, 1024, { each: true })
  object_key?: string[];

  @ApiPropertyOptional({
    type: ListFileBody,
    description: 'Required for task_type list and url_list.',
  })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ListFileBody)
  list_file?: ListFileBody;
}

export class DestinationNodeBody extends BucketAccessBody {
  @ApiPropertyOptional({ maxLength: 1024 })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  save_prefix?: string;
}

/**
 * What a migration does besides moving objects: the fields a task and a task
 * group take alike (the official models repeat them), bounded alike.
 */
export class MigrationOptionsBody {
  @ApiPropertyOptional({ maxLength: 255 })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  description?: string;

  @ApiPropertyOptional({
    description: 'Only objects changed since then (Unix seconds).',
    minimum: 0,
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(32_503_680_000) // year 3000: anything larger is a unit mistake (ms for s)
  migrate_since?: number;

  @ApiPropertyOptional({ type: [BandwidthPeriodBody], maxItems: MAX_BANDWIDTH_PERIODS })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_BANDWIDTH_PERIODS)
  @ValidateNested({ each: true })
  @Type(() => BandwidthPeriodBody)
  bandwidth_policy?: BandwidthPeriodBody[];

  @ApiPropertyOptional() @IsOptional() @IsBoolean() enable_kms?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() enable_restore?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() enable_metadata_migration?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() enable_failed_object_recording?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() enable_requester_pays?: boolean;

  @ApiPropertyOptional({
    enum: [
      'NO_OVERWRITE',
      'SIZE_LAST_MODIFIED_COMPARISON_OVERWRITE',
      'CRC64_COMPARISON_OVERWRITE',
      'FULL_OVERWRITE',
    ],
  })
  @IsOptional()
  @IsIn([
    'NO_OVERWRITE',
    'SIZE_LAST_MODIFIED_COMPARISON_OVERWRITE',
    'CRC64_COMPARISON_OVERWRITE',
    'FULL_OVERWRITE',
  ])
  object_overwrite_mode?: string;

  @ApiPropertyOptional({
    enum: ['STANDARD', 'IA', 'ARCHIVE', 'DEEP_ARCHIVE', 'SRC_STORAGE_MAPPING'],
  })
  @IsOptional()
  @IsIn(['STANDARD', 'IA', 'ARCHIVE', 'DEEP_ARCHIVE', 'SRC_STORAGE_MAPPING'])
  dst_storage_policy?: string;

  @ApiPropertyOptional({ enum: ['size_last_modified', 'crc64', 'no_check'] })
  @IsOptional()
  @IsIn(['size_last_modified', 'crc64', 'no_check'])
  consistency_check?: string;
}

/**
 * An SMN topic's URN, urn:smn:<region>:<project id>:<topic name>, with the
 * topic name as SMN bounds it: 1 to 255 letters, digits, hyphens and
 * underscores, a letter or digit first. The name is what smn_info answers.
 */
const SMN_TOPIC_URN =
  /^urn:smn:[a-z0-9-]{1,64}:[A-Za-z0-9_-]{1,128}:[A-Za-z0-9][A-Za-z0-9_-]{0,254}$/;

/** smn_config on create (the official SDKs' SmnConfig): notify a topic when the task ends. */
export class SmnConfigBody {
  @ApiProperty({
    example: 'urn:smn:cn-north-4:0a1b2c3d4e5f60718293a4b5c6d7e8f9:oms-migrations',
    pattern: SMN_TOPIC_URN.source,
    description: 'The SMN topic to notify.',
  })
  @IsString({ message: 'smn_config topic_urn must be a string' })
  @Matches(SMN_TOPIC_URN, {
    message: 'smn_config topic_urn must be urn:smn:<region>:<project id>:<topic name>',
  })
  topic_urn: string;

  @ApiProperty({
    type: 'array',
    items: { type: 'string', enum: [...SMN_TRIGGER_CONDITIONS] },
    minItems: 1,
    maxItems: SMN_TRIGGER_CONDITIONS.length,
    uniqueItems: true,
    description: 'Notify when the task succeeds, fails, or both.',
  })
  @IsArray({ message: 'smn_config trigger_conditions must be an array' })
  @ArrayMinSize(1, { message: 'smn_config trigger_conditions must name SUCCESS, FAILURE or both' })
  @ArrayMaxSize(SMN_TRIGGER_CONDITIONS.length, {
    message: 'smn_config trigger_conditions must name SUCCESS, FAILURE or both',
  })
  @ArrayUnique({ message: 'smn_config trigger_conditions must not repeat a condition' })
  @IsIn(SMN_TRIGGER_CONDITIONS, {
    each: true,
    message: 'smn_config trigger_conditions may hold only SUCCESS and FAILURE',
  })
  trigger_conditions: SmnTriggerCondition[];

  @ApiPropertyOptional({ enum: SMN_LANGUAGES, default: 'en-us' })
  @IsOptional()
  @IsIn(SMN_LANGUAGES, { message: 'smn_config language must be zh-cn or en-us' })
  language?: SmnLanguage;
}

/**
 * smn_config as tasks keep it (options.smn_config, read by the event relay),
 * for a task's create and a group's alike; the language defaults to en-us
 * (ours, as Terraform's provider falls back to it).
 */
export function storedSmnConfig(body: SmnConfigBody): SmnConfig {
  return {
    topic_urn: body.topic_urn,
    trigger_conditions: [...body.trigger_conditions],
    language: body.language ?? 'en-us',
  };
}

export class CreateTaskBody extends MigrationOptionsBody {
  @RequiredNested(SourceNodeBody)
  src_node: SourceNodeBody;

  @RequiredNested(DestinationNodeBody)
  dst_node: DestinationNodeBody;

  @ApiPropertyOptional({ enum: TASK_TYPES, default: 'object' })
  @IsOptional()
  @IsIn(TASK_TYPES)
  task_type?: TaskType;

  @ApiPropertyOptional({ enum: Object.keys(TASK_PRIORITIES), default: 'MEDIUM' })
  @IsOptional()
  @IsIn(Object.keys(TASK_PRIORITIES))
  task_priority?: TaskPriorityName;

  @ApiPropertyOptional({
    type: SmnConfigBody,
    description: 'Publish a notification to this topic when the task succeeds or fails.',
  })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => SmnConfigBody)
  smn_config?: SmnConfigBody;
}

export class StartTaskBody {
  @ApiProperty(secret('Access key of the destination.'))
  @IsString()
  @Length(1, 100)
  dst_ak: string;

  @ApiProperty(secret('Secret key of the destination.'))
  @IsString()
  @Length(1, 100)
  dst_sk: string;

  @ApiPropertyOptional({
    ...secret('Access key of the source; required unless task_type is url_list.'),
  })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  src_ak?: string;

  @ApiPropertyOptional({
    ...secret('Secret key of the source; required unless task_type is url_list.'),
  })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  src_sk?: string;

  @ApiPropertyOptional({ writeOnly: true, maxLength: MAX_SECURITY_TOKEN_LENGTH })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_SECURITY_TOKEN_LENGTH)
  src_security_token?: string;

  @ApiPropertyOptional({ writeOnly: true, maxLength: MAX_SECURITY_TOKEN_LENGTH })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_SECURITY_TOKEN_LENGTH)
  dst_security_token?: string;

  @ApiPropertyOptional({ writeOnly: true, maxLength: 255 })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  source_cdn_authentication_key?: string;

  @ApiPropertyOptional({ description: 'Migrate only the objects that failed last time.' })
  @IsOptional()
  @IsBoolean()
  migrate_failed_object?: boolean;
}

export class BandwidthPolicyBody {
  @ApiProperty({ type: [BandwidthPeriodBody], maxItems: MAX_BANDWIDTH_PERIODS })
  @IsDefined()
  @IsArray()
  @ArrayMaxSize(MAX_BANDWIDTH_PERIODS)
  @ValidateNested({ each: true })
  @Type(() => BandwidthPeriodBody)
  bandwidth_policy: BandwidthPeriodBody[];
}

/** How many ids one batch update may name (OMS documents no bound; ours). */
export const MAX_BATCH_TASK_IDS = 100;

/**
 * POST tasks/batch-update (the official SDKs' BatchUpdateTasksReq): exactly
 * one of ids and group_id (checked by the service, which says which), and
 * the bandwidth policy as for one task.
 */
export class BatchUpdateTasksBody extends BandwidthPolicyBody {
  @ApiPropertyOptional({
    type: 'array',
    items: { type: 'integer', format: 'int64', minimum: 1, maximum: MAX_TASK_ID },
    minItems: 1,
    maxItems: MAX_BATCH_TASK_IDS,
    description: 'The tasks to update. Exactly one of ids and group_id.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCH_TASK_IDS)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(MAX_TASK_ID, { each: true })
  ids?: number[];

  @ApiPropertyOptional({
    minLength: 1,
    maxLength: 1024,
    description: 'Every task of this group. Exactly one of ids and group_id.',
  })
  @IsOptional()
  @IsString()
  @Length(1, 1024)
  group_id?: string;

  @ApiPropertyOptional({
    enum: Object.keys(TASK_PRIORITIES),
    description: 'Only for tasks waiting, paused or failed.',
  })
  @IsOptional()
  @IsIn(Object.keys(TASK_PRIORITIES))
  task_priority?: TaskPriorityName;
}
