// Documents a route's error answers in OpenAPI: the codes the route itself
// can give, plus those every authenticated route can give.

import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiResponse } from '@nestjs/swagger';
import type { OmsErrorCode } from '../common/oms-errors.js';
import { HTTP_STATUS } from '../common/oms-exception.filter.js';

export class OmsErrorBodyDoc {
  @ApiProperty({ example: 'OMS.1009' }) error_code: string;
  @ApiProperty({ example: 'No resources found.' }) error_msg: string;
  @ApiProperty({ description: 'Also in the X-Request-Id header.' }) request_id: string;
}

/** What any route behind the guard may answer. */
const EVERY_ROUTE: OmsErrorCode[] = ['APIGW.0301', 'OMS.0206', 'OMS.2000', 'OMS.2004'];

export function ApiOmsErrors(...codes: OmsErrorCode[]) {
  const byStatus = new Map<number, OmsErrorCode[]>();
  for (const code of [...codes, ...EVERY_ROUTE]) {
    const status = HTTP_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return applyDecorators(
    ...[...byStatus].map(([status, statusCodes]) =>
      ApiResponse({
        status,
        description: `error_code ${statusCodes.join(', ')}`,
        type: OmsErrorBodyDoc,
      }),
    ),
  );
}
