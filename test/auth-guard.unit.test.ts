// The guard's two speeds: a token the cache knows is admitted with a plain
// `true` (nothing to wait for, so Nest awaits nothing), one it does not know
// with a promise that settles once IAM has answered. The HTTP suites
// (stop-auth.http.test.ts and others) prove what callers see; this proves
// that the common case makes no promise at all.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Controller, Post } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { systemClock } from '../src/common/clock.js';
import { Unauthenticated } from '../src/common/oms-errors.js';
import { loadConfig } from '../src/config/config.js';
import { AuthGuard, PublicRoute, type AuthenticatedRequest } from '../src/iam/auth.guard.js';
import type { Caller, TokenValidator } from '../src/iam/caller.js';
import { TokenAuthenticator } from '../src/iam/token-authenticator.js';
import { RateLimits } from '../src/limits/rate-limits.js';

@Controller()
class Routes {
  @Post('stop')
  stop(): void {}

  @PublicRoute()
  @Post('health')
  health(): void {}
}

function setup() {
  const calls: string[] = [];
  const validator: TokenValidator = {
    validate: async (token) => {
      calls.push(token);
      const caller: Caller = {
        userId: `user-of-${token}`,
        userName: 'someone',
        projectId: 'project-1',
        roles: ['member'],
        expiresAt: Date.now() + 3_600_000,
      };
      return caller;
    },
  };
  const tokens = new TokenAuthenticator(validator, { ttlSeconds: 300, maxEntries: 100 });
  const rateLimits = new RateLimits(loadConfig({}), systemClock);
  const guard = new AuthGuard(tokens, new Reflector(), rateLimits);
  return { guard, calls };
}

function contextOf(
  handler: 'stop' | 'health',
  headers: Record<string, string>,
): { context: ExecutionContextHost; request: AuthenticatedRequest } {
  const request = { headers, method: 'POST', ip: '192.0.2.1' } as unknown as AuthenticatedRequest;
  const context = new ExecutionContextHost(
    [request, {}, undefined],
    Routes,
    Routes.prototype[handler],
  );
  context.setType('http');
  return { context, request };
}

test('a cached token is admitted with true itself, not a promise; an unknown one waits for IAM', async () => {
  const { guard, calls } = setup();

  const first = contextOf('stop', { 'x-auth-token': 'token-a' });
  const pending = guard.canActivate(first.context);
  assert.ok(pending instanceof Promise, 'not cached yet: a promise, settled by IAM');
  assert.equal(await pending, true);
  assert.equal(first.request.caller?.userId, 'user-of-token-a');

  const again = contextOf('stop', { 'x-auth-token': 'token-a' });
  assert.equal(guard.canActivate(again.context), true, 'cached: true at once');
  assert.equal(again.request.caller?.userId, 'user-of-token-a');
  assert.deepEqual(calls, ['token-a'], 'IAM was asked once');
});

test('a request without credentials is refused at once; a public route needs none', () => {
  const { guard } = setup();
  assert.throws(
    () => guard.canActivate(contextOf('stop', {}).context),
    (error) => error instanceof Unauthenticated,
  );
  assert.equal(guard.canActivate(contextOf('health', {}).context), true);
  assert.equal(guard.canActivate(contextOf('health', {}).context), true, 'and again, remembered');
});
