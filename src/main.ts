// Starts the service. With nothing configured it runs on the embedded
// database in ./.data and the development IAM, seeds a demo project and
// prints a ready-to-paste curl; with DATABASE_URL and IAM_ENDPOINT it is the
// production service (NODE_ENV=production insists on both).

import { DataSource } from 'typeorm';
import { createApp } from './app.js';
import { ConfigError, loadConfig, type AppConfig } from './config/config.js';
import { startEmbeddedDatabase, type EmbeddedDatabase } from './database/embedded-database.js';
import { DEMO_PROJECT_ID, DevelopmentIam } from './iam/development-iam.js';
import { keystoneAccessKeys } from './iam/keystone-access-key.store.js';
import { keystoneTokenValidator } from './iam/keystone-token.validator.js';
import type { AccessKeyStore } from './iam/access-key.js';
import type { TokenValidator } from './iam/caller.js';
import { flushLog, JsonLogger } from './logging/json-logger.js';
import { seedDemoTasks } from './tasks/demo-tasks.js';
import { developmentSecretsKey } from './tasks/task-secrets.js';
import type { DemoWorker } from './worker/demo-worker.js';
import { startDevelopmentWorker } from './worker/development-worker.js';

/** How long SIGTERM may take before we give up on in-flight requests. */
const SHUTDOWN_GRACE_MS = 10_000;

function readConfig(): AppConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`Configuration error: ${error.message}`);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  let config = readConfig();
  const format =
    config.logFormat === 'auto' ? (process.stdout.isTTY ? 'text' : 'json') : config.logFormat;
  const logger = new JsonLogger(config.logLevel, undefined, format);

  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.databaseUrl;
  if (databaseUrl === undefined) {
    if (config.events) {
      // The relay holds a connection of its own; the embedded database has one session.
      console.error(
        'Configuration error: EVENTS_NATS_URL needs DATABASE_URL (a PostgreSQL server)',
      );
      process.exit(1);
    }
    logger.log(`No DATABASE_URL: starting the embedded database in ${config.dataDir}`, 'Main');
    embedded = await startEmbeddedDatabase(config.dataDir);
    databaseUrl = embedded.url;
    // PGlite has one session: one connection keeps transactions apart.
    config = { ...config, databasePoolSize: 1 };
  }

  if (!config.secretsKey) {
    logger.log(`No SECRETS_KEY: using the development key in ${config.dataDir}`, 'Main');
    config = { ...config, secretsKey: developmentSecretsKey(config.dataDir) };
  }

  let tokenValidator: TokenValidator;
  let accessKeyStore: AccessKeyStore | undefined;
  let demo: DemoCredentials | undefined;
  let devIam: DevelopmentIam | undefined;
  if (config.iamEndpoint) {
    tokenValidator = keystoneTokenValidator(config);
    accessKeyStore = keystoneAccessKeys(config);
  } else {
    devIam = new DevelopmentIam();
    demo = {
      writer: devIam.issue('demo', ['member']),
      reader: devIam.issue('viewer', ['reader']),
      key: devIam.issueAccessKey('demo', ['member']),
    };
    tokenValidator = devIam;
    accessKeyStore = devIam;
  }

  const app = await createApp({ config, databaseUrl, tokenValidator, accessKeyStore }, logger);
  await app.listen({ port: config.port, host: config.host });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.log(`Listening on ${config.host}:${port}`, 'Main');

  const seeded = embedded && demo ? await seedDemoTasks(app.get(DataSource), DEMO_PROJECT_ID) : [];
  // After listening: the worker speaks to the service over HTTP, as any worker does.
  let worker: DemoWorker | undefined;
  if (config.devWorker && devIam) {
    worker = await startDevelopmentWorker(config, devIam, port, logger);
    logger.log(
      `Demo worker on: a task succeeds about ${config.devWorkerTaskSeconds} s after it starts migrating`,
      'Main',
    );
  }
  if (embedded && demo) printDevelopmentBanner(port, demo, seeded[0], worker !== undefined);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal}: finishing requests in flight, then stopping`, 'Main');
    const timer = setTimeout(() => {
      logger.error('Shutdown took too long; exiting', 'Main');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    timer.unref();
    // Node's server.close() only drops connections idle at that moment; a
    // keep-alive connection whose request finishes later would hold the
    // close open until its keep-alive timeout, so keep dropping idle ones.
    const server = app.getHttpServer();
    const dropIdle = setInterval(() => server.closeIdleConnections(), 50);
    await worker?.stop(); // its leases expire; another worker (or the next start) takes over
    await app.close(); // stops accepting, waits for in-flight requests, closes the pool
    clearInterval(dropIdle);
    await embedded?.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

interface DemoCredentials {
  writer: string;
  reader: string;
  key: { accessKey: string; secretKey: string };
}

function printDevelopmentBanner(
  port: number,
  tokens: DemoCredentials,
  taskId: string | undefined,
  workerOn: boolean,
): void {
  const origin = `http://127.0.0.1:${port}`;
  const base = `${origin}/v2/${DEMO_PROJECT_ID}/tasks`;
  // Lines a newcomer can paste as they are: the README's examples use these
  // variables, and AK/SK are what the official SDKs' examples read.
  const lines = [
    '',
    'Development mode: embedded database, development IAM (never use in production).',
    `Demo project: ${DEMO_PROJECT_ID}`,
    `API document: ${origin}/docs`,
    workerOn
      ? 'Demo worker: on (DEV_WORKER=off to turn it off); it moves no bytes, it reports progress and pauses when told.'
      : 'Demo worker: off; tasks keep their progress at 0 and a stop pauses at once.',
    '',
    'Paste into a shell (tokens: roles member and reader; access key: role member):',
    `  export TOKEN=${tokens.writer} READER=${tokens.reader}`,
    `  export B=${base}`,
    `  export AK=${tokens.key.accessKey} SK=${tokens.key.secretKey} PROJECT=${DEMO_PROJECT_ID}`,
    '',
    taskId
      ? workerOn
        ? 'Then pause a migrating demo task (7, pausing, until the worker confirms; then 3):'
        : 'Then pause a migrating demo task:'
      : 'The demo project has no migrating task left; insert one or reset .data.',
    taskId ? `  curl -i -X POST $B/${taskId}/stop -H "X-Auth-Token: $TOKEN"` : '',
    '',
  ];
  flushLog(); // the log lines before it come first
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((error: unknown) => {
  console.error('The service could not start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
