// The one clock of the application: what every time-based decision reads
// (rate-limit buckets, the token and access-key caches, the circuit
// breakers, the readiness cache, signature timestamps) and what runs the
// scheduler's periodic sweep. One dependency, so that a test moves time
// forward (test/support/manual-clock.ts) instead of sleeping.

import { Global, Module, type DynamicModule } from '@nestjs/common';

export interface Clock {
  /** ms since the epoch. */
  now(): number;
  /**
   * Runs `task` every `intervalMs` until the returned function is called.
   * The timer does not keep the process alive.
   */
  every(intervalMs: number, task: () => unknown): () => void;
}

/** Injection token for the application's Clock. */
export const CLOCK = Symbol('Clock');

export const systemClock: Clock = {
  now: () => Date.now(),
  every(intervalMs, task) {
    const timer = setInterval(() => void task(), intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  },
};

@Global()
@Module({})
export class ClockModule {
  static register(clock: Clock): DynamicModule {
    return {
      module: ClockModule,
      providers: [{ provide: CLOCK, useValue: clock }],
      exports: [CLOCK],
    };
  }
}
