// What the rest of the service knows about a caller once IAM has vouched for
// them. The credential itself (token, signature) never travels further than
// the guard.

export interface Identity {
  readonly userId: string;
  readonly userName: string;
  /** Undefined for a domain-scoped or unscoped token. */
  readonly projectId: string | undefined;
  /** Role names, lower-case. */
  readonly roles: readonly string[];
  /** When the credential stops being valid, in ms since the epoch. */
  readonly expiresAt: number;
}

/** Validates one credential against IAM; the cache sits in front of it. */
export interface TokenValidator {
  /** Resolves the identity, or throws Unauthenticated / DependencyUnavailable. */
  validate(token: string): Promise<Identity>;
  /** Resolves if IAM answers at all within timeoutMs (for GET /health/ready). */
  checkReachable?(timeoutMs: number): Promise<void>;
}

export const TOKEN_VALIDATOR = Symbol('TokenValidator');
