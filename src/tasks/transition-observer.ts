// Told of every status change that committed (the metrics count them). An
// interface, so that the tasks feature knows nothing of Prometheus.

import type { TaskDestination, TaskStatus } from './task-state.js';

export interface TransitionObserver {
  /** `from` is null for a creation; `to` is null (DELETED) for a deletion. */
  transitioned(from: TaskStatus | null, to: TaskDestination, count?: number): void;
}

export const TRANSITION_OBSERVER = Symbol('TransitionObserver');
