// The authenticator in front of IAM: shape checks that spare IAM the garbage,
// the cache that spares it the repeats, and the coalescing that spares it a
// burst. IAM is a scripted validator here and time is a number we move by
// hand, so every boundary can be hit to the millisecond.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DependencyUnavailable,
  InvalidParameter,
  Unauthenticated,
  type OmsErrorCode,
} from '../src/common/oms-errors.js';
import type { Caller, TokenValidator } from '../src/iam/caller.js';
import { MAX_TOKEN_LENGTH, TokenAuthenticator, tokenKey } from '../src/iam/token-authenticator.js';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

function identityOf(token: string, expiresAt = T0 + 24 * HOUR): Caller {
  return {
    userId: `user-of-${token.slice(0, 20)}`,
    userName: 'someone',
    projectId: 'project-1',
    roles: ['member'],
    expiresAt,
  };
}

/** IAM as a script: by default every token is valid for 24 h from T0. */
class ScriptedValidator implements TokenValidator {
  readonly calls: string[] = [];
  answer: (token: string) => Promise<Caller> = async (token) => identityOf(token);

  validate(token: string): Promise<Caller> {
    this.calls.push(token);
    return this.answer(token);
  }

  callsFor(token: string): number {
    return this.calls.filter((t) => t === token).length;
  }
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function setup(options: { ttlSeconds?: number; maxEntries?: number } = {}) {
  const clock = { now: T0 };
  const validator = new ScriptedValidator();
  const authenticator = new TokenAuthenticator(
    validator,
    { ttlSeconds: options.ttlSeconds ?? 300, maxEntries: options.maxEntries ?? 100 },
    () => clock.now,
  );
  return { clock, validator, authenticator };
}

function rejectsWith(code: OmsErrorCode, type: abstract new (...args: never[]) => Error) {
  return (error: unknown) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    assert.equal((error as { code?: unknown }).code, code);
    return true;
  };
}

const unauthenticated = rejectsWith('APIGW.0301', Unauthenticated);

describe('the cache in front of IAM', () => {
  test('a validated token is served from the cache until validation + TTL, not a ms longer', async () => {
    const { clock, validator, authenticator } = setup({ ttlSeconds: 60 });
    const first = await authenticator.authenticate('token-a');
    assert.equal(validator.calls.length, 1);

    clock.now = T0 + 60_000 - 1;
    assert.deepEqual(await authenticator.authenticate('token-a'), first);
    assert.equal(validator.calls.length, 1, 'still served from the cache');

    clock.now = T0 + 60_000;
    await authenticator.authenticate('token-a');
    assert.equal(validator.calls.length, 2, 'asked IAM again once the TTL ran out');
  });

  test('a token that expires before the TTL is dropped at its expiry', async () => {
    const { clock, validator, authenticator } = setup({ ttlSeconds: 300 });
    // IAM keeps vouching for the same identity, as a cache in IAM might.
    validator.answer = async (token) => identityOf(token, T0 + 10_000);
    await authenticator.authenticate('short-lived');

    clock.now = T0 + 9_999;
    await authenticator.authenticate('short-lived');
    assert.equal(validator.calls.length, 1);

    clock.now = T0 + 10_000;
    await assert.rejects(authenticator.authenticate('short-lived'), unauthenticated);
    assert.equal(validator.calls.length, 2, 'the expired entry was not served');
  });

  test('TTL 0 caches nothing', async () => {
    const { validator, authenticator } = setup({ ttlSeconds: 0 });
    await authenticator.authenticate('token-a');
    await authenticator.authenticate('token-a');
    await authenticator.authenticate('token-a');
    assert.equal(validator.calls.length, 3);
  });

  test('the cache is bounded: when full, the oldest entry is evicted', async () => {
    const { validator, authenticator } = setup({ maxEntries: 2 });
    for (const token of ['token-a', 'token-b', 'token-c']) await authenticator.authenticate(token);
    assert.equal(validator.calls.length, 3);

    await authenticator.authenticate('token-b');
    await authenticator.authenticate('token-c');
    assert.equal(validator.calls.length, 3, 'the two youngest are still cached');

    await authenticator.authenticate('token-a');
    assert.equal(validator.callsFor('token-a'), 2, 'the oldest had been evicted');
  });

  test('the cache is keyed by something other than the token', async () => {
    const { authenticator } = setup();
    const tokens = ['token-a', 'gAAAAABk' + 'x'.repeat(180)];
    for (const token of tokens) await authenticator.authenticate(token);

    // White-box on purpose: the point is what sits in memory.
    const internals = authenticator as unknown as {
      cache?: { entries?: Map<string, unknown> };
      inflight?: { inflight?: Map<string, unknown> };
    };
    const keys = internals.cache?.entries;
    assert.ok(keys instanceof Map, 'the cache keeps its entries in a Map');
    assert.equal(keys.size, tokens.length, 'both tokens are cached');
    const inflight = internals.inflight?.inflight;
    assert.ok(inflight instanceof Map);
    const allKeys = [...keys.keys(), ...inflight.keys()];
    for (const token of tokens) {
      for (const key of allKeys) {
        assert.notEqual(key, token);
        assert.ok(!key.includes(token), 'no key contains the token');
      }
    }
  });
});

