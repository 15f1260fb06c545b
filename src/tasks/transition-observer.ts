// Told of every status change that committed (the metrics count them). An
// interface, so that the tasks feature knows nothing of Prometheus.

import type { TaskStatus } from './task-state.js';

export interface TransitionObserver {
  transitioned(from: TaskStatus, to: TaskStatus): void;
}

export const TRANSITION_OBSERVER = Symbol('TransitionObserver');
