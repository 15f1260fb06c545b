// Configuration comes from environment variables only. It is parsed and
// validated once, at start-up, into a frozen AppConfig; nothing else in the
// code reads process.env. A bad value stops the process with a message that
// names the variable, what it got and what it wants.

import { isIP } from 'node:net';
import { resolve } from 'node:path';
import type { ServiceIdentity } from '../iam/keystone-service-token.js';
import { MAX_TOKEN_LENGTH } from '../iam/token-authenticator.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'verbose';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'verbose'];

/** `auto`: text when standard output is a terminal, JSON otherwise. */
export type LogFormat = 'auto' | 'json' | 'text';
const LOG_FORMATS: readonly LogFormat[] = ['auto', 'json', 'text'];

export interface AppConfig {
  readonly production: boolean;
  readonly host: string;
  readonly port: number;
  /** PostgreSQL URL; undefined means "start the embedded database in dataDir". */
  readonly databaseUrl: string | undefined;
  readonly databasePoolSize: number;
  readonly databaseConnectTimeoutMs: number;
  readonly databaseStatementTimeoutMs: number;
  readonly runMigrations: boolean;
  readonly dataDir: string;
  /** Keystone v3 base URL; undefined means "use the development IAM". */
  readonly iamEndpoint: string | undefined;
  readonly iamTimeoutMs: number;
  /** Longer tokens are refused (401) without asking IAM: what its front end accepts. */
  readonly iamMaxTokenLength: number;
  /** Connections to IAM per pool (token validations, access-key reads). */
  readonly iamMaxConnections: number;
  /** Calls that may wait for a connection, per pool; beyond, 503 at once. */
  readonly iamQueueMax: number;
  /** How long a call may wait for a connection before its 503. */
  readonly iamQueueTimeoutMs: number;
  readonly tokenCacheTtlSeconds: number;
  readonly tokenCacheMaxEntries: number;
  readonly readOnlyRoles: readonly string[];
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  /** Tasks of one project migrating at once; the scheduler admits up to this. */
  readonly maxParallelTasks: number;
  /** Tasks one project may hold in all (create answers OMS.0077 beyond). */
  readonly maxTasksPerProject: number;
  /** Sync tasks one project may hold (create answers OMS.0077 beyond). */
  readonly maxSyncTasksPerProject: number;
  /** How often the scheduler sweeps for waiting tasks; 0 turns the scheduler off. */
  readonly schedulerSweepIntervalMs: number;
  /** AES-256 key for task secrets; undefined means "the development key in dataDir". */
  readonly secretsKey: Buffer | undefined;
  /** Bound on receiving a whole request (headers and body) from a client. */
  readonly requestTimeoutMs: number;
  /** Bound on each dependency check of GET /health/ready. */
  readonly healthTimeoutMs: number;
  /** How long one readiness check's result is answered again (0: every call checks, concurrent calls still share one). */
  readonly healthReadyCacheMs: number;
  /** Bearer token GET /metrics requires; undefined: /metrics is open. */
  readonly metricsToken: string | undefined;
  /** Token buckets per replica; a rate of 0 turns that limit off. */
  readonly rateLimitPerProjectPerSecond: number;
  readonly rateLimitProjectBurst: number;
  readonly rateLimitPerCredentialPerSecond: number;
  readonly rateLimitCredentialBurst: number;
  /** Per client address, for requests whose credential is not proven yet; 0: off. */
  readonly rateLimitUnprovenPerSecond: number;
  readonly rateLimitUnprovenBurst: number;
  /** Fastify's trustProxy: which peers' X-Forwarded-For names the client. */
  readonly trustProxy: TrustProxy;
  /** Consecutive IAM failures that open the circuit; 0 turns the breaker off. */
  readonly iamCircuitFailureThreshold: number;
  /** While the circuit is open, one validation is let through this often. */
  readonly iamCircuitProbeIntervalMs: number;
  /** The service's own IAM user, for access-key signatures; undefined turns them off. */
  readonly iamServiceIdentity: ServiceIdentity | undefined;
  readonly accessKeyCacheTtlSeconds: number;
  readonly accessKeyCacheMaxEntries: number;
  /** The IAM role that makes a caller a data-plane worker (src/worker/), lower case. */
  readonly workerRole: string;
  /** How long a worker's lease lasts unless its heartbeat renews it. */
  readonly workerLeaseTtlMs: number;
  /** How often a worker is told to send a heartbeat (well within the lease). */
  readonly workerHeartbeatIntervalMs: number;
  /** How often expired leases of pausing tasks are swept to paused; 0: never. */
  readonly workerLeaseSweepIntervalMs: number;
  /**
   * The in-process demo worker (src/worker/development-worker.ts): on by
   * default with the development IAM, which issues its token; never with
   * IAM_ENDPOINT.
   */
  readonly devWorker: boolean;
  /** How long the demo worker takes over a task, from nothing to succeeded. */
  readonly devWorkerTaskSeconds: number;
  /** Host names a signed request may be signed for; `name` or `name:port`, lower case. */
  readonly signatureHosts: readonly string[];
  /** How long an access key IAM does not know is refused without asking again. */
  readonly unknownAccessKeyTtlSeconds: number;
  /** Events on NATS JetStream (src/events); undefined: off, nothing connects to NATS. */
  readonly events: EventsConfig | undefined;
}

