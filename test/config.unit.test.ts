// loadConfig is fed hand-made environments (never process.env), so each test
// says exactly which variables exist.

import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig, loadWorkerProcessConfig } from '../src/config/config.js';

const PRODUCTION_ENV = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://oms:pw@db.internal:5432/oms',
  IAM_ENDPOINT: 'https://iam.example.com/v3',
  SECRETS_KEY: Buffer.alloc(32, 7).toString('base64'),
};

function configErrorNaming(variable: string) {
  return (error: unknown) => {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    assert.match(error.message, new RegExp(`\\b${variable}\\b`));
    return true;
  };
}

describe('defaults', () => {
  test('an empty environment gives the documented defaults', () => {
    assert.deepEqual(loadConfig({}), {
      production: false,
      host: '127.0.0.1',
      port: 8080,
      databaseUrl: undefined,
      databasePoolSize: 10,
      databaseConnectTimeoutMs: 3000,
      databaseStatementTimeoutMs: 5000,
      runMigrations: true,
      dataDir: resolve('.data'),
      iamEndpoint: undefined,
      iamTimeoutMs: 3000,
      iamMaxTokenLength: 16_384,
      iamMaxConnections: 64,
      iamQueueMax: 256,
      iamQueueTimeoutMs: 1000,
      tokenCacheTtlSeconds: 300,
      tokenCacheMaxEntries: 10_000,
      readOnlyRoles: ['reader', 'readonly', 'viewer'],
      logLevel: 'info',
      logFormat: 'auto',
      maxParallelTasks: 5,
      maxTasksPerProject: 100_000,
      maxSyncTasksPerProject: 1000,
      schedulerSweepIntervalMs: 5000,
      secretsKey: undefined,
      requestTimeoutMs: 30_000,
      healthTimeoutMs: 1000,
      healthReadyCacheMs: 1000,
      metricsToken: undefined,
      rateLimitPerProjectPerSecond: 0,
      rateLimitProjectBurst: 1,
      rateLimitPerCredentialPerSecond: 0,
      rateLimitCredentialBurst: 1,
      rateLimitUnprovenPerSecond: 0,
      rateLimitUnprovenBurst: 1,
      trustProxy: false,
      iamCircuitFailureThreshold: 5,
      iamCircuitProbeIntervalMs: 5000,
      iamServiceIdentity: undefined,
      accessKeyCacheTtlSeconds: 300,
      accessKeyCacheMaxEntries: 10_000,
      signatureHosts: ['localhost', '127.0.0.1', '[::1]'],
      unknownAccessKeyTtlSeconds: 30,
      workerRole: 'oms_worker',
      workerLeaseTtlMs: 30_000,
      workerHeartbeatIntervalMs: 5000,
      workerLeaseSweepIntervalMs: 1000,
      devWorker: true,
      devWorkerTaskSeconds: 150,
      events: undefined,
    });
  });

  test('an empty value counts as unset', () => {
    const config = loadConfig({ PORT: '', LOG_LEVEL: '', RUN_MIGRATIONS: '', DATABASE_URL: '' });
    assert.equal(config.port, 8080);
    assert.equal(config.logLevel, 'info');
    assert.equal(config.runMigrations, true);
    assert.equal(config.databaseUrl, undefined);
  });

  // Container platforms hand an unset variable over as an empty one; for this
  // variable, reading that as "no read-only roles" would let readers write.
  test('an empty READ_ONLY_ROLES counts as unset, not as "no read-only roles"', () => {
    assert.deepEqual(loadConfig({ READ_ONLY_ROLES: '' }).readOnlyRoles, [
      'reader',
      'readonly',
      'viewer',
    ]);
  });

  // Development mode prints working credentials: by default only this
  // machine can reach it. Production listens on every address, for its
  // container's port mapping.
  test('HOST: loopback in development, every address in production, or as given', () => {
    assert.equal(loadConfig({}).host, '127.0.0.1');
    assert.equal(loadConfig(PRODUCTION_ENV).host, '0.0.0.0');
    assert.equal(loadConfig({ HOST: '0.0.0.0' }).host, '0.0.0.0');
    assert.equal(loadConfig({ ...PRODUCTION_ENV, HOST: '10.0.0.5' }).host, '10.0.0.5');
  });

  test('the result is frozen', () => {
    assert.ok(Object.isFrozen(loadConfig({})));
  });
});

