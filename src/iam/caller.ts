// What the rest of the service knows about a caller once IAM has vouched for
// them: the service's one name for whoever makes a request (handlers take it
// with @Caller(), moves record its userId). The credential itself (token,
// signature) never travels further than the guard.

import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { AuthenticatedRequest } from './auth.guard.js';

export interface Caller {
  readonly userId: string;
  readonly userName: string;
  /** Undefined for a domain-scoped or unscoped token. */
  readonly projectId: string | undefined;
  /** Role names, lower-case. */
  readonly roles: readonly string[];
  /** When the credential stops being valid, in ms since the epoch. */
  readonly expiresAt: number;
}

/** The request's Caller, as the guard established it. */
export const Caller = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Caller | undefined =>
    context.switchToHttp().getRequest<AuthenticatedRequest>().caller,
);

/** Validates one credential against IAM; the cache sits in front of it. */
export interface TokenValidator {
  /** Resolves the caller, or throws Unauthenticated / DependencyUnavailable. */
  validate(token: string): Promise<Caller>;
  /** Resolves if IAM answers at all within timeoutMs (for GET /health/ready). */
  checkReachable?(timeoutMs: number): Promise<void>;
}

export const TOKEN_VALIDATOR = Symbol('TokenValidator');