/** Where and how the relay publishes the audit rows (docs/events.md). */
export interface EventsConfig {
  /** nats:// URL(s), comma-separated, without credentials. */
  readonly natsServers: readonly string[];
  /** User and password, or a token, when the broker asks for them; never logged. */
  readonly natsUser: string | undefined;
  readonly natsPassword: string | undefined;
  readonly natsToken: string | undefined;
  /** How often the relay looks for new audit rows when nothing woke it. */
  readonly pollMs: number;
  /** Audit rows published per round trip. */
  readonly batchSize: number;
  /** The least time an id missing from an outbox is waited for before it is skipped. */
  readonly gapGraceMs: number;
  /** Stream names: `<prefix>_TASK_EVENTS`, ... (tests give each file its own). */
  readonly streamPrefix: string;
  /** Prepended, with a dot, to every subject; empty: the subjects as documented. */
  readonly subjectPrefix: string;
}

/**
 * As Fastify takes it: false, the peer is the client; true, any peer may say
 * who the client is (X-Forwarded-For); or the proxies' addresses and CIDR
 * ranges, comma-separated.
 */
export type TrustProxy = boolean | string;

/** What a request to the service on this machine is signed for (development, tests). */
export const DEFAULT_SIGNATURE_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(
      `${name}=${JSON.stringify(raw)}: expected an integer from ${min} to ${max}`,
    );
  }
  return Number(raw);
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name}=${JSON.stringify(raw)}: expected true or false`);
}

function url(env: Env, name: string, protocols: readonly string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name}: not a valid URL`);
  }
  if (!protocols.includes(parsed.protocol)) {
    // The value may hold a password: name only the protocol.
    throw new ConfigError(
      `${name}: protocol ${parsed.protocol} is not one of ${protocols.join(', ')}`,
    );
  }
  return raw;
}

