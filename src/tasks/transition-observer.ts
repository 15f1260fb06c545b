// Told of every status change that committed (the metrics count them, the
// events relay wakes up). An interface, so that the tasks feature knows
// nothing of Prometheus or NATS.

import type { TaskDestination, TaskStatus } from './task-state.js';

export interface TransitionObserver {
  /** `from` is null for a creation; `to` is null (DELETED) for a deletion. */
  transitioned(from: TaskStatus | null, to: TaskDestination, count?: number): void;
}

export const TRANSITION_OBSERVER = Symbol('TransitionObserver');

/** Tells the observer of many moves at once (set-based moves: a group's), one call per kind. */
export function reportMoves(
  observer: TransitionObserver | undefined,
  moves: readonly { from_status: TaskStatus | null; to_status: TaskDestination }[],
): void {
  if (!observer) return;
  const counts = new Map<string, { from: TaskStatus | null; to: TaskDestination; n: number }>();
  for (const { from_status: from, to_status: to } of moves) {
    const key = `${from}>${to}`;
    const seen = counts.get(key);
    if (seen) seen.n++;
    else counts.set(key, { from, to, n: 1 });
  }
  for (const { from, to, n } of counts.values()) observer.transitioned(from, to, n);
}

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
