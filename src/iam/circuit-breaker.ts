// Stops asking IAM while it keeps failing. After `failureThreshold`
// consecutive failures (no answer in time, a refused or reset connection, a
// 5xx: whatever the validator reports as DependencyUnavailable) the circuit
// opens and validations fail at once with 503, which spares a struggling IAM
// a stampede and spares callers a timeout each. Every `probeIntervalMs` one
// validation is let through as a probe: its success closes the circuit, its
// failure keeps it open for another interval. A token IAM rejects (401) is
// IAM answering, so it counts as a success.
//
// The token cache sits in front of this (TokenAuthenticator consults it
// first), so tokens validated before the outage keep working until their
// cache entry ages out.

import { DependencyUnavailable } from '../common/oms-errors.js';
import type { CircuitState } from './iam-observer.js';
import type { Identity, TokenValidator } from './identity.js';

export class IamCircuitOpen extends DependencyUnavailable {
  constructor() {
    super('IAM');
  }
}

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit; 0 never opens it. */
  readonly failureThreshold: number;
  readonly probeIntervalMs: number;
  readonly onStateChange?: (state: CircuitState) => void;
}

export class CircuitBreakingValidator implements TokenValidator {
  private current: CircuitState = 'closed';
  private consecutiveFailures = 0;
  private openedAt = 0;

  constructor(
    private readonly inner: TokenValidator,
    private readonly options: CircuitBreakerOptions,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): CircuitState {
    return this.current;
  }

  async validate(token: string): Promise<Identity> {
    if (this.current !== 'closed') {
      // One probe at a time: while it is out, everyone else fails fast.
      const waiting = this.now() - this.openedAt < this.options.probeIntervalMs;
      if (this.current === 'half_open' || waiting) throw new IamCircuitOpen();
      this.moveTo('half_open');
    }
    let identity: Identity;
    try {
      identity = await this.inner.validate(token);
    } catch (error) {
      if (error instanceof DependencyUnavailable) this.failed();
      else this.succeeded();
      throw error;
    }
    this.succeeded();
    return identity;
  }

  private failed(): void {
    this.consecutiveFailures++;
    const threshold = this.options.failureThreshold;
    if (threshold === 0) return;
    if (this.current !== 'closed' || this.consecutiveFailures >= threshold) {
      this.openedAt = this.now();
      this.moveTo('open');
    }
  }

  private succeeded(): void {
    this.consecutiveFailures = 0;
    this.moveTo('closed');
  }

  private moveTo(state: CircuitState): void {
    if (state === this.current) return;
    this.current = state;
    this.options.onStateChange?.(state);
  }
}