function oneOf<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)}: expected one of ${allowed.join(', ')}`);
  }
  return raw as T;
}

function list(env: Env, name: string, fallback: readonly string[]): readonly string[] {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  return raw
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter((item) => item !== '');
}

function aes256Key(env: Env, name: string): Buffer | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const key = Buffer.from(raw, 'base64');
  // Never echo the value: it is the key.
  if (key.length !== 32 || key.toString('base64') !== raw) {
    throw new ConfigError(`${name}: expected 32 bytes in base64 (openssl rand -base64 32)`);
  }
  return key;
}

function secret(env: Env, name: string, minLength: number): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (raw.length < minLength || !/^[\x21-\x7e]+$/.test(raw)) {
    // Never echo the value: it is a secret.
    throw new ConfigError(`${name}: expected at least ${minLength} printable characters`);
  }
  return raw;
}

/** proxy-addr's names for address ranges, which Fastify takes as well. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** `true`, `false`, or the proxies' addresses, CIDR ranges and range names. */
function trustProxy(env: Env, name: string): TrustProxy {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  const entries = raw.split(',').map((entry) => entry.trim());
  const bad = entries.find((entry) => {
    if (PROXY_RANGE_NAMES.includes(entry)) return false;
    const [address, bits, ...rest] = entry.split('/');
    const version = isIP(address);
    if (version === 0 || rest.length > 0) return true;
    if (bits === undefined) return false;
    return !/^\d+$/.test(bits) || Number(bits) > (version === 4 ? 32 : 128);
  });
  if (bad !== undefined) {
    throw new ConfigError(
      `${name}: ${JSON.stringify(bad)} is not an IP address or CIDR range ` +
        "(expected true, false, or the proxies' addresses, comma-separated)",
    );
  }
  return entries.join(',');
}

/** Host names, `[IPv6]` literals, each with an optional `:port`. */
function hostList(env: Env, name: string, fallback: readonly string[]): readonly string[] {
  const hosts = list(env, name, fallback);
  const bad = hosts.find((host) => !/^([a-z0-9_.-]+|\[[0-9a-f:.]+\])(:\d{1,5})?$/.test(host));
  if (bad !== undefined || hosts.length === 0) {
    throw new ConfigError(
      `${name}: ${JSON.stringify(bad ?? '')} is not a host name (expected names such as ` +
        'oms.example.com or oms.example.com:8443, comma-separated)',
    );
  }
  return hosts;
}

/** A bucket's size: given, or twice the rate so that short bursts pass. */
function burst(env: Env, name: string, rate: number): number {
  return integer(env, name, Math.max(1, rate * 2), 1, 10_000_000);
}

const SERVICE_IDENTITY_VARS = ['IAM_SERVICE_USER', 'IAM_SERVICE_PASSWORD', 'IAM_SERVICE_PROJECT'];

/** All three of user, password and project, or none; domains default to Default. */
function serviceIdentity(env: Env, iamEndpoint: string | undefined): ServiceIdentity | undefined {
  const given = SERVICE_IDENTITY_VARS.filter((name) => env[name]);
  if (given.length === 0) return undefined;
  if (given.length < SERVICE_IDENTITY_VARS.length) {
    const missing = SERVICE_IDENTITY_VARS.filter((name) => !env[name]);
    throw new ConfigError(
      `${given.join(', ')} given without ${missing.join(', ')}: the IAM service identity ` +
        'needs all of IAM_SERVICE_USER, IAM_SERVICE_PASSWORD and IAM_SERVICE_PROJECT',
    );
  }
  if (!iamEndpoint) {
    throw new ConfigError('IAM_SERVICE_USER is set but IAM_ENDPOINT is not');
  }
  const userDomain = env.IAM_SERVICE_USER_DOMAIN || 'Default';
  return {
    userName: env.IAM_SERVICE_USER!,
    password: env.IAM_SERVICE_PASSWORD!,
    userDomain,
    projectName: env.IAM_SERVICE_PROJECT!,
    projectDomain: env.IAM_SERVICE_PROJECT_DOMAIN || userDomain,
  };
}

const ON_OFF = ['on', 'off'] as const;

/** DEV_WORKER_TASK_SECONDS: the demo data plane's pace (the service's and a worker process's). */
function devWorkerTaskSeconds(env: Env): number {
  return integer(env, 'DEV_WORKER_TASK_SECONDS', 150, 1, 86_400);
}

const NATS_PROTOCOLS = ['nats:', 'tls:'];

/**
 * EVENTS_NATS_URL turns events on. Credentials come in variables of their
 * own (or in the URL, moved out of it here), so the URL itself can be logged.
 */
function events(env: Env): EventsConfig | undefined {
  const raw = env.EVENTS_NATS_URL;
  if (raw === undefined || raw === '') return undefined;
  let user = env.EVENTS_NATS_USER || undefined;
  let password = env.EVENTS_NATS_PASSWORD || undefined;
  const natsServers = raw.split(',').map((entry) => {
    let parsed: URL;
    try {
      parsed = new URL(entry.trim());
    } catch {
      throw new ConfigError('EVENTS_NATS_URL: not a valid URL (expected nats://host:port)');
    }
    if (!NATS_PROTOCOLS.includes(parsed.protocol) || parsed.hostname === '') {
      // The value may hold a password: name only the protocol.
      throw new ConfigError(
        `EVENTS_NATS_URL: protocol ${parsed.protocol} is not one of ${NATS_PROTOCOLS.join(', ')}`,
      );
    }
    if (parsed.username) user ??= decodeURIComponent(parsed.username);
    if (parsed.password) password ??= decodeURIComponent(parsed.password);
    return `${parsed.protocol}//${parsed.host}`;
  });
  const natsToken = env.EVENTS_NATS_TOKEN || undefined;
  if ((user === undefined) !== (password === undefined)) {
    throw new ConfigError('EVENTS_NATS_USER and EVENTS_NATS_PASSWORD go together');
  }
  if (natsToken !== undefined && user !== undefined) {
    throw new ConfigError('EVENTS_NATS_TOKEN or a user and password, not both');
  }
  const streamPrefix = env.EVENTS_STREAM_PREFIX || 'OMS';
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(streamPrefix)) {
    throw new ConfigError(
      `EVENTS_STREAM_PREFIX=${JSON.stringify(streamPrefix)}: expected 1 to 32 of A-Z, a-z, 0-9, _ and -`,
    );
  }
  const subjectPrefix = env.EVENTS_SUBJECT_PREFIX ?? '';
  if (
    subjectPrefix !== '' &&
    !/^[A-Za-z0-9_-]{1,32}(\.[A-Za-z0-9_-]{1,32})*$/.test(subjectPrefix)
  ) {
    throw new ConfigError(
      `EVENTS_SUBJECT_PREFIX=${JSON.stringify(subjectPrefix)}: expected tokens of A-Z, a-z, 0-9, _ and -, separated by dots`,
    );
  }
  return {
    natsServers,
    natsUser: user,
    natsPassword: password,
    natsToken,
    pollMs: integer(env, 'EVENTS_POLL_MS', 20, 1, 60_000),
    batchSize: integer(env, 'EVENTS_BATCH_SIZE', 500, 1, 10_000),
    gapGraceMs: integer(env, 'EVENTS_GAP_GRACE_MS', 250, 0, 600_000),
    streamPrefix,
    subjectPrefix,
  };
}

