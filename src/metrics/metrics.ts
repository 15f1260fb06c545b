// The service's Prometheus metrics. Each application has its own registry
// (tests start several apps in one process); the process-wide default
// metrics (CPU, memory, event loop, GC) live in one shared registry, made
// once, and are merged in at scrape time.

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
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

  /** Every request's series, found by method and route (see requestAnswered). */
  private readonly routes = new Map<string, Map<string, RouteSeries>>();

  private readonly requests: Counter<'method' | 'route' | 'status'> = new Counter({
    name: 'oms_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
    collect: (): void => this.requestCounts.report(),
  });

  private readonly requestCounts: CountedSeries<'method' | 'route' | 'status'> = new CountedSeries(
    this.requests,
  );

  private readonly duration = new BoundHistogram({
    name: 'oms_http_request_duration_seconds',
    help: 'Time from receiving a request to finishing its answer, by method and route pattern.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registry: this.registry,
  });

  private readonly validations = new Counter({
    name: 'oms_iam_validations_total',
    help: 'Token validations that went past the cache, by outcome (valid, invalid, unavailable, circuit_open, queue_full).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  private readonly cacheLookups: Counter<'result'> = new Counter({
    name: 'oms_token_cache_lookups_total',
    help: 'Token cache lookups, by result (hit, miss). Hit ratio: hit / (hit + miss).',
    labelNames: ['result'] as const,
    registers: [this.registry],
    collect: (): void => this.cacheLookupCounts.report(),
  });

  private readonly cacheLookupCounts: CountedSeries<'result'> = new CountedSeries(
    this.cacheLookups,
  );
  private cacheHits: CountedCell<'result'> | undefined;
  private cacheMisses: CountedCell<'result'> | undefined;

  private readonly circuit = new Gauge({
    name: 'oms_iam_circuit_state',
    help: 'The IAM circuit breakers (circuit: token, access_key): 1 for the current state (closed, open, half_open), 0 for the others.',
    labelNames: ['circuit', 'state'] as const,
    registers: [this.registry],
  });

  private readonly transitions = new Counter({
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
    const series = this.routeSeries(method, route);
    let count = series.byStatus.get(status);
    if (count === undefined) {
      count = this.requestCounts.cell({ method, route, status: String(status) });
      series.byStatus.set(status, count);
    }
    count.value += 1;
    // The series is made here, at the request's first answer, as observe() made it.
    series.duration ??= this.duration.cell({ method, route });
    this.duration.observe(series.duration, seconds);
  }

  /** A request the HTTP parser refused before routing (malformed, too large, too slow). */
  requestRefused(status: number): void {
    const series = this.routeSeries('unknown', UNPARSED_ROUTE);
    let count = series.byStatus.get(status);
    if (count === undefined) {
      count = this.requestCounts.cell({
        method: 'unknown',
        route: UNPARSED_ROUTE,
        status: String(status),
      });
      series.byStatus.set(status, count);
    }
    count.value += 1;
  }

  /** A method and route's series (a route is a pattern, so there are few). */
  private routeSeries(method: string, route: string): RouteSeries {
    let byMethod = this.routes.get(route);
    if (byMethod === undefined) {
      byMethod = new Map();
      this.routes.set(route, byMethod);
    }
    let series = byMethod.get(method);
    if (series === undefined) {
      series = { byStatus: new Map(), duration: undefined };
      byMethod.set(method, series);
    }
    return series;
  }

  tokenCacheLookup(hit: boolean): void {
    if (hit) {
      this.cacheHits ??= this.cacheLookupCounts.cell({ result: 'hit' });
      this.cacheHits.value += 1;
    } else {
      this.cacheMisses ??= this.cacheLookupCounts.cell({ result: 'miss' });
      this.cacheMisses.value += 1;
    }
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
    this.transitions.inc(
      {
        kind: 'task',
        from: from === null ? 'none' : TASK_STATUS_NAMES[from],
        to: to === null ? 'deleted' : TASK_STATUS_NAMES[to],
      },
      count,
    );
  }

  syncTransitioned(from: SyncTaskStatus | null, to: SyncTaskDestination): void {
    this.transitions.inc({
      kind: 'sync_task',
      from: from === null ? 'none' : from.toLowerCase(),
      to: to === null ? 'deleted' : to.toLowerCase(),
    });
  }
}

