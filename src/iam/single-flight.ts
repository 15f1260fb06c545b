// Concurrent requests that need the same IAM answer share one call: a burst
// of requests with a fresh token or access key costs IAM only once.

export class SingleFlight<V> {
  private readonly inflight = new Map<string, Promise<V>>();

  run(key: string, call: () => Promise<V>): Promise<V> {
    let pending = this.inflight.get(key);
    if (pending === undefined) {
      pending = call().finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }
}