describe('good values are read', () => {
  test('numbers, booleans, levels, lists and URLs', () => {
    const config = loadConfig({
      PORT: '0',
      TOKEN_CACHE_TTL_SECONDS: '0',
      RUN_MIGRATIONS: 'false',
      LOG_LEVEL: 'debug',
      READ_ONLY_ROLES: ' Auditor, GUEST ,,',
      DATABASE_URL: 'postgresql://u@localhost/oms',
      IAM_ENDPOINT: 'http://127.0.0.1:5000/v3',
    });
    assert.equal(config.port, 0);
    assert.equal(config.tokenCacheTtlSeconds, 0);
    assert.equal(config.runMigrations, false);
    assert.equal(config.logLevel, 'debug');
    assert.deepEqual(config.readOnlyRoles, ['auditor', 'guest']);
    assert.equal(config.databaseUrl, 'postgresql://u@localhost/oms');
    assert.equal(config.iamEndpoint, 'http://127.0.0.1:5000/v3');
  });

  test('the unproven limit, the proxies trusted and the hosts signatures are for', () => {
    const config = loadConfig({
      RATE_LIMIT_UNPROVEN_RPS: '50',
      TRUST_PROXY: '10.0.0.0/8, 192.168.1.1,loopback,::1',
      SIGNATURE_HOSTS: 'OMS.example.com, oms.internal:8443,[2001:db8::1]',
    });
    assert.equal(config.rateLimitUnprovenPerSecond, 50);
    assert.equal(config.rateLimitUnprovenBurst, 100);
    assert.equal(config.trustProxy, '10.0.0.0/8,192.168.1.1,loopback,::1');
    assert.deepEqual(config.signatureHosts, [
      'oms.example.com',
      'oms.internal:8443',
      '[2001:db8::1]',
    ]);
    assert.equal(loadConfig({ TRUST_PROXY: 'true' }).trustProxy, true);
    assert.equal(loadConfig({ TRUST_PROXY: 'false' }).trustProxy, false);
  });

  test('the IAM connection pools, the token bound and the unknown-key TTL', () => {
    const config = loadConfig({
      IAM_MAX_TOKEN_LENGTH: '4000',
      IAM_MAX_CONNECTIONS: '8',
      IAM_QUEUE_MAX: '0',
      IAM_QUEUE_TIMEOUT_MS: '250',
      UNKNOWN_AK_CACHE_TTL_SECONDS: '0',
    });
    assert.equal(config.iamMaxTokenLength, 4000);
    assert.equal(config.iamMaxConnections, 8);
    assert.equal(config.iamQueueMax, 0);
    assert.equal(config.iamQueueTimeoutMs, 250);
    assert.equal(config.unknownAccessKeyTtlSeconds, 0);
  });

  test('the bounds themselves are allowed', () => {
    assert.equal(loadConfig({ PORT: '65535' }).port, 65535);
    assert.equal(loadConfig({ TOKEN_CACHE_TTL_SECONDS: '86400' }).tokenCacheTtlSeconds, 86_400);
  });

  for (const [raw, value] of [
    ['true', true],
    ['1', true],
    ['false', false],
    ['0', false],
  ] as const) {
    test(`RUN_MIGRATIONS=${raw} is ${value}`, () => {
      assert.equal(loadConfig({ RUN_MIGRATIONS: raw }).runMigrations, value);
    });
  }

  for (const [raw, trimmed] of [
    ['https://iam.example.com/v3/', 'https://iam.example.com/v3'],
    ['https://iam.example.com/v3///', 'https://iam.example.com/v3'],
    ['http://127.0.0.1:5000/', 'http://127.0.0.1:5000'],
  ]) {
    test(`IAM_ENDPOINT=${raw} loses its trailing slashes`, () => {
      assert.equal(loadConfig({ IAM_ENDPOINT: raw }).iamEndpoint, trimmed);
    });
  }

  test('production with both DATABASE_URL and IAM_ENDPOINT is accepted', () => {
    const config = loadConfig(PRODUCTION_ENV);
    assert.equal(config.production, true);
    assert.equal(config.databaseUrl, PRODUCTION_ENV.DATABASE_URL);
  });
});

