// The development default's data plane (DEV_WORKER, on with the
// development IAM): the demo worker, run inside the service's process but
// speaking the protocol over HTTP to the service's own listening address,
// with a worker token the development IAM issued, exactly as a worker
// process would. Nothing here reaches around the protocol.

import type { AppConfig } from '../config/config.js';
import type { DevelopmentIam } from '../iam/development-iam.js';
import type { JsonLogger } from '../logging/json-logger.js';
import { DemoWorker, type WorkerLog } from './demo-worker.js';
import { WorkerClient } from './worker-client.js';

export const DEVELOPMENT_WORKER_ID = 'development-worker';

/** A service project of its own: the worker role is what counts, not the project. */
const WORKER_PROJECT = 'development-workers';

/** Enough for every demo task and a few more; one project runs MAX_PARALLEL_TASKS at once. */
const MAX_TASKS = 20;
const POLL_INTERVAL_MS = 1000;

export function workerLog(logger: JsonLogger, context: string): WorkerLog {
  return {
    info: (msg, fields) => logger.log({ msg, ...fields }, context),
    warn: (msg, fields) => logger.warn({ msg, ...fields }, context),
  };
}

/**
 * Starts the demo worker against the service at `port` (the address it
 * listens on: loopback when it listens on every interface). Resolves once
 * its first lease call has been answered, so the demo tasks are held when
 * the banner comes out.
 */
export async function startDevelopmentWorker(
  config: AppConfig,
  iam: DevelopmentIam,
  port: number,
  logger: JsonLogger,
): Promise<DemoWorker> {
  const host = ['0.0.0.0', '::', ''].includes(config.host) ? '127.0.0.1' : config.host;
  const worker = new DemoWorker({
    client: new WorkerClient({
      baseUrl: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
      token: iam.issue(DEVELOPMENT_WORKER_ID, [config.workerRole], WORKER_PROJECT),
      workerId: DEVELOPMENT_WORKER_ID,
    }),
    taskSeconds: config.devWorkerTaskSeconds,
    maxTasks: MAX_TASKS,
    pollIntervalMs: POLL_INTERVAL_MS,
    log: workerLog(logger, 'DevelopmentWorker'),
  });
  await worker.start();
  return worker;
}