export function loadConfig(env: Env = process.env): AppConfig {
  const production = env.NODE_ENV === 'production';
  const projectRate = integer(env, 'RATE_LIMIT_PROJECT_RPS', 0, 0, 1_000_000);
  const credentialRate = integer(env, 'RATE_LIMIT_CREDENTIAL_RPS', 0, 0, 1_000_000);
  const unprovenRate = integer(env, 'RATE_LIMIT_UNPROVEN_RPS', 0, 0, 1_000_000);
  const iamEndpoint = url(env, 'IAM_ENDPOINT', ['http:', 'https:'])?.replace(/\/+$/, '');
  const config: AppConfig = {
    production,
    // Development mode prints working tokens and an access key in its banner,
    // so it answers only this machine unless HOST says otherwise.
    host: env.HOST || (production ? '0.0.0.0' : '127.0.0.1'),
    port: integer(env, 'PORT', 8080, 0, 65535),
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    databasePoolSize: integer(env, 'DATABASE_POOL_SIZE', 10, 1, 1000),
    databaseConnectTimeoutMs: integer(env, 'DATABASE_CONNECT_TIMEOUT_MS', 3000, 100, 600_000),
    databaseStatementTimeoutMs: integer(env, 'DATABASE_STATEMENT_TIMEOUT_MS', 5000, 100, 600_000),
    runMigrations: boolean(env, 'RUN_MIGRATIONS', true),
    dataDir: resolve(env.DATA_DIR || '.data'),
    iamEndpoint,
    iamTimeoutMs: integer(env, 'IAM_TIMEOUT_MS', 3000, 50, 60_000),
    iamMaxTokenLength: integer(env, 'IAM_MAX_TOKEN_LENGTH', MAX_TOKEN_LENGTH, 1, MAX_TOKEN_LENGTH),
    iamMaxConnections: integer(env, 'IAM_MAX_CONNECTIONS', 64, 1, 10_000),
    iamQueueMax: integer(env, 'IAM_QUEUE_MAX', 256, 0, 1_000_000),
    iamQueueTimeoutMs: integer(env, 'IAM_QUEUE_TIMEOUT_MS', 1000, 1, 60_000),
    tokenCacheTtlSeconds: integer(env, 'TOKEN_CACHE_TTL_SECONDS', 300, 0, 86_400),
    tokenCacheMaxEntries: integer(env, 'TOKEN_CACHE_MAX_ENTRIES', 10_000, 1, 10_000_000),
    readOnlyRoles: list(env, 'READ_ONLY_ROLES', ['reader', 'readonly', 'viewer']),
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', LOG_LEVELS),
    logFormat: oneOf(env, 'LOG_FORMAT', 'auto', LOG_FORMATS),
    maxParallelTasks: integer(env, 'MAX_PARALLEL_TASKS', 5, 1, 10_000),
    maxTasksPerProject: integer(env, 'MAX_TASKS_PER_PROJECT', 100_000, 1, 100_000_000),
    maxSyncTasksPerProject: integer(env, 'MAX_SYNC_TASKS_PER_PROJECT', 1000, 1, 1_000_000),
    schedulerSweepIntervalMs: integer(env, 'SCHEDULER_SWEEP_INTERVAL_MS', 5000, 0, 3_600_000),
    secretsKey: aes256Key(env, 'SECRETS_KEY'),
    requestTimeoutMs: integer(env, 'REQUEST_TIMEOUT_MS', 30_000, 100, 600_000),
    healthTimeoutMs: integer(env, 'HEALTH_TIMEOUT_MS', 1000, 50, 60_000),
    healthReadyCacheMs: integer(env, 'HEALTH_READY_CACHE_MS', 1000, 0, 60_000),
    metricsToken: secret(env, 'METRICS_TOKEN', 16),
    rateLimitPerProjectPerSecond: projectRate,
    rateLimitProjectBurst: burst(env, 'RATE_LIMIT_PROJECT_BURST', projectRate),
    rateLimitPerCredentialPerSecond: credentialRate,
    rateLimitCredentialBurst: burst(env, 'RATE_LIMIT_CREDENTIAL_BURST', credentialRate),
    rateLimitUnprovenPerSecond: unprovenRate,
    rateLimitUnprovenBurst: burst(env, 'RATE_LIMIT_UNPROVEN_BURST', unprovenRate),
    trustProxy: trustProxy(env, 'TRUST_PROXY'),
    iamCircuitFailureThreshold: integer(env, 'IAM_CIRCUIT_FAILURE_THRESHOLD', 5, 0, 1000),
    iamCircuitProbeIntervalMs: integer(env, 'IAM_CIRCUIT_PROBE_INTERVAL_MS', 5000, 10, 600_000),
    iamServiceIdentity: serviceIdentity(env, iamEndpoint),
    accessKeyCacheTtlSeconds: integer(env, 'ACCESS_KEY_CACHE_TTL_SECONDS', 300, 0, 86_400),
    accessKeyCacheMaxEntries: integer(env, 'ACCESS_KEY_CACHE_MAX_ENTRIES', 10_000, 1, 10_000_000),
    signatureHosts: hostList(env, 'SIGNATURE_HOSTS', DEFAULT_SIGNATURE_HOSTS),
    unknownAccessKeyTtlSeconds: integer(env, 'UNKNOWN_AK_CACHE_TTL_SECONDS', 30, 0, 3600),
    workerRole: (env.WORKER_ROLE || 'oms_worker').toLowerCase(),
    workerLeaseTtlMs: integer(env, 'WORKER_LEASE_TTL_MS', 30_000, 100, 3_600_000),
    workerHeartbeatIntervalMs: integer(env, 'WORKER_HEARTBEAT_INTERVAL_MS', 5000, 10, 600_000),
    workerLeaseSweepIntervalMs: integer(env, 'WORKER_LEASE_SWEEP_INTERVAL_MS', 1000, 0, 3_600_000),
    devWorker: oneOf(env, 'DEV_WORKER', iamEndpoint ? 'off' : 'on', ON_OFF) === 'on',
    devWorkerTaskSeconds: devWorkerTaskSeconds(env),
    events: events(env),
  };
  if (config.devWorker && config.iamEndpoint) {
    throw new ConfigError(
      'DEV_WORKER=on needs the development IAM (no IAM_ENDPOINT), which issues its token; ' +
        'against a real IAM run a worker process (npm run worker)',
    );
  }
  if (config.workerHeartbeatIntervalMs * 2 > config.workerLeaseTtlMs) {
    throw new ConfigError(
      `WORKER_HEARTBEAT_INTERVAL_MS (${config.workerHeartbeatIntervalMs}) must be at most half of ` +
        `WORKER_LEASE_TTL_MS (${config.workerLeaseTtlMs}): a lease must outlive a late heartbeat`,
    );
  }
  if (production && (!config.databaseUrl || !config.iamEndpoint || !config.secretsKey)) {
    const missing = [
      !config.databaseUrl && 'DATABASE_URL',
      !config.iamEndpoint && 'IAM_ENDPOINT',
      !config.secretsKey && 'SECRETS_KEY',
    ];
    throw new ConfigError(
      `NODE_ENV=production needs ${missing.filter(Boolean).join(' and ')}: ` +
        'the embedded database, the development IAM and the generated key are for development only',
    );
  }
  return Object.freeze(config);
}