describe('the answer without waiting (cached)', () => {
  test('a cached token is answered at once; one not cached is left to IAM (fromIam)', async () => {
    const { validator, authenticator } = setup();
    const key = tokenKey('token-a');
    assert.equal(authenticator.cached('token-a', key), undefined, 'not cached yet');
    const first = await authenticator.fromIam('token-a', key);
    assert.deepEqual(authenticator.cached('token-a', key), first);
    assert.equal(validator.callsFor('token-a'), 1);
  });

  test('a missing or too long token is refused at once, before any lookup', () => {
    const { authenticator } = setup();
    assert.throws(() => authenticator.cached(undefined, ''), unauthenticated);
    assert.throws(() => authenticator.cached('', ''), unauthenticated);
    const long = 'a'.repeat(MAX_TOKEN_LENGTH + 1);
    assert.throws(
      () => authenticator.cached(long, tokenKey(long)),
      rejectsWith('OMS.0064', InvalidParameter),
    );
  });

  test('a malformed token is refused by fromIam without asking IAM', async () => {
    const { validator, authenticator } = setup();
    const token = 'abc def';
    assert.equal(authenticator.cached(token, tokenKey(token)), undefined);
    await assert.rejects(authenticator.fromIam(token, tokenKey(token)), unauthenticated);
    assert.equal(validator.calls.length, 0);
  });
});

describe('concurrent validations', () => {
  test('concurrent calls with the same new token cost IAM one call, and all get the identity', async () => {
    const { validator, authenticator } = setup();
    const iam = deferred<Caller>();
    validator.answer = () => iam.promise;

    const calls = Array.from({ length: 10 }, () => authenticator.authenticate('burst-token'));
    // Let every call get as far as it can before IAM answers.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(validator.calls.length, 1, 'one IAM call while the burst waits');

    const who = identityOf('burst-token');
    iam.resolve(who);
    const identities = await Promise.all(calls);
    for (const identity of identities) assert.deepEqual(identity, who);
    assert.equal(validator.calls.length, 1);

    await authenticator.authenticate('burst-token');
    assert.equal(validator.calls.length, 1, 'and the result was cached');
  });

  test('concurrent calls with different tokens are validated separately', async () => {
    const { validator, authenticator } = setup();
    const [a, b] = await Promise.all([
      authenticator.authenticate('token-a'),
      authenticator.authenticate('token-b'),
    ]);
    assert.equal(validator.calls.length, 2);
    assert.notEqual(a.userId, b.userId);
  });

  test('a failed validation is shared by the waiting calls, not cached, and retried next time', async () => {
    const { validator, authenticator } = setup();
    const iam = deferred<Caller>();
    validator.answer = () => iam.promise;

    const calls = Array.from({ length: 3 }, () => authenticator.authenticate('flaky-token'));
    await new Promise((resolve) => setImmediate(resolve));
    iam.reject(new DependencyUnavailable('IAM'));
    for (const call of calls) {
      await assert.rejects(call, rejectsWith('OMS.2004', DependencyUnavailable));
    }
    assert.equal(validator.calls.length, 1);

    validator.answer = async (token) => identityOf(token);
    const who = await authenticator.authenticate('flaky-token');
    assert.equal(who.userId, identityOf('flaky-token').userId);
    assert.equal(validator.calls.length, 2, 'the failure was not remembered');
  });

  test('a token IAM rejects is not cached: the next call asks IAM again', async () => {
    const { validator, authenticator } = setup();
    validator.answer = async () => {
      throw new Unauthenticated('the token is invalid, expired or revoked.');
    };
    await assert.rejects(authenticator.authenticate('bad-token'), unauthenticated);
    await assert.rejects(authenticator.authenticate('bad-token'), unauthenticated);
    assert.equal(validator.calls.length, 2);
  });
});

