// The service's Prometheus metrics. Each application has its own registry
// (tests start several apps in one process); the process-wide default
// metrics (CPU, memory, event loop, GC) live in one shared registry, made
// once, and are merged in at scrape time.

import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type {
  CircuitState,
  IamCircuit,
  IamObserver,
  ValidationOutcome,
} from '../iam/iam-observer.js';
import { TASK_STATUS_NAMES, type TaskDestination, type TaskStatus } from '../tasks/task-state.js';
import type { TransitionObserver } from '../tasks/transition-observer.js';
import type { SyncTaskDestination, SyncTaskStatus } from '../sync-tasks/sync-task-state.js';
import type { SyncTransitionObserver } from '../sync-tasks/sync-transition-observer.js';
import { TalliedCounter, TalliedHistogram } from './tallies.js';

/** What metrics read of pg's Pool (TypeORM's DataSource.driver.master). */
export interface PoolStats {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
}

/** What requests that matched no route are counted and logged as. */
export const UNMATCHED_ROUTE = 'unmatched';

/** The route of requests the HTTP parser refused: they never had one. */
export const UNPARSED_ROUTE = 'unparsed';

const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'open', 'half_open'];
const CIRCUITS: readonly IamCircuit[] = ['token', 'access_key'];

let processRegistry: Registry | undefined;

