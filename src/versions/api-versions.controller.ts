// GET / and GET /v2: the API versions, as OMS answers them. Any valid
// credential may ask (OMS's newer docs say so); no project is involved.

import { Controller, Get, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ApiOmsErrors } from '../openapi/api-oms-errors.js';

class VersionLink {
  @ApiProperty() href: string;
  @ApiProperty({ example: 'self' }) rel: string;
}

export class ApiVersion {
  @ApiProperty({ example: 'v2' }) id: string;
  @ApiProperty({ type: [VersionLink] }) links: VersionLink[];
  @ApiProperty({ example: 'CURRENT' }) status: string;
  @ApiProperty({ example: '2021-09-30T00:00:00Z' }) updated: string;
}

export class ApiVersionList {
  @ApiProperty({ type: [ApiVersion] }) versions: ApiVersion[];
}

/** When this service's v2 surface last changed in a way clients can see. */
const V2_UPDATED = '2026-11-28T00:00:00Z';

// A Host header is the caller's to write; only a plain host[:port] is
// reflected into links, anything else gets a relative link.
const SANE_HOST = /^[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?$/;

function v2(request: FastifyRequest): ApiVersion {
  const host = request.headers.host;
  const href = host && SANE_HOST.test(host) ? `${request.protocol}://${host}/v2/` : '/v2/';
  return { id: 'v2', links: [{ href, rel: 'self' }], status: 'CURRENT', updated: V2_UPDATED };
}

@ApiTags('versions')
@ApiSecurity('X-Auth-Token')
@Controller()
export class ApiVersionsController {
  @Get()
  @ApiOperation({ operationId: 'ListApiVersions', summary: 'The API versions' })
  @ApiOkResponse({ type: ApiVersionList })
  @ApiOmsErrors()
  list(@Req() request: FastifyRequest): ApiVersionList {
    return { versions: [v2(request)] };
  }

  @Get('v2')
  @ApiOperation({ operationId: 'ShowApiInfo', summary: 'This API version' })
  @ApiOkResponse({ type: ApiVersion })
  @ApiOmsErrors()
  show(@Req() request: FastifyRequest): ApiVersion {
    return v2(request);
  }
}
