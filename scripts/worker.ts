// `npm run worker`: an example worker process of the data plane, running the
// demo loop (src/worker/demo-worker.ts) against a service over HTTP. It
// moves no bytes; it shows what a worker does: lease, heartbeat with
// progress, obey pause and abort, report the outcome. OMS_URL,
// OMS_WORKER_TOKEN (a token with the worker role) and WORKER_ID say where
// and who (docs/configuration.md); with EVENTS_NATS_URL a stop reaches it
// through the service's events at once instead of at the next heartbeat.
//
// SIGTERM or SIGINT: it stops asking and exits; the leases it holds expire
// and other workers take the tasks over.

import { hostname } from 'node:os';
import { ConfigError, loadWorkerProcessConfig } from '../src/config/config.js';
import { flushLog, JsonLogger } from '../src/logging/json-logger.js';
import { DemoWorker } from '../src/worker/demo-worker.js';
import { workerLog } from '../src/worker/development-worker.js';
import { NatsStopSignals } from '../src/worker/stop-events.js';
import { WorkerClient } from '../src/worker/worker-client.js';

function readConfig() {
  try {
    return loadWorkerProcessConfig(
      process.env,
      `worker-${hostname().replace(/[^A-Za-z0-9._:-]/g, '-')}-${process.pid}`.slice(0, 128),
    );
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`Configuration error: ${error.message}`);
    process.exit(1);
  }
}

const config = readConfig();
const logger = new JsonLogger(config.logLevel);
const log = workerLog(logger, 'Worker');

const stopSignals = config.eventsNatsUrl
  ? await NatsStopSignals.connect(config.eventsNatsUrl, config.eventsSubjectPrefix, log)
  : undefined;
const worker = new DemoWorker({
  client: new WorkerClient({
    baseUrl: config.omsUrl,
    token: config.token,
    workerId: config.workerId,
  }),
  taskSeconds: config.taskSeconds,
  maxTasks: config.maxTasks,
  pollIntervalMs: config.pollIntervalMs,
  log,
  stopSignals,
});
await worker.start();
log.info(`worker ${config.workerId} started`, {
  worker_id: config.workerId,
  oms_url: config.omsUrl,
  stop_events: stopSignals !== undefined,
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info(`${signal}: stopping; held leases will expire`, { held: worker.taskIds });
  await worker.stop();
  await stopSignals?.close();
  flushLog();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
