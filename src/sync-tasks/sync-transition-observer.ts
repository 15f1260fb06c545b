// Told of every sync-task status change that committed, as TransitionObserver
// is of the tasks' (the metrics count both, told apart by a `kind` label).
// An interface, so that the sync-tasks feature knows nothing of Prometheus.

import type { SyncTaskDestination, SyncTaskStatus } from './sync-task-state.js';

export interface SyncTransitionObserver {
  /** `from` is null for a creation; `to` is null (DELETED) for a deletion. */
  syncTransitioned(from: SyncTaskStatus | null, to: SyncTaskDestination): void;
}

export const SYNC_TRANSITION_OBSERVER = Symbol('SyncTransitionObserver');