function sharedProcessRegistry(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export class Metrics implements IamObserver, TransitionObserver, SyncTransitionObserver {
  private readonly registry = new Registry();
  private pool: () => PoolStats | undefined = () => undefined;

  // Every request adds to these three (tallies.ts).
  private readonly requests = new TalliedCounter({
    name: 'oms_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  private readonly duration = new TalliedHistogram<'method' | 'route'>(
    'oms_http_request_duration_seconds',
    'Time from receiving a request to finishing its answer, by method and route pattern.',
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    this.registry,
  );

  private readonly validations = new Counter({
    name: 'oms_iam_validations_total',
    help: 'Token validations that went past the cache, by outcome (valid, invalid, unavailable, circuit_open, queue_full).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  private readonly cacheLookups = new TalliedCounter({
    name: 'oms_token_cache_lookups_total',
    help: 'Token cache lookups, by result (hit, miss). Hit ratio: hit / (hit + miss).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  private readonly circuit = new Gauge({
    name: 'oms_iam_circuit_state',
    help: 'The IAM circuit breakers (circuit: token, access_key): 1 for the current state (closed, open, half_open), 0 for the others.',
    labelNames: ['circuit', 'state'] as const,
    registers: [this.registry],
  });

  private readonly transitions = new TalliedCounter({
    name: 'oms_task_transitions_total',
    help: 'Status changes committed, by kind (task, sync_task) and from and to status.',
    labelNames: ['kind', 'from', 'to'] as const,
    registers: [this.registry],
  });

  private readonly eventsPublishedTotal = new Counter({
    name: 'oms_events_published_total',
    help: 'Audit rows published to JetStream by this replica, by outbox.',
    labelNames: ['outbox'] as const,
    registers: [this.registry],
  });

  private readonly eventsSkippedTotal = new Counter({
    name: 'oms_events_skipped_ids_total',
    help: 'Audit ids the relay skipped as never to appear (rolled back), by outbox.',
    labelNames: ['outbox'] as const,
    registers: [this.registry],
  });

  private readonly eventsLagGauge = new Gauge({
    name: 'oms_events_relay_lag',
    help: "Audit ids not yet published, by outbox: the outbox's highest id less the relay's cursor (0 on a replica that does not relay).",
    labelNames: ['outbox'] as const,
    registers: [this.registry],
  });

  private readonly eventsLeaderGauge = new Gauge({
    name: 'oms_events_relay_leader',
    help: '1 while this replica is the one relaying events to JetStream, 0 otherwise.',
    registers: [this.registry],
  });

  private readonly eventsBrokerGauge = new Gauge({
    name: 'oms_events_broker_connected',
    help: "1 while the relaying replica's NATS connection is up, 0 while it is down (events wait).",
    registers: [this.registry],
  });

  private readonly notificationsTotal = new Counter({
    name: 'oms_events_notifications_total',
    help: 'Task notifications (smn_config) published to JetStream by this replica.',
    registers: [this.registry],
  });

  constructor() {
    const pool = () => this.pool();
    const poolGauge = (name: string, help: string, read: (stats: PoolStats) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          const stats = pool();
          this.set(stats ? read(stats) : 0);
        },
      });
    poolGauge('oms_db_pool_connections', 'Open database connections.', (s) => s.totalCount);
    poolGauge('oms_db_pool_idle_connections', 'Open, unused connections.', (s) => s.idleCount);
    poolGauge(
      'oms_db_pool_waiting_clients',
      'Queries waiting for a connection.',
      (s) => s.waitingCount,
    );
    for (const circuit of CIRCUITS) this.iamCircuitState(circuit, 'closed');
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Where to read the pool's numbers at scrape time. */
  watchPool(pool: () => PoolStats | undefined): void {
    this.pool = pool;
  }

  async render(): Promise<string> {
    return Registry.merge([this.registry, sharedProcessRegistry()]).metrics();
  }

  /** `route` is the route's pattern, never the URL: one series per API, not per task. */
  requestAnswered(method: string, route: string, status: number, seconds: number): void {
    const series = `${method} ${route}`;
    this.requests.inc(`${series} ${status}`, () => ({ method, route, status: String(status) }));
    this.duration.observe(series, () => ({ method, route }), seconds);
  }

  /** A request the HTTP parser refused before routing (malformed, too large, too slow). */
  requestRefused(status: number): void {
    this.requests.inc(`unknown ${UNPARSED_ROUTE} ${status}`, () => ({
      method: 'unknown',
      route: UNPARSED_ROUTE,
      status: String(status),
    }));
  }

  tokenCacheLookup(hit: boolean): void {
    const result = hit ? 'hit' : 'miss';
    this.cacheLookups.inc(result, () => ({ result }));
  }

  iamValidation(outcome: ValidationOutcome): void {
    this.validations.inc({ outcome });
  }

  iamCircuitState(circuit: IamCircuit, state: CircuitState): void {
    for (const each of CIRCUIT_STATES) {
      this.circuit.set({ circuit, state: each }, each === state ? 1 : 0);
    }
  }

  eventsPublished(outbox: string, published: number, skipped: number): void {
    this.eventsPublishedTotal.inc({ outbox }, published);
    if (skipped > 0) this.eventsSkippedTotal.inc({ outbox }, skipped);
  }

  eventsLag(outbox: string, lag: number): void {
    this.eventsLagGauge.set({ outbox }, lag);
  }

  eventsLeader(leader: boolean): void {
    this.eventsLeaderGauge.set(leader ? 1 : 0);
    if (!leader) this.eventsLagGauge.reset();
  }

  eventsBrokerConnected(connected: boolean): void {
    this.eventsBrokerGauge.set(connected ? 1 : 0);
  }

  notificationsPublished(count: number): void {
    this.notificationsTotal.inc(count);
  }

  transitioned(from: TaskStatus | null, to: TaskDestination, count = 1): void {
    const fromName = from === null ? 'none' : TASK_STATUS_NAMES[from];
    const toName = to === null ? 'deleted' : TASK_STATUS_NAMES[to];
    this.transitions.inc(
      `task ${fromName} ${toName}`,
      () => ({ kind: 'task', from: fromName, to: toName }),
      count,
    );
  }

  syncTransitioned(from: SyncTaskStatus | null, to: SyncTaskDestination): void {
    const fromName = from === null ? 'none' : from.toLowerCase();
    const toName = to === null ? 'deleted' : to.toLowerCase();
    this.transitions.inc(`sync_task ${fromName} ${toName}`, () => ({
      kind: 'sync_task',
      from: fromName,
      to: toName,
    }));
  }
}
