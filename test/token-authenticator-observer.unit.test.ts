// What the authenticator reports to the metrics: one cache lookup per
// well-formed token (hit or miss), one validation outcome per call that went
// past the cache, and nothing for tokens refused by their shape alone.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DependencyUnavailable, Unauthenticated } from '../src/common/oms-errors.js';
import { IamCircuitOpen, IamQueueFull } from '../src/iam/circuit-breaker.js';
import type {
  CircuitState,
  IamCircuit,
  IamObserver,
  ValidationOutcome,
} from '../src/iam/iam-observer.js';
import type { Caller, TokenValidator } from '../src/iam/caller.js';
import { TokenAuthenticator } from '../src/iam/token-authenticator.js';

const NOW = 1_700_000_000_000;

class Recorder implements IamObserver {
  readonly lookups: boolean[] = [];
  readonly outcomes: ValidationOutcome[] = [];
  tokenCacheLookup(hit: boolean): void {
    this.lookups.push(hit);
  }
  iamValidation(outcome: ValidationOutcome): void {
    this.outcomes.push(outcome);
  }
  iamCircuitState(_circuit: IamCircuit, _state: CircuitState): void {}
}

function identity(expiresAt = NOW + 3_600_000): Caller {
  return { userId: 'u', userName: 'u', projectId: 'p', roles: ['member'], expiresAt };
}

/** IAM by token: `valid-*` is valid, `expired-*` comes back already expired, the rest fail as named. */
const iam: TokenValidator = {
  async validate(token) {
    if (token.startsWith('valid-')) return identity();
    if (token.startsWith('expired-')) return identity(NOW - 1);
    if (token.startsWith('down-')) throw new DependencyUnavailable('IAM');
    if (token.startsWith('open-')) throw new IamCircuitOpen();
    if (token.startsWith('queued-')) throw new IamQueueFull();
    throw new Unauthenticated('unknown');
  },
};

function authenticator() {
  const recorder = new Recorder();
  const auth = new TokenAuthenticator(
    iam,
    { ttlSeconds: 300, maxEntries: 100, observer: recorder },
    () => NOW,
  );
  return { auth, recorder };
}

test('a miss, then hits: the hit ratio the metrics compute', async () => {
  const { auth, recorder } = authenticator();
  for (let i = 0; i < 4; i++) await auth.authenticate('valid-1');
  assert.deepEqual(recorder.lookups, [false, true, true, true]);
  assert.deepEqual(recorder.outcomes, ['valid']);
});

test('each outcome of a validation past the cache', async () => {
  const { auth, recorder } = authenticator();
  for (const token of ['unknown-1', 'expired-1', 'down-1', 'open-1', 'queued-1']) {
    await assert.rejects(auth.authenticate(token));
  }
  assert.deepEqual(recorder.outcomes, [
    'invalid',
    'invalid',
    'unavailable',
    'circuit_open',
    'queue_full',
  ]);
  assert.deepEqual(recorder.lookups, [false, false, false, false, false]);
});

test('concurrent misses of one token: one validation, every lookup counted', async () => {
  const { auth, recorder } = authenticator();
  await Promise.all(Array.from({ length: 5 }, () => auth.authenticate('valid-2')));
  assert.deepEqual(recorder.lookups, [false, false, false, false, false]);
  assert.deepEqual(recorder.outcomes, ['valid']);
});

test('tokens refused by their shape are not lookups', async () => {
  const { auth, recorder } = authenticator();
  await assert.rejects(auth.authenticate(undefined));
  await assert.rejects(auth.authenticate('has a space'));
  await assert.rejects(auth.authenticate('x'.repeat(20_000)));
  assert.deepEqual(recorder.lookups, []);
  assert.deepEqual(recorder.outcomes, []);
});