// The per-request series (requests, their durations, token cache lookups)
// are counted in plain numbers, found by their labels once: prom-client's
// inc() and observe() build a key from the labels on every call (about
// 0.5 µs each, a good part of a refusal's cost). Counters are told the new
// counts when scraped (their collect()); the duration histogram answers the
// scrape itself, in prom-client's shape, so the text is the same.

interface CountedCell<T extends string = 'method' | 'route' | 'status'> {
  readonly labels: Record<T, string>;
  value: number;
  reported: number;
}

interface RouteSeries {
  readonly byStatus: Map<number, CountedCell>;
  duration: HistogramCell | undefined;
}

/** A counter's series, counted here and added to the counter at each scrape. */
class CountedSeries<T extends string> {
  private readonly cells: CountedCell<T>[] = [];

  constructor(private readonly counter: Counter<T>) {}

  cell(labels: Record<T, string>): CountedCell<T> {
    const cell = { labels, value: 0, reported: 0 };
    this.cells.push(cell);
    return cell;
  }

  /** Adds what was counted since the last scrape, series in the order they were first counted. */
  report(): void {
    for (const cell of this.cells) {
      if (cell.value > cell.reported) {
        this.counter.inc(cell.labels, cell.value - cell.reported);
        cell.reported = cell.value;
      }
    }
  }
}

interface HistogramCell {
  readonly labels: Record<string, string>;
  /** Observations per bucket, not cumulative. */
  readonly buckets: number[];
  sum: number;
  count: number;
}

/** What prom-client's registry reads of a metric (Histogram's getForPromString() shape). */
interface MetricValue {
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  value: number;
  metricName: string;
  exemplar?: null;
}

/**
 * A histogram with labels, its series found once: the same exposition as
 * prom-client's Histogram (which the registry formats), without a key built
 * from the labels per observation.
 */
class BoundHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly upperBounds: readonly number[];
  private readonly cells: HistogramCell[] = [];

  constructor(options: { name: string; help: string; buckets: number[]; registry: Registry }) {
    this.name = options.name;
    this.help = options.help;
    this.upperBounds = [...options.buckets].sort((a, b) => a - b);
    options.registry.registerMetric(this as unknown as Histogram);
  }

  cell(labels: Record<string, string>): HistogramCell {
    const cell = { labels, buckets: this.upperBounds.map(() => 0), sum: 0, count: 0 };
    this.cells.push(cell);
    return cell;
  }

  observe(cell: HistogramCell, value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    const bounds = this.upperBounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        cell.buckets[i]! += 1;
        break;
      }
    }
    cell.sum += value;
    cell.count += 1;
  }

  getForPromString(): {
    name: string;
    help: string;
    type: string;
    values: MetricValue[];
    aggregator: string;
  } {
    const bucketName = `${this.name}_bucket`;
    const values: MetricValue[] = [];
    for (const cell of this.cells) {
      let cumulative = 0;
      for (let i = 0; i < this.upperBounds.length; i++) {
        cumulative += cell.buckets[i]!;
        values.push({
          labels: { le: this.upperBounds[i]! },
          sharedLabels: cell.labels,
          value: cumulative,
          metricName: bucketName,
          exemplar: null,
        });
      }
      values.push(
        {
          labels: { le: '+Inf' },
          sharedLabels: cell.labels,
          value: cell.count,
          metricName: bucketName,
          exemplar: null,
        },
        { labels: {}, sharedLabels: cell.labels, value: cell.sum, metricName: `${this.name}_sum` },
        {
          labels: {},
          sharedLabels: cell.labels,
          value: cell.count,
          metricName: `${this.name}_count`,
        },
      );
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    };
  }

  /** As Histogram.get(): the shared labels spread into each value's own. */
  get(): ReturnType<BoundHistogram['getForPromString']> {
    const data = this.getForPromString();
    data.values = data.values.map(({ labels, sharedLabels, ...rest }) => ({
      ...rest,
      labels: { ...labels, ...sharedLabels },
    }));
    return data;
  }
}