/** A worker process's configuration (scripts/worker.ts): where the service is, who it is. */
export interface WorkerProcessConfig {
  /** The service's base URL, e.g. http://127.0.0.1:8080. */
  readonly omsUrl: string;
  /** An IAM token with the worker role (X-Auth-Token); never logged. */
  readonly token: string;
  readonly workerId: string;
  /** Tasks the worker holds at once. */
  readonly maxTasks: number;
  /** How often it asks for tasks while it has room for more. */
  readonly pollIntervalMs: number;
  readonly taskSeconds: number;
  /** Core NATS, for stop events in milliseconds; undefined: heartbeats only. */
  readonly eventsNatsUrl: string | undefined;
  /** What the service puts before its subjects (EVENTS_SUBJECT_PREFIX), '' for none. */
  readonly eventsSubjectPrefix: string;
  readonly logLevel: LogLevel;
}

/** As the service's worker controller checks it (worker.controller.ts). */
const WORKER_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function loadWorkerProcessConfig(
  env: Env = process.env,
  fallbackWorkerId = 'worker',
): WorkerProcessConfig {
  const omsUrl = url(env, 'OMS_URL', ['http:', 'https:']);
  if (!omsUrl)
    throw new ConfigError('OMS_URL is required: the service, e.g. http://127.0.0.1:8080');
  const token = secret(env, 'OMS_WORKER_TOKEN', 1);
  if (!token) throw new ConfigError('OMS_WORKER_TOKEN is required: a token with the worker role');
  const workerId = env.WORKER_ID || fallbackWorkerId;
  if (!WORKER_ID.test(workerId)) {
    throw new ConfigError(
      `WORKER_ID=${JSON.stringify(workerId)}: expected 1 to 128 of A-Z a-z 0-9 . _ : -`,
    );
  }
  const prefix = env.EVENTS_SUBJECT_PREFIX ?? '';
  if (prefix !== '' && !/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(prefix)) {
    throw new ConfigError(
      `EVENTS_SUBJECT_PREFIX=${JSON.stringify(prefix)}: expected subject tokens of A-Z a-z 0-9 _ - separated by dots`,
    );
  }
  return Object.freeze({
    omsUrl: omsUrl.replace(/\/+$/, ''),
    token,
    workerId,
    maxTasks: integer(env, 'WORKER_MAX_TASKS', 5, 1, 100),
    pollIntervalMs: integer(env, 'WORKER_POLL_INTERVAL_MS', 1000, 10, 600_000),
    taskSeconds: devWorkerTaskSeconds(env),
    eventsNatsUrl: url(env, 'EVENTS_NATS_URL', ['nats:', 'tls:']),
    eventsSubjectPrefix: prefix,
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', LOG_LEVELS),
  });
}
