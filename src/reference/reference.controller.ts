// GET objectstorage/cloud-type and objectstorage/data-center: static
// reference data (reference-data.ts), answered as OMS does, bare JSON arrays.
// Behind the same guard as the task calls; read access to the project is
// enough.

import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { IsDefined, IsIn } from 'class-validator';
import { ValidQuery } from '../common/validation.js';
import { AccessPolicy } from '../iam/access-policy.js';
import { Caller } from '../iam/caller.js';
import { ApiOmsErrors } from '../openapi/api-oms-errors.js';
import { ApiProjectPath, ProjectId } from '../tasks/task.params.js';
import {
  DATA_CENTERS,
  DESTINATION_CLOUD_TYPES,
  SOURCE_CLOUD_TYPES,
  type DataCenter,
} from './reference-data.js';

export class CloudTypeQuery {
  @ApiProperty({ enum: ['src', 'dst'], description: 'Source or destination side.' })
  @IsDefined()
  @IsIn(['src', 'dst'])
  type: 'src' | 'dst';
}

class RegionInfoView {
  @ApiProperty() cloud_type: string;
  @ApiProperty() value: string;
  @ApiProperty() description: string;
}

class DataCenterView {
  @ApiProperty() service_name: string;
  @ApiProperty({ type: [RegionInfoView] }) region_list: RegionInfoView[];
}

@ApiTags('reference data')
@ApiSecurity('X-Auth-Token')
@Controller('v2/:project_id/objectstorage')
export class ReferenceController {
  constructor(private readonly access: AccessPolicy) {}

  @Get('cloud-type')
  @ApiOperation({ operationId: 'ShowCloudType', summary: 'The cloud types of one side' })
  @ApiProjectPath()
  @ApiOkResponse({ schema: { type: 'array', items: { type: 'string' }, example: ['HuaweiCloud'] } })
  @ApiOmsErrors('OMS.0064')
  cloudTypes(
    @ProjectId() projectId: string,
    @ValidQuery() query: CloudTypeQuery,
    @Caller() caller: Caller,
  ): readonly string[] {
    this.access.authorize(caller, projectId, 'read');
    return query.type === 'src' ? SOURCE_CLOUD_TYPES : DESTINATION_CLOUD_TYPES;
  }

  @Get('data-center')
  @ApiOperation({ operationId: 'ShowRegionInfo', summary: 'The regions of each cloud type' })
  @ApiProjectPath()
  @ApiOkResponse({ type: [DataCenterView] })
  @ApiOmsErrors('OMS.0064')
  dataCenters(@ProjectId() projectId: string, @Caller() caller: Caller): readonly DataCenter[] {
    this.access.authorize(caller, projectId, 'read');
    return DATA_CENTERS;
  }
}
