// Configuration comes from environment variables only. It is parsed and
// validated once, at start-up, into a frozen AppConfig; nothing else in the
// code reads process.env. A bad value stops the process with a message that
// names the variable, what it got and what it wants.

import { resolve } from 'node:path';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'verbose';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'verbose'];

export interface AppConfig {
  readonly production: boolean;
  readonly host: string;
  readonly port: number;
  readonly httpRequestTimeoutMs: number;
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
  readonly tokenCacheTtlSeconds: number;
  readonly tokenCacheMaxEntries: number;
  readonly readOnlyRoles: readonly string[];
  readonly logLevel: LogLevel;
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

export function loadConfig(env: Env = process.env): AppConfig {
  const production = env.NODE_ENV === 'production';
  const config: AppConfig = {
    production,
    host: env.HOST || '0.0.0.0',
    port: integer(env, 'PORT', 8080, 0, 65535),
    httpRequestTimeoutMs: integer(env, 'HTTP_REQUEST_TIMEOUT_MS', 30_000, 100, 600_000),
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    databasePoolSize: integer(env, 'DATABASE_POOL_SIZE', 10, 1, 1000),
    databaseConnectTimeoutMs: integer(env, 'DATABASE_CONNECT_TIMEOUT_MS', 3000, 100, 600_000),
    databaseStatementTimeoutMs: integer(env, 'DATABASE_STATEMENT_TIMEOUT_MS', 5000, 100, 600_000),
    runMigrations: boolean(env, 'RUN_MIGRATIONS', true),
    dataDir: resolve(env.DATA_DIR || '.data'),
    iamEndpoint: url(env, 'IAM_ENDPOINT', ['http:', 'https:'])?.replace(/\/+$/, ''),
    iamTimeoutMs: integer(env, 'IAM_TIMEOUT_MS', 3000, 50, 60_000),
    tokenCacheTtlSeconds: integer(env, 'TOKEN_CACHE_TTL_SECONDS', 300, 0, 86_400),
    tokenCacheMaxEntries: integer(env, 'TOKEN_CACHE_MAX_ENTRIES', 10_000, 1, 10_000_000),
    readOnlyRoles: list(env, 'READ_ONLY_ROLES', ['reader', 'readonly', 'viewer']),
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', LOG_LEVELS),
  };
  if (production && (!config.databaseUrl || !config.iamEndpoint)) {
    const missing = [!config.databaseUrl && 'DATABASE_URL', !config.iamEndpoint && 'IAM_ENDPOINT'];
    throw new ConfigError(
      `NODE_ENV=production needs ${missing.filter(Boolean).join(' and ')}: ` +
        'the embedded database and the development IAM are for development only',
    );
  }
  return Object.freeze(config);
}