describe('bad values stop the start-up, naming the variable', () => {
  for (const [variable, raw] of [
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['PORT', ' 8080'],
    ['PORT', '8e3'],
    ['TOKEN_CACHE_TTL_SECONDS', '-1'],
    ['TOKEN_CACHE_TTL_SECONDS', '86401'],
    ['TOKEN_CACHE_MAX_ENTRIES', '0'],
    ['IAM_TIMEOUT_MS', '10'],
    ['DATABASE_POOL_SIZE', 'ten'],
    ['LOG_LEVEL', 'loud'],
    ['LOG_LEVEL', 'INFO'],
    ['DATABASE_URL', 'mysql://oms@db.internal/oms'],
    ['DATABASE_URL', 'not a url'],
    ['IAM_ENDPOINT', 'not a url'],
    ['IAM_ENDPOINT', 'ftp://iam.example.com/v3'],
    ['RUN_MIGRATIONS', 'maybe'],
    ['RUN_MIGRATIONS', 'yes'],
    ['MAX_PARALLEL_TASKS', '0'],
    ['MAX_TASKS_PER_PROJECT', '0'],
    ['MAX_SYNC_TASKS_PER_PROJECT', '0'],
    ['SCHEDULER_SWEEP_INTERVAL_MS', '-5'],
    ['SECRETS_KEY', 'c2hvcnQ='],
    ['SECRETS_KEY', 'not base64 at all, and long enough to be 32 bytes...'],
    ['SECRETS_KEY', Buffer.alloc(33).toString('base64')],
    ['ACCESS_KEY_CACHE_TTL_SECONDS', '86401'],
    ['ACCESS_KEY_CACHE_MAX_ENTRIES', '0'],
    ['RATE_LIMIT_UNPROVEN_RPS', '-1'],
    ['RATE_LIMIT_UNPROVEN_BURST', '0'],
    ['TRUST_PROXY', 'yes'],
    ['TRUST_PROXY', '2'],
    ['TRUST_PROXY', '10.0.0.0/33'],
    ['TRUST_PROXY', '10.0.0.1,proxy.internal'],
    ['SIGNATURE_HOSTS', ' , '],
    ['SIGNATURE_HOSTS', 'https://oms.example.com'],
    ['SIGNATURE_HOSTS', 'oms.example.com/v2'],
    ['SIGNATURE_HOSTS', 'oms.example.com:port'],
    ['IAM_MAX_TOKEN_LENGTH', '0'],
    ['IAM_MAX_TOKEN_LENGTH', '16385'],
    ['IAM_MAX_CONNECTIONS', '0'],
    ['IAM_QUEUE_MAX', '-1'],
    ['IAM_QUEUE_TIMEOUT_MS', '0'],
    ['UNKNOWN_AK_CACHE_TTL_SECONDS', '3601'],
  ]) {
    test(`${variable}=${JSON.stringify(raw)}`, () => {
      assert.throws(() => loadConfig({ [variable]: raw }), configErrorNaming(variable));
    });
  }
});

describe('production needs a real database, a real IAM and a secrets key', () => {
  test('SECRETS_KEY is read as 32 bytes of base64', () => {
    assert.deepEqual(loadConfig(PRODUCTION_ENV).secretsKey, Buffer.alloc(32, 7));
  });

  test('without SECRETS_KEY, that is what is named', () => {
    const env: Record<string, string> = { ...PRODUCTION_ENV };
    delete env.SECRETS_KEY;
    assert.throws(() => loadConfig(env), configErrorNaming('SECRETS_KEY'));
  });

  test('a bad SECRETS_KEY is never echoed', () => {
    const almostAKey = Buffer.alloc(31, 9).toString('base64');
    assert.throws(
      () => loadConfig({ SECRETS_KEY: almostAKey }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.ok(!error.message.includes(almostAKey), error.message);
        return true;
      },
    );
  });

  test('without either, both are named', () => {
    assert.throws(
      () => loadConfig({ NODE_ENV: 'production' }),
      (error: unknown) => {
        configErrorNaming('DATABASE_URL')(error);
        return configErrorNaming('IAM_ENDPOINT')(error);
      },
    );
  });

  test('without DATABASE_URL, that is what is named', () => {
    const env: Record<string, string> = { ...PRODUCTION_ENV };
    delete env.DATABASE_URL;
    assert.throws(
      () => loadConfig(env),
      (error: unknown) => {
        configErrorNaming('DATABASE_URL')(error);
        assert.doesNotMatch((error as Error).message, /IAM_ENDPOINT/);
        return true;
      },
    );
  });

  test('without IAM_ENDPOINT, that is what is named', () => {
    const env: Record<string, string> = { ...PRODUCTION_ENV };
    delete env.IAM_ENDPOINT;
    assert.throws(
      () => loadConfig(env),
      (error: unknown) => {
        configErrorNaming('IAM_ENDPOINT')(error);
        assert.doesNotMatch((error as Error).message, /DATABASE_URL/);
        return true;
      },
    );
  });
});

