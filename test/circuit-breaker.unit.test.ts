// The IAM circuit breaker on its own: IAM is a script and time a number moved
// by hand, so the threshold, the probe interval and the single probe can each
// be hit exactly.

import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { DependencyUnavailable, Unauthenticated } from '../src/common/oms-errors.js';
import { CircuitBreakingValidator, IamCircuitOpen } from '../src/iam/circuit-breaker.js';
import type { CircuitState } from '../src/iam/iam-observer.js';
import type { Identity, TokenValidator } from '../src/iam/identity.js';

const IDENTITY: Identity = {
  userId: 'u',
  userName: 'u',
  projectId: 'p',
  roles: ['member'],
  expiresAt: Number.MAX_SAFE_INTEGER,
};

class ScriptedIam implements TokenValidator {
  calls = 0;
  answer: () => Promise<Identity> = async () => IDENTITY;
  validate(): Promise<Identity> {
    this.calls++;
    return this.answer();
  }
}

const down = async (): Promise<Identity> => {
  throw new DependencyUnavailable('IAM');
};

describe('CircuitBreakingValidator', () => {
  let iam: ScriptedIam;
  let now: number;
  let states: CircuitState[];
  let breaker: CircuitBreakingValidator;

  beforeEach(() => {
    iam = new ScriptedIam();
    now = 0;
    states = [];
    breaker = new CircuitBreakingValidator(
      iam,
      { failureThreshold: 3, probeIntervalMs: 1000, onStateChange: (s) => states.push(s) },
      () => now,
    );
  });

  async function failures(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      await assert.rejects(breaker.validate('t'), DependencyUnavailable);
    }
  }

  test('stays closed below the threshold; a success resets the count', async () => {
    iam.answer = down;
    await failures(2);
    iam.answer = async () => IDENTITY;
    assert.equal(await breaker.validate('t'), IDENTITY);
    iam.answer = down;
    await failures(2);
    assert.equal(breaker.state, 'closed');
    assert.equal(iam.calls, 5);
  });

  test('opens after the threshold and then fails fast without asking IAM', async () => {
    iam.answer = down;
    await failures(3);
    assert.equal(breaker.state, 'open');
    assert.deepEqual(states, ['open']);
    for (let i = 0; i < 10; i++) {
      now += 99;
      await assert.rejects(breaker.validate('t'), IamCircuitOpen);
    }
    assert.equal(iam.calls, 3, 'IAM was asked while the circuit was open');
  });

  test('a token IAM rejects is an answer, not a failure', async () => {
    iam.answer = async () => {
      throw new Unauthenticated('bad');
    };
    for (let i = 0; i < 5; i++) await assert.rejects(breaker.validate('t'), Unauthenticated);
    assert.equal(breaker.state, 'closed');
    assert.equal(iam.calls, 5);
  });

  test('after the probe interval one probe goes through; its failure reopens for another interval', async () => {
    iam.answer = down;
    await failures(3);
    now += 999;
    await assert.rejects(breaker.validate('t'), IamCircuitOpen);
    assert.equal(iam.calls, 3);
    now += 1;
    await assert.rejects(breaker.validate('t'), (e) => !(e instanceof IamCircuitOpen));
    assert.equal(iam.calls, 4, 'the probe reached IAM');
    assert.equal(breaker.state, 'open');
    now += 999;
    await assert.rejects(breaker.validate('t'), IamCircuitOpen);
    assert.equal(iam.calls, 4);
    now += 1;
    await assert.rejects(breaker.validate('t'), DependencyUnavailable);
    assert.equal(iam.calls, 5, 'probes continue, one per interval');
  });

  test('only one probe at a time: others fail fast while it is out', async () => {
    iam.answer = down;
    await failures(3);
    now += 1000;
    let release!: (identity: Identity) => void;
    iam.answer = () => new Promise((resolve) => (release = resolve));
    const probe = breaker.validate('t');
    assert.equal(breaker.state, 'half_open');
    await assert.rejects(breaker.validate('other'), IamCircuitOpen);
    await assert.rejects(breaker.validate('third'), IamCircuitOpen);
    assert.equal(iam.calls, 4);
    release(IDENTITY);
    assert.equal(await probe, IDENTITY);
    assert.equal(breaker.state, 'closed');
    assert.deepEqual(states, ['open', 'half_open', 'closed']);
  });

  test('a successful probe closes the circuit: every request reaches IAM again', async () => {
    iam.answer = down;
    await failures(3);
    now += 1000;
    iam.answer = async () => IDENTITY;
    await breaker.validate('t');
    assert.equal(breaker.state, 'closed');
    for (let i = 0; i < 5; i++) await breaker.validate(`t${i}`);
    assert.equal(iam.calls, 3 + 1 + 5);
  });

  test('a threshold of 0 never opens the circuit', async () => {
    const plain = new CircuitBreakingValidator(
      iam,
      { failureThreshold: 0, probeIntervalMs: 1000 },
      () => now,
    );
    iam.answer = down;
    for (let i = 0; i < 20; i++) await assert.rejects(plain.validate('t'), DependencyUnavailable);
    assert.equal(plain.state, 'closed');
    assert.equal(iam.calls, 20);
  });
});
