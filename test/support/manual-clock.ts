// Time as a test decides it: startTestApp({ clock }) hands this to the app
// (src/common/clock.ts), and nothing in the app sees time pass until the
// test calls advance(). It starts at the real time, so that what is dated
// outside the app (signatures' X-Sdk-Date, the Keystone double's token
// expiries) agrees with it.

import type { Clock } from '../../src/common/clock.js';

interface Timer {
  readonly intervalMs: number;
  due: number;
  readonly task: () => unknown;
}

export class ManualClock implements Clock {
  private at: number;
  private readonly timers = new Set<Timer>();

  constructor(start = Date.now()) {
    this.at = start;
  }

  now(): number {
    return this.at;
  }

  every(intervalMs: number, task: () => unknown): () => void {
    const timer = { intervalMs, due: this.at + intervalMs, task };
    this.timers.add(timer);
    return () => this.timers.delete(timer);
  }

  /**
   * Moves time forward by `ms`, running each timer as often as it falls due
   * on the way, and resolves once what those runs returned has settled.
   */
  async advance(ms: number): Promise<void> {
    const end = this.at + ms;
    const runs: unknown[] = [];
    for (;;) {
      let next: Timer | undefined;
      for (const timer of this.timers)
        if (timer.due <= end && (!next || timer.due < next.due)) next = timer;
      if (!next) break;
      this.at = next.due;
      next.due += next.intervalMs;
      runs.push(next.task());
    }
    this.at = end;
    await Promise.all(runs);
  }
}