describe('an error message never shows the database password', () => {
  const PASSWORD = 'Sup3r-S3cret';
  for (const [what, env] of [
    ['a wrong protocol', { DATABASE_URL: `mysql://oms:${PASSWORD}@db.internal/oms` }],
    ['an unparseable URL', { DATABASE_URL: `postgres://oms:${PASSWORD}@db.internal:port/oms` }],
    ['a URL with spaces', { DATABASE_URL: `postgres://oms:${PASSWORD} @db internal/oms` }],
    [
      'production without IAM_ENDPOINT',
      { NODE_ENV: 'production', DATABASE_URL: `postgres://oms:${PASSWORD}@db.internal/oms` },
    ],
    [
      'another variable being wrong',
      { DATABASE_URL: `postgres://oms:${PASSWORD}@db.internal/oms`, PORT: 'abc' },
    ],
  ] as const) {
    test(what, () => {
      assert.throws(
        () => loadConfig(env),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.ok(!error.message.includes(PASSWORD), error.message);
          assert.ok(!error.message.includes(encodeURIComponent(PASSWORD)), error.message);
          return true;
        },
      );
    });
  }
});

describe('the IAM service identity (access-key signatures)', () => {
  const IAM = 'https://iam.example.com/v3';
  const FULL = {
    IAM_ENDPOINT: IAM,
    IAM_SERVICE_USER: 'oms-service',
    IAM_SERVICE_PASSWORD: 'secret-pass',
    IAM_SERVICE_PROJECT: 'service',
  };

  test('all three given: read, domains default to Default', () => {
    assert.deepEqual(loadConfig(FULL).iamServiceIdentity, {
      userName: 'oms-service',
      password: 'secret-pass',
      userDomain: 'Default',
      projectName: 'service',
      projectDomain: 'Default',
    });
  });

  test('the project domain follows the user domain unless given', () => {
    const identity = loadConfig({ ...FULL, IAM_SERVICE_USER_DOMAIN: 'ops' }).iamServiceIdentity;
    assert.equal(identity?.projectDomain, 'ops');
    const other = loadConfig({ ...FULL, IAM_SERVICE_PROJECT_DOMAIN: 'svc' }).iamServiceIdentity;
    assert.deepEqual([other?.userDomain, other?.projectDomain], ['Default', 'svc']);
  });

  for (const missing of ['IAM_SERVICE_USER', 'IAM_SERVICE_PASSWORD', 'IAM_SERVICE_PROJECT']) {
    test(`partially configured (no ${missing}) stops the start-up, naming it`, () => {
      const env: Record<string, string> = { ...FULL };
      delete env[missing];
      assert.throws(() => loadConfig(env), configErrorNaming(missing));
    });
  }

  test('a service identity without IAM_ENDPOINT stops the start-up', () => {
    const env: Record<string, string> = { ...FULL };
    delete env.IAM_ENDPOINT;
    assert.throws(() => loadConfig(env), configErrorNaming('IAM_ENDPOINT'));
  });

  test('the password never appears in the error message', () => {
    assert.throws(
      () => loadConfig({ IAM_SERVICE_PASSWORD: 'hunter2-secret', IAM_ENDPOINT: IAM }),
      (error: Error) => !error.message.includes('hunter2-secret'),
    );
  });
});

test('a heartbeat interval longer than half the lease is refused at start-up', () => {
  assert.throws(
    () => loadConfig({ WORKER_LEASE_TTL_MS: '1000', WORKER_HEARTBEAT_INTERVAL_MS: '600' }),
    /WORKER_HEARTBEAT_INTERVAL_MS \(600\) must be at most half of WORKER_LEASE_TTL_MS \(1000\)/,
  );
  assert.equal(
    loadConfig({ WORKER_LEASE_TTL_MS: '1000', WORKER_HEARTBEAT_INTERVAL_MS: '500' })
      .workerHeartbeatIntervalMs,
    500,
  );
});

