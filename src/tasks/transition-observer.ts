// Told of every status change that committed (the metrics count them, the
// events relay wakes up). An interface, so that the tasks feature knows
// nothing of Prometheus or NATS.

import type { TaskDestination, TaskStatus } from './task-state.js';

export interface TransitionObserver {
  /** `from` is null for a creation; `to` is null (DELETED) for a deletion. */
  transitioned(from: TaskStatus | null, to: TaskDestination, count?: number): void;
}

export const TRANSITION_OBSERVER = Symbol('TransitionObserver');

/** What TRANSITION_OBSERVER is: every observer added, told in turn. */
export class TransitionObservers implements TransitionObserver {
  private readonly observers: TransitionObserver[] = [];

  add(observer: TransitionObserver): void {
    this.observers.push(observer);
  }

  transitioned(from: TaskStatus | null, to: TaskDestination, count?: number): void {
    for (const observer of this.observers) observer.transitioned(from, to, count);
  }
}
