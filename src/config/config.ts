// Configuration comes from environment variables only. It is parsed and
// validated once, at start-up, into a frozen AppConfig; nothing else in the
// code reads process.env. A bad value stops the process with a message that
// names the variable, what it got and what it wants.

import { resolve } from 'node:path';
import type { ServiceIdentity } from '../iam/keystone-service-token.js';
import { MAX_TOKEN_LENGTH } from '../iam/token-authenticator.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'verbose';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'verbose'];

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
  /** Tasks of one project migrating at once; the scheduler admits up to this. */
  readonly maxParallelTasks: number;
  /** Tasks one project may hold in all (create answers OMS.0077 beyond). */
  readonly maxTasksPerProject: number;
  /** How often the scheduler sweeps for waiting tasks; 0 turns the scheduler off. */
  readonly schedulerSweepIntervalMs: number;
  /** AES-256 key for task secrets; undefined means "the development key in dataDir". */
  readonly secretsKey: Buffer | undefined;
  /** Bound on receiving a whole request (headers and body) from a client. */
  readonly requestTimeoutMs: number;
  /** Bound on each dependency check of GET /health/ready. */
  readonly healthTimeoutMs: number;
  /** Bearer token GET /metrics requires; undefined: /metrics is open. */
  readonly metricsToken: string | undefined;
  /** Token buckets per replica; a rate of 0 turns that limit off. */
  readonly rateLimitPerProjectPerSecond: number;
  readonly rateLimitProjectBurst: number;
  readonly rateLimitPerCredentialPerSecond: number;
  readonly rateLimitCredentialBurst: number;
  /** Consecutive IAM failures that open the circuit; 0 turns the breaker off. */
  readonly iamCircuitFailureThreshold: number;
  /** While the circuit is open, one validation is let through this often. */
  readonly iamCircuitProbeIntervalMs: number;
  /** The service's own IAM user, for access-key signatures; undefined turns them off. */
  readonly iamServiceIdentity: ServiceIdentity | undefined;
  readonly accessKeyCacheTtlSeconds: number;
  readonly accessKeyCacheMaxEntries: number;
  /** How long an access key IAM does not know is refused without asking again. */
  readonly unknownAccessKeyTtlSeconds: number;
}

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

export function loadConfig(env: Env = process.env): AppConfig {
  const production = env.NODE_ENV === 'production';
  const projectRate = integer(env, 'RATE_LIMIT_PROJECT_RPS', 0, 0, 1_000_000);
  const credentialRate = integer(env, 'RATE_LIMIT_CREDENTIAL_RPS', 0, 0, 1_000_000);
  const iamEndpoint = url(env, 'IAM_ENDPOINT', ['http:', 'https:'])?.replace(/\/+$/, '');
  const config: AppConfig = {
    production,
    host: env.HOST || '0.0.0.0',
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
    maxParallelTasks: integer(env, 'MAX_PARALLEL_TASKS', 5, 1, 10_000),
    maxTasksPerProject: integer(env, 'MAX_TASKS_PER_PROJECT', 100_000, 1, 100_000_000),
    schedulerSweepIntervalMs: integer(env, 'SCHEDULER_SWEEP_INTERVAL_MS', 5000, 0, 3_600_000),
    secretsKey: aes256Key(env, 'SECRETS_KEY'),
    requestTimeoutMs: integer(env, 'REQUEST_TIMEOUT_MS', 30_000, 100, 600_000),
    healthTimeoutMs: integer(env, 'HEALTH_TIMEOUT_MS', 1000, 50, 60_000),
    metricsToken: secret(env, 'METRICS_TOKEN', 16),
    rateLimitPerProjectPerSecond: projectRate,
    rateLimitProjectBurst: burst(env, 'RATE_LIMIT_PROJECT_BURST', projectRate),
    rateLimitPerCredentialPerSecond: credentialRate,
    rateLimitCredentialBurst: burst(env, 'RATE_LIMIT_CREDENTIAL_BURST', credentialRate),
    iamCircuitFailureThreshold: integer(env, 'IAM_CIRCUIT_FAILURE_THRESHOLD', 5, 0, 1000),
    iamCircuitProbeIntervalMs: integer(env, 'IAM_CIRCUIT_PROBE_INTERVAL_MS', 5000, 10, 600_000),
    iamServiceIdentity: serviceIdentity(env, iamEndpoint),
    accessKeyCacheTtlSeconds: integer(env, 'ACCESS_KEY_CACHE_TTL_SECONDS', 300, 0, 86_400),
    accessKeyCacheMaxEntries: integer(env, 'ACCESS_KEY_CACHE_MAX_ENTRIES', 10_000, 1, 10_000_000),
    unknownAccessKeyTtlSeconds: integer(env, 'UNKNOWN_AK_CACHE_TTL_SECONDS', 30, 0, 3600),
  };
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
