// The operations settings: limits, health, metrics and the IAM breaker.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config/config.js';

function refused(env: Record<string, string>, variable: string) {
  assert.throws(
    () => loadConfig(env),
    (error: unknown) => error instanceof ConfigError && error.message.startsWith(variable),
  );
}

test('rate limits are off unless set; a burst defaults to twice the rate', () => {
  const off = loadConfig({});
  assert.equal(off.rateLimitPerProjectPerSecond, 0);
  assert.equal(off.rateLimitPerCredentialPerSecond, 0);
  const on = loadConfig({
    RATE_LIMIT_PROJECT_RPS: '50',
    RATE_LIMIT_CREDENTIAL_RPS: '10',
    RATE_LIMIT_CREDENTIAL_BURST: '15',
  });
  assert.equal(on.rateLimitPerProjectPerSecond, 50);
  assert.equal(on.rateLimitProjectBurst, 100);
  assert.equal(on.rateLimitPerCredentialPerSecond, 10);
  assert.equal(on.rateLimitCredentialBurst, 15);
});

test('bad numbers are refused, naming the variable', () => {
  refused({ RATE_LIMIT_PROJECT_RPS: '-1' }, 'RATE_LIMIT_PROJECT_RPS');
  refused({ RATE_LIMIT_CREDENTIAL_BURST: '0' }, 'RATE_LIMIT_CREDENTIAL_BURST');
  refused({ REQUEST_TIMEOUT_MS: '10' }, 'REQUEST_TIMEOUT_MS');
  refused({ HEALTH_TIMEOUT_MS: 'soon' }, 'HEALTH_TIMEOUT_MS');
  refused({ IAM_CIRCUIT_FAILURE_THRESHOLD: '1.5' }, 'IAM_CIRCUIT_FAILURE_THRESHOLD');
  refused({ IAM_CIRCUIT_PROBE_INTERVAL_MS: '0' }, 'IAM_CIRCUIT_PROBE_INTERVAL_MS');
});

test('METRICS_TOKEN: unset means open; a short one is refused without echoing it', () => {
  assert.equal(loadConfig({}).metricsToken, undefined);
  assert.equal(loadConfig({ METRICS_TOKEN: 'a'.repeat(16) }).metricsToken, 'a'.repeat(16));
  for (const bad of ['short-secret', 'has a space in it 0123']) {
    assert.throws(
      () => loadConfig({ METRICS_TOKEN: bad }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.message.startsWith('METRICS_TOKEN') &&
        !error.message.includes(bad),
    );
  }
});
