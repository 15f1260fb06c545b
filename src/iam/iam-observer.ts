// What the IAM side reports to whoever watches it (the metrics): cache hits
// and misses, the outcome of each validation, the breaker's state. An
// interface, so that src/iam knows nothing of Prometheus.

export type ValidationOutcome = 'valid' | 'invalid' | 'unavailable' | 'circuit_open';

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface IamObserver {
  tokenCacheLookup(hit: boolean): void;
  iamValidation(outcome: ValidationOutcome): void;
  iamCircuitState(state: CircuitState): void;
}

export const IAM_OBSERVER = Symbol('IamObserver');
