// The IAM circuit breakers on their own: IAM is a script and time a number
// moved by hand, so the threshold, the probe interval and the single probe
// can each be hit exactly.

import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { DependencyUnavailable, Unauthenticated } from '../src/common/oms-errors.js';
import type { AccessKeyRecord, AccessKeyStore } from '../src/iam/access-key.js';
import {
  CircuitBreakingAccessKeyStore,
  CircuitBreakingValidator,
  IamCircuitOpen,
  IamQueueFull,
} from '../src/iam/circuit-breaker.js';
import type { CircuitState } from '../src/iam/iam-observer.js';
import type { Caller, TokenValidator } from '../src/iam/caller.js';

const IDENTITY: Caller = {
  userId: 'u',
  userName: 'u',
  projectId: 'p',
  roles: ['member'],
  expiresAt: Number.MAX_SAFE_INTEGER,
};

class ScriptedIam implements TokenValidator {
  calls = 0;
  answer: () => Promise<Caller> = async () => IDENTITY;
  validate(): Promise<Caller> {
    this.calls++;
    return this.answer();
  }
}

const down = async (): Promise<Caller> => {
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
    let release!: (identity: Caller) => void;
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

describe('calls refused before IAM was asked (IamQueueFull)', () => {
  let iam: ScriptedIam;
  let now: number;
  let breaker: CircuitBreakingValidator;
  const queueFull = async (): Promise<Caller> => {
    throw new IamQueueFull();
  };

  beforeEach(() => {
    iam = new ScriptedIam();
    now = 0;
    breaker = new CircuitBreakingValidator(
      iam,
      { failureThreshold: 3, probeIntervalMs: 1000 },
      () => now,
    );
  });

  test('neither count as failures nor reset the count', async () => {
    iam.answer = queueFull;
    for (let i = 0; i < 20; i++) await assert.rejects(breaker.validate('t'), IamQueueFull);
    assert.equal(breaker.state, 'closed', "the service's own queue opened the circuit");
    iam.answer = down;
    await assert.rejects(breaker.validate('t'), DependencyUnavailable);
    await assert.rejects(breaker.validate('t'), DependencyUnavailable);
    iam.answer = queueFull;
    await assert.rejects(breaker.validate('t'), IamQueueFull);
    iam.answer = down;
    await assert.rejects(breaker.validate('t'), DependencyUnavailable);
    assert.equal(breaker.state, 'open', 'IAM failed three times in a row');
  });

  test('a probe refused by the queue proved nothing: the next call probes', async () => {
    iam.answer = down;
    for (let i = 0; i < 3; i++) await assert.rejects(breaker.validate('t'), DependencyUnavailable);
    now += 1000;
    iam.answer = queueFull;
    await assert.rejects(breaker.validate('t'), IamQueueFull);
    assert.equal(breaker.state, 'open');
    iam.answer = async () => IDENTITY;
    assert.equal(await breaker.validate('t'), IDENTITY, 'no new interval to wait for');
    assert.equal(breaker.state, 'closed');
  });
});

describe('CircuitBreakingAccessKeyStore: the same mechanism for access-key lookups', () => {
  const RECORD: AccessKeyRecord = { secretKey: 's', caller: IDENTITY, expiresAt: 1 };
  let calls: number;
  let answer: () => Promise<AccessKeyRecord | undefined>;
  let now: number;
  let states: CircuitState[];
  let store: CircuitBreakingAccessKeyStore;

  beforeEach(() => {
    calls = 0;
    now = 0;
    states = [];
    answer = async () => RECORD;
    const inner: AccessKeyStore = {
      lookup: () => {
        calls++;
        return answer();
      },
    };
    store = new CircuitBreakingAccessKeyStore(
      inner,
      { failureThreshold: 3, probeIntervalMs: 1000, onStateChange: (s) => states.push(s) },
      () => now,
    );
  });

  test('opens after the threshold, fails fast, probes after the interval, closes', async () => {
    answer = async () => {
      throw new DependencyUnavailable('IAM');
    };
    for (let i = 0; i < 3; i++) await assert.rejects(store.lookup('AK'), DependencyUnavailable);
    assert.equal(store.state, 'open');
    for (let i = 0; i < 5; i++) await assert.rejects(store.lookup('AK'), IamCircuitOpen);
    assert.equal(calls, 3, 'IAM was asked while the circuit was open');
    now += 1000;
    answer = async () => RECORD;
    assert.equal(await store.lookup('AK'), RECORD);
    assert.deepEqual(states, ['open', 'half_open', 'closed']);
  });

  test('an unknown key, or a key refused, is IAM answering', async () => {
    answer = async () => undefined;
    for (let i = 0; i < 5; i++) assert.equal(await store.lookup('AK'), undefined);
    answer = async () => {
      throw new Unauthenticated('the access key is unknown.');
    };
    for (let i = 0; i < 5; i++) await assert.rejects(store.lookup('AK'), Unauthenticated);
    assert.equal(store.state, 'closed');
  });
});
