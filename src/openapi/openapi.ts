// The OpenAPI document, generated from the controllers and DTO classes, so
// it cannot drift from the code. Served at /docs (UI) and /docs-json, and
// committed as openapi.json (`npm run openapi`; CI fails on a difference).

import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

export function openApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('OMS task service')
    .setDescription(
      'The task calls of Huawei Cloud Object Storage Migration Service (OMS), API v2. ' +
        'Every error answer is {"error_code", "error_msg", "request_id"}; ' +
        'every answer carries X-Request-Id.',
    )
    .setVersion('v2')
    .setLicense('Apache-2.0', 'https://www.apache.org/licenses/LICENSE-2.0')
    .addServer('/')
    .addApiKey(
      { type: 'apiKey', in: 'header', name: 'X-Auth-Token', description: 'An IAM token' },
      'X-Auth-Token',
    )
    .build();
  return SwaggerModule.createDocument(app, config);
}

export function serveOpenApi(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => openApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
    yamlDocumentUrl: 'docs-yaml',
  });
}