describe('the demo worker', () => {
  test('on by default with the development IAM, off with IAM_ENDPOINT (production)', () => {
    assert.equal(loadConfig({}).devWorker, true);
    assert.equal(loadConfig({ DEV_WORKER: 'off' }).devWorker, false);
    assert.equal(loadConfig(PRODUCTION_ENV).devWorker, false);
    assert.equal(loadConfig({ IAM_ENDPOINT: 'http://127.0.0.1:5000/v3' }).devWorker, false);
  });

  test('on with IAM_ENDPOINT, or a value that is not on or off, stops the start', () => {
    assert.throws(
      () => loadConfig({ ...PRODUCTION_ENV, DEV_WORKER: 'on' }),
      /DEV_WORKER=on needs the development IAM/,
    );
    assert.throws(() => loadConfig({ DEV_WORKER: 'yes' }), configErrorNaming('DEV_WORKER'));
    for (const bad of ['0', '86401', '1.5', 'soon']) {
      assert.throws(
        () => loadConfig({ DEV_WORKER_TASK_SECONDS: bad }),
        configErrorNaming('DEV_WORKER_TASK_SECONDS'),
      );
    }
    assert.equal(loadConfig({ DEV_WORKER_TASK_SECONDS: '3' }).devWorkerTaskSeconds, 3);
  });
});

describe('a worker process', () => {
  const WORKER_ENV = { OMS_URL: 'http://127.0.0.1:8080/', OMS_WORKER_TOKEN: 'tok-secret-123' };

  test('needs the service and a token; the rest has defaults', () => {
    assert.deepEqual(loadWorkerProcessConfig(WORKER_ENV, 'worker-host-1'), {
      omsUrl: 'http://127.0.0.1:8080',
      token: 'tok-secret-123',
      workerId: 'worker-host-1',
      maxTasks: 5,
      pollIntervalMs: 1000,
      taskSeconds: 150,
      eventsNatsUrl: undefined,
      eventsSubjectPrefix: '',
      logLevel: 'info',
    });
    assert.throws(
      () => loadWorkerProcessConfig({ OMS_WORKER_TOKEN: 't' }),
      configErrorNaming('OMS_URL'),
    );
    assert.throws(
      () => loadWorkerProcessConfig({ OMS_URL: 'http://oms:8080' }),
      configErrorNaming('OMS_WORKER_TOKEN'),
    );
  });

  test('bad values are refused, naming the variable and never the token', () => {
    for (const [name, value] of [
      ['OMS_URL', 'ftp://oms'],
      ['WORKER_ID', 'two words'],
      ['WORKER_ID', 'x'.repeat(129)],
      ['WORKER_MAX_TASKS', '0'],
      ['WORKER_MAX_TASKS', '101'],
      ['WORKER_POLL_INTERVAL_MS', '5'],
      ['DEV_WORKER_TASK_SECONDS', '0'],
      ['EVENTS_NATS_URL', 'http://nats:4222'],
      ['EVENTS_SUBJECT_PREFIX', 'a..b'],
    ]) {
      assert.throws(
        () => loadWorkerProcessConfig({ ...WORKER_ENV, [name]: value }),
        (error: Error) =>
          configErrorNaming(name)(error) && !error.message.includes('tok-secret-123'),
        `${name}=${value}`,
      );
    }
    assert.throws(
      () => loadWorkerProcessConfig({ ...WORKER_ENV, OMS_WORKER_TOKEN: 'has space' }),
      (error: Error) =>
        configErrorNaming('OMS_WORKER_TOKEN')(error) && !error.message.includes('has space'),
    );
    const given = loadWorkerProcessConfig({
      ...WORKER_ENV,
      WORKER_ID: 'w-1.a:b',
      EVENTS_NATS_URL: 'nats://127.0.0.1:4222',
      EVENTS_SUBJECT_PREFIX: 'ci.run1',
    });
    assert.deepEqual(
      [given.workerId, given.eventsNatsUrl, given.eventsSubjectPrefix],
      ['w-1.a:b', 'nats://127.0.0.1:4222', 'ci.run1'],
    );
  });
});
