// Stops asking IAM while it keeps failing. After `failureThreshold`
// consecutive failures (no answer in time, a refused or reset connection, a
// 5xx: whatever the IAM client reports as DependencyUnavailable) the circuit
// opens and calls fail at once with 503, which spares a struggling IAM a
// stampede and spares callers a timeout each. Every `probeIntervalMs` one
// call is let through as a probe: its success closes the circuit, its
// failure keeps it open for another interval. An answer that refuses the
// credential (a 4xx) is IAM answering, so it counts as a success.
//
// Only IAM's own failures count. A call refused before IAM was asked
// (IamNotAsked: the service's own queue to IAM was full) says nothing about
// IAM, so it neither counts as a failure nor resets the count; otherwise a
// flood of made-up credentials could open the circuit for everyone.
//
// One mechanism, two circuits: token validations (CircuitBreakingValidator)
// and access-key lookups (CircuitBreakingAccessKeyStore), each with a breaker
// of its own, so that one kind of call failing does not stop the other. The
// caches sit in front (TokenAuthenticator, SignatureAuthenticator consult
// theirs first), so credentials looked up before an outage keep working
// until their cache entry ages out.

import { DependencyUnavailable } from '../common/oms-errors.js';
import type { AccessKeyRecord, AccessKeyStore } from './access-key.js';
import type { CircuitState } from './iam-observer.js';
import type { Caller, TokenValidator } from './caller.js';

/** A 503 for IAM given without IAM being asked: not IAM's failure. */
export class IamNotAsked extends DependencyUnavailable {
  constructor() {
    super('IAM');
  }
}

export class IamCircuitOpen extends IamNotAsked {}

/** No connection to IAM came free in time (see keystone-http.ts). */
export class IamQueueFull extends IamNotAsked {}

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit; 0 never opens it. */
  readonly failureThreshold: number;
  readonly probeIntervalMs: number;
  readonly onStateChange?: (state: CircuitState) => void;
}

export class CircuitBreaker {
  private current: CircuitState = 'closed';
  private consecutiveFailures = 0;
  private openedAt = 0;

  constructor(
    private readonly options: CircuitBreakerOptions,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): CircuitState {
    return this.current;
  }

  /** Runs `call` unless the circuit is open, and counts how it ended. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.current !== 'closed') {
      // One probe at a time: while it is out, everyone else fails fast.
      const waiting = this.now() - this.openedAt < this.options.probeIntervalMs;
      if (this.current === 'half_open' || waiting) throw new IamCircuitOpen();
      this.moveTo('half_open');
    }
    let result: T;
    try {
      result = await call();
    } catch (error) {
      if (error instanceof IamNotAsked) this.notAsked();
      else if (error instanceof DependencyUnavailable) this.failed();
      else this.succeeded();
      throw error;
    }
    this.succeeded();
    return result;
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

  /** A probe that never reached IAM proved nothing: the next call probes again. */
  private notAsked(): void {
    if (this.current === 'half_open') this.moveTo('open');
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

/** Token validations behind a breaker of their own. */
export class CircuitBreakingValidator implements TokenValidator {
  private readonly breaker: CircuitBreaker;

  constructor(
    private readonly inner: TokenValidator,
    options: CircuitBreakerOptions,
    now: () => number = Date.now,
  ) {
    this.breaker = new CircuitBreaker(options, now);
  }

  get state(): CircuitState {
    return this.breaker.state;
  }

  validate(token: string): Promise<Caller> {
    return this.breaker.run(() => this.inner.validate(token));
  }
}

/** Access-key lookups behind a breaker of their own. */
export class CircuitBreakingAccessKeyStore implements AccessKeyStore {
  private readonly breaker: CircuitBreaker;

  constructor(
    private readonly inner: AccessKeyStore,
    options: CircuitBreakerOptions,
    now: () => number = Date.now,
  ) {
    this.breaker = new CircuitBreaker(options, now);
  }

  get state(): CircuitState {
    return this.breaker.state;
  }

  lookup(accessKey: string): Promise<AccessKeyRecord | undefined> {
    return this.breaker.run(() => this.inner.lookup(accessKey));
  }
}
