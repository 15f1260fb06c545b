// What the IAM side reports to whoever watches it (the metrics): cache hits
// and misses, the outcome of each validation, the breakers' states. An
// interface, so that src/iam knows nothing of Prometheus.

/** queue_full: refused without asking IAM, no connection to it came free in time. */
export type ValidationOutcome = 'valid' | 'invalid' | 'unavailable' | 'circuit_open' | 'queue_full';

export type CircuitState = 'closed' | 'open' | 'half_open';

/** Which breaker: token validations, or access-key lookups. */
export type IamCircuit = 'token' | 'access_key';

export interface IamObserver {
  tokenCacheLookup(hit: boolean): void;
  iamValidation(outcome: ValidationOutcome): void;
  iamCircuitState(circuit: IamCircuit, state: CircuitState): void;
}

export const IAM_OBSERVER = Symbol('IamObserver');