describe('identities IAM returns already expired', () => {
  for (const [what, expiresAt] of [
    ['expiring this very millisecond', T0],
    ['expired a millisecond ago', T0 - 1],
    ['expired a day ago', T0 - 24 * HOUR],
  ] as const) {
    test(`an identity ${what} is Unauthenticated, and not cached`, async () => {
      const { validator, authenticator } = setup();
      validator.answer = async (token) => identityOf(token, expiresAt);
      await assert.rejects(authenticator.authenticate('old-token'), unauthenticated);
      await assert.rejects(authenticator.authenticate('old-token'), unauthenticated);
      assert.equal(validator.calls.length, 2);
    });
  }

  test('an identity valid for one more millisecond is accepted', async () => {
    const { validator, authenticator } = setup();
    validator.answer = async (token) => identityOf(token, T0 + 1);
    assert.equal((await authenticator.authenticate('just-in-time')).expiresAt, T0 + 1);
  });
});

describe('the shape of X-Auth-Token', () => {
  for (const [what, token] of [
    ['missing', undefined],
    ['empty', ''],
  ] as const) {
    test(`a ${what} token is Unauthenticated (APIGW.0301) without asking IAM`, async () => {
      const { validator, authenticator } = setup();
      await assert.rejects(authenticator.authenticate(token), unauthenticated);
      assert.equal(validator.calls.length, 0);
    });
  }

  test(`a token of ${MAX_TOKEN_LENGTH + 1} characters is InvalidParameter (OMS.0064) without asking IAM`, async () => {
    const { validator, authenticator } = setup();
    for (const length of [16_385, 100_000]) {
      await assert.rejects(
        authenticator.authenticate('A'.repeat(length)),
        rejectsWith('OMS.0064', InvalidParameter),
      );
    }
    assert.equal(validator.calls.length, 0);
  });

  test('a token of exactly 16,384 characters is validated', async () => {
    assert.equal(MAX_TOKEN_LENGTH, 16_384);
    const { validator, authenticator } = setup();
    const token = 'MIIb' + 'A'.repeat(16_384 - 4);
    await authenticator.authenticate(token);
    assert.deepEqual(validator.calls, [token], 'IAM saw the token unchanged');
  });

  test('every printable ASCII character may appear in a token', async () => {
    const { validator, authenticator } = setup();
    let token = '';
    for (let c = 0x21; c <= 0x7e; c++) token += String.fromCharCode(c);
    await authenticator.authenticate(token);
    assert.deepEqual(validator.calls, [token]);
  });

  for (const [what, token] of [
    ['a NUL byte', 'abc\u0000def'],
    ['a space', 'abc def'],
    ['a leading space', ' abcdef'],
    ['a tab', 'abc\tdef'],
    ['a CRLF', 'abc\r\nX-Injected: 1'],
    ['DEL', 'abc\u007fdef'],
    ['Latin-1', 'tök\u00e9n'],
    ['a non-breaking space', 'abc\u00a0def'],
    ['an emoji', 'abc\u{1f600}'],
    ['only whitespace', '   '],
  ] as const) {
    test(`a token with ${what} is Unauthenticated without asking IAM`, async () => {
      const { validator, authenticator } = setup();
      await assert.rejects(authenticator.authenticate(token), unauthenticated);
      assert.equal(validator.calls.length, 0);
    });
  }
});
