// Request bodies and query strings of the sync-task routes, field by field
// as the official SDK models name them (CreateSyncTaskReq, StartSyncTaskReq,
// SyncObjectReq, ShowSyncTaskRequest, ListSyncTaskStatisticRequest); a
// failure is 400 OMS.0064 naming the field (common/validation.ts). Unknown
// fields are dropped.

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsOptional,
  IsString,
  Length,
  Matches,
  ValidateNested,
} from 'class-validator';
import { MAX_SECURITY_TOKEN_LENGTH } from '../tasks/task.bodies.js';
import { SYNC_TASK_STATUSES } from './sync-task-state.js';

export const SYNC_SOURCE_CLOUD_TYPES = [
  'AWS',
  'Azure',
  'Aliyun',
  'Tencent',
  'HuaweiCloud',
  'QingCloud',
  'KingsoftCloud',
  'Baidu',
  'Qiniu',
  'UCloud',
] as const;
const CRYPTO_TYPES = ['DEFAULT', 'KMS'] as const;
const STORAGE_POLICIES = ['STANDARD', 'IA', 'ARCHIVE', 'DEEP_ARCHIVE', 'SRC_STORAGE_MAPPING'];
const CONSISTENCY_CHECKS = ['size_last_modified', 'crc64', 'transmission'];
export const MAX_SYNC_EVENT_KEYS = 10;
/** A URL-encoded object key: 1,024 bytes of key, each byte at most "%XX". */
export const MAX_SYNC_EVENT_KEY_LENGTH = 3072;
/** OMS refuses these in a description. */
const PLAIN_TEXT = /^[^<>()"'&]*$/;

const accessKey = (description: string) => ({
  description,
  writeOnly: true,
  minLength: 1,
  maxLength: 100,
});
/**
 * A secret key may be an Azure connection string or a Google JSON key file,
 * far longer than an SK (ours: the security-token bound).
 */
const secretKey = (description: string) => ({
  description: `${description}; also an Azure connection string or a JSON key file`,
  writeOnly: true,
  minLength: 1,
  maxLength: MAX_SECURITY_TOKEN_LENGTH,
});

/** SourceCdnReq's authentication types. */
export const CDN_AUTHENTICATION_TYPES = [
  'NONE',
  'QINIU_PRIVATE_AUTHENTICATION',
  'ALIYUN_OSS_A',
  'ALIYUN_OSS_B',
  'ALIYUN_OSS_C',
  'KSYUN_PRIVATE_AUTHENTICATION',
  'AZURE_SAS_TOKEN',
  'TENCENT_COS_A',
  'TENCENT_COS_B',
  'TENCENT_COS_C',
  'TENCENT_COS_D',
] as const;

/** SourceCdnReq, for sync tasks and task groups alike. */
export class SourceCdnBody {
  @ApiProperty({ minLength: 1, maxLength: 255, example: 'cdn.example.com' })
  @IsString()
  @Length(1, 255, { message: 'source_cdn.domain must be 1 to 255 characters' })
  domain: string;

  @ApiProperty({ enum: ['http', 'https'] })
  @IsIn(['http', 'https'], { message: 'source_cdn.protocol must be http or https' })
  protocol: string;

  @ApiPropertyOptional({ enum: CDN_AUTHENTICATION_TYPES, example: 'NONE' })
  @IsOptional()
  @IsIn(CDN_AUTHENTICATION_TYPES, {
    message: `source_cdn.authentication_type must be one of ${CDN_AUTHENTICATION_TYPES.join(', ')}`,
  })
  authentication_type?: string;

  @ApiPropertyOptional({ description: 'The CDN key (a secret)', writeOnly: true, maxLength: 255 })
  @IsOptional()
  @IsString()
  @Length(1, 255, { message: 'source_cdn.authentication_key must be 1 to 255 characters' })
  authentication_key?: string;
}

/** The keys of both ends, as create and start bring them. */
class SyncTaskKeysBody {
  @ApiProperty(accessKey('Source AK'))
  @IsString()
  @Length(1, 100, { message: 'src_ak must be 1 to 100 characters' })
  src_ak: string;

  @ApiProperty(secretKey('Source SK'))
  @IsString()
  @Length(1, MAX_SECURITY_TOKEN_LENGTH, {
    message: `src_sk must be 1 to ${MAX_SECURITY_TOKEN_LENGTH} characters`,
  })
  src_sk: string;

  @ApiPropertyOptional({ enum: CRYPTO_TYPES })
  @IsOptional()
  @IsIn(CRYPTO_TYPES, { message: 'src_crypto_type must be DEFAULT or KMS' })
  src_crypto_type?: string;

  @ApiPropertyOptional({ maxLength: 64 })
  @IsOptional()
  @IsString()
  @Length(1, 64, { message: 'src_kms_key_id must be 1 to 64 characters' })
  src_kms_key_id?: string;

  @ApiProperty(accessKey('Destination AK'))
  @IsString()
  @Length(1, 100, { message: 'dst_ak must be 1 to 100 characters' })
  dst_ak: string;

  @ApiProperty(secretKey('Destination SK'))
  @IsString()
  @Length(1, MAX_SECURITY_TOKEN_LENGTH, {
    message: `dst_sk must be 1 to ${MAX_SECURITY_TOKEN_LENGTH} characters`,
  })
  dst_sk: string;

  @ApiPropertyOptional({ enum: CRYPTO_TYPES })
  @IsOptional()
  @IsIn(CRYPTO_TYPES, { message: 'dst_crypto_type must be DEFAULT or KMS' })
  dst_crypto_type?: string;

  @ApiPropertyOptional({ maxLength: 64 })
  @IsOptional()
  @IsString()
  @Length(1, 64, { message: 'dst_kms_key_id must be 1 to 64 characters' })
  dst_kms_key_id?: string;
}

export class CreateSyncTaskBody extends SyncTaskKeysBody {
  @ApiPropertyOptional({ enum: SYNC_SOURCE_CLOUD_TYPES, default: 'Aliyun' })
  @IsOptional()
  @IsIn(SYNC_SOURCE_CLOUD_TYPES, { message: 'src_cloud_type is not a supported source cloud' })
  src_cloud_type?: (typeof SYNC_SOURCE_CLOUD_TYPES)[number];

  @ApiProperty({ minLength: 1, maxLength: 100, example: 'cn-hangzhou' })
  @IsString()
  @Length(1, 100, { message: 'src_region must be 1 to 100 characters' })
  src_region: string;

  @ApiProperty({ minLength: 1, maxLength: 1024, example: 'source-bucket' })
  @IsString()
  @Length(1, 1024, { message: 'src_bucket must be 1 to 1024 characters' })
  src_bucket: string;

  @ApiProperty({ minLength: 1, maxLength: 100, example: 'cn-north-4' })
  @IsString()
  @Length(1, 100, { message: 'dst_region must be 1 to 100 characters' })
  dst_region: string;

  @ApiProperty({ minLength: 1, maxLength: 1024, example: 'destination-bucket' })
  @IsString()
  @Length(1, 1024, { message: 'dst_bucket must be 1 to 1024 characters' })
  dst_bucket: string;

  @ApiPropertyOptional({ maxLength: 255 })
  @IsOptional()
  @IsString()
  @Length(0, 255, { message: 'description must be at most 255 characters' })
  @Matches(PLAIN_TEXT, { message: `description must not contain any of <>()"'&` })
  description?: string;

  @ApiPropertyOptional() @IsOptional() @IsBoolean() enable_kms?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() enable_metadata_migration?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() enable_restore?: boolean;

  @ApiPropertyOptional({ enum: STORAGE_POLICIES })
  @IsOptional()
  @IsIn(STORAGE_POLICIES, { message: 'dst_storage_policy is not a storage policy' })
  dst_storage_policy?: string;

  @ApiPropertyOptional({ maxLength: 255 })
  @IsOptional()
  @IsString()
  @Length(1, 255, { message: 'app_id must be 1 to 255 characters' })
  app_id?: string;

  @ApiPropertyOptional({ type: SourceCdnBody })
  @IsOptional()
  @ValidateNested()
  @Type(() => SourceCdnBody)
  source_cdn?: SourceCdnBody;

  @ApiPropertyOptional({ enum: CONSISTENCY_CHECKS })
  @IsOptional()
  @IsIn(CONSISTENCY_CHECKS, { message: 'consistency_check is not a check method' })
  consistency_check?: string;
}

export class StartSyncTaskBody extends SyncTaskKeysBody {
  @ApiPropertyOptional({ description: 'The CDN key (a secret)', writeOnly: true, maxLength: 255 })
  @IsOptional()
  @IsString()
  @Length(1, 255, { message: 'source_cdn_authentication_key must be 1 to 255 characters' })
  source_cdn_authentication_key?: string;

  @ApiPropertyOptional({ enum: CRYPTO_TYPES })
  @IsOptional()
  @IsIn(CRYPTO_TYPES, { message: 'source_cdn_crypto_type must be DEFAULT or KMS' })
  source_cdn_crypto_type?: string;

  @ApiPropertyOptional({ maxLength: 64 })
  @IsOptional()
  @IsString()
  @Length(1, 64, { message: 'source_cdn_kms_key_id must be 1 to 64 characters' })
  source_cdn_kms_key_id?: string;
}

export class SyncEventsBody {
  @ApiProperty({
    type: [String],
    minItems: 1,
    maxItems: MAX_SYNC_EVENT_KEYS,
    description: 'URL-encoded object keys to synchronize',
  })
  @IsDefined({ message: 'object_keys is required' })
  @IsArray({ message: 'object_keys must be an array' })
  @ArrayMinSize(1, { message: 'object_keys must hold at least one key' })
  @ArrayMaxSize(MAX_SYNC_EVENT_KEYS, {
    message: `object_keys must hold at most ${MAX_SYNC_EVENT_KEYS} keys`,
  })
  @IsString({ each: true, message: 'object_keys must be strings' })
  @Length(1, MAX_SYNC_EVENT_KEY_LENGTH, {
    each: true,
    message: `each object key must be 1 to ${MAX_SYNC_EVENT_KEY_LENGTH} characters`,
  })
  object_keys: string[];
}

const MS_TIMESTAMP = /^[0-9]{13}$/;

export class ListSyncTasksQuery {
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

  @ApiPropertyOptional({ enum: SYNC_TASK_STATUSES })
  @IsOptional()
  @IsIn(SYNC_TASK_STATUSES, { message: 'status must be SYNCHRONIZING or STOPPED' })
  status?: (typeof SYNC_TASK_STATUSES)[number];
}

export class ShowSyncTaskQuery {
  @ApiProperty({ description: 'The month to count, as a time in it: Unix ms, 13 digits' })
  @IsDefined({ message: 'query_time is required' })
  @IsString()
  @Matches(MS_TIMESTAMP, { message: 'query_time must be a 13-digit Unix time in ms' })
  query_time: string;
}

export const STATISTIC_DATA_TYPES = ['REQUEST', 'SUCCESS', 'FAILURE', 'SKIP', 'SIZE'] as const;
export type StatisticDataType = (typeof STATISTIC_DATA_TYPES)[number];

export class SyncTaskStatisticsQuery {
  @ApiProperty({ description: 'A comma list of REQUEST, SUCCESS, FAILURE, SKIP, SIZE' })
  @IsDefined({ message: 'data_type is required' })
  @IsString()
  @Matches(/^(REQUEST|SUCCESS|FAILURE|SKIP|SIZE)(,(REQUEST|SUCCESS|FAILURE|SKIP|SIZE)){0,4}$/, {
    message: 'data_type must be a comma list of REQUEST, SUCCESS, FAILURE, SKIP, SIZE',
  })
  data_type: string;

  @ApiProperty({ description: 'Unix ms, 13 digits' })
  @IsDefined({ message: 'start_time is required' })
  @IsString()
  @Matches(MS_TIMESTAMP, { message: 'start_time must be a 13-digit Unix time in ms' })
  start_time: string;

  @ApiProperty({ description: 'Unix ms, 13 digits; not before start_time' })
  @IsDefined({ message: 'end_time is required' })
  @IsString()
  @Matches(MS_TIMESTAMP, { message: 'end_time must be a 13-digit Unix time in ms' })
  end_time: string;
}
