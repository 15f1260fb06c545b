// The one way a test waits for something outside its control (another
// process's output, a row a background statement writes): poll, with a
// bound, and fail saying what never happened. Not for letting time pass:
// a test that needs time to pass advances a ManualClock (manual-clock.ts).

export interface WaitOptions {
  /** How long before giving up; generous, for a busy machine. Default 10 s. */
  timeoutMs?: number;
  /** Between looks. Default 20 ms. */
  everyMs?: number;
}

/**
 * Calls `check` until it returns something other than undefined or false,
 * and returns that. A `check` that throws ends the wait with its error.
 * `what` names what is awaited in the failure (a function, to describe the
 * state at the time of failure).
 */
export async function waitUntil<T>(
  what: string | (() => string),
  check: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 10_000, everyMs = 20 }: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await check();
    if (found !== undefined && found !== false) return found;
    if (Date.now() > deadline) {
      throw new Error(`waited ${timeoutMs} ms: ${typeof what === 'string' ? what : what()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
