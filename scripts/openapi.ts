// `npm run openapi`: writes openapi.json from the code.
// `npm run openapi -- --check`: fails when the committed file differs from
// what the code generates, and when the document does not pass the linter.
//
// The application is created in preview mode: controllers and DTOs are read,
// but nothing connects to a database or IAM.

import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { AppModule } from '../src/app.module.js';
import { loadConfig } from '../src/config/config.js';
import { Metrics } from '../src/metrics/metrics.js';
import { openApiDocument } from '../src/openapi/openapi.js';

const FILE = 'openapi.json';

async function generate(): Promise<string> {
  const app = await NestFactory.create(
    AppModule.register(
      {
        config: loadConfig({}),
        databaseUrl: 'postgres://unused.invalid/none',
        tokenValidator: { validate: () => Promise.reject(new Error('preview')) },
      },
      new Metrics(),
    ),
    new FastifyAdapter(),
    { preview: true, logger: false },
  );
  const text = JSON.stringify(openApiDocument(app), null, 2) + '\n';
  await app.close();
  return text;
}

async function lint(text: string): Promise<number> {
  const config = await createConfig({ extends: ['recommended'] });
  const problems = await lintFromString({ source: text, absoluteRef: FILE, config });
  for (const problem of problems) {
    const where = problem.location.map((l) => l.pointer).join(', ');
    console.log(`${problem.severity}: ${problem.ruleId}: ${problem.message} (${where})`);
  }
  return problems.filter((problem) => problem.severity === 'error').length;
}

async function main(): Promise<number> {
  const generated = await generate();
  const errors = await lint(generated);
  if (process.argv.includes('--check')) {
    let committed = '';
    try {
      committed = readFileSync(FILE, 'utf8');
    } catch {
      // reported below as a difference
    }
    if (committed !== generated) {
      console.error(`${FILE} differs from what the code generates: run \`npm run openapi\``);
      return 1;
    }
    console.log(`${FILE} matches the code`);
  } else {
    writeFileSync(FILE, generated);
    console.log(`Wrote ${FILE}`);
  }
  if (errors > 0) console.error(`The OpenAPI linter found ${errors} error(s)`);
  return errors > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
