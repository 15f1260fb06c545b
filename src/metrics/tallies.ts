// Metrics that every request adds to, kept as plain numbers and handed to
// Prometheus only when it scrapes. prom-client's own inc() and observe()
// check the label object and hash it on every call, and observe() makes a
// closure and an object besides: in a CPU profile of the stop's success path
// the request counter, the latency histogram and the transition counter
// came to about 7 µs a request that way. Here the caller names the series
// by a key it joins itself (a string concatenation), and the label object is
// made once per series.
//
// The scrape shows the same series, values and text as prom-client's own
// Counter and Histogram would (test/metrics-tallies.unit.test.ts).

import {
  Counter,
  type Histogram,
  type LabelValues,
  type MetricObjectWithValues,
  type MetricValueWithName,
  type Registry,
} from 'prom-client';

/**
 * A prom-client Counter whose increments wait in a tally until the scrape,
 * which adds them (its collect()).
 */
export class TalliedCounter<L extends string> {
  private readonly tallies = new Map<string, { labels: LabelValues<L>; count: number }>();

  constructor(config: {
    name: string;
    help: string;
    labelNames: readonly L[];
    registers: Registry[];
  }) {
    const tallies = this.tallies;
    new Counter<L>({
      ...config,
      collect() {
        for (const tally of tallies.values()) {
          if (tally.count === 0) continue;
          this.inc(tally.labels, tally.count);
          tally.count = 0;
        }
      },
    });
  }

  /**
   * Adds `by` to the series `key` names: the same key always for the same
   * label values. `labels` is called only for a key not seen before.
   */
  inc(key: string, labels: () => LabelValues<L>, by = 1): void {
    const tally = this.tallies.get(key);
    if (tally !== undefined) tally.count += by;
    else this.tallies.set(key, { labels: labels(), count: by });
  }
}

interface HistogramSeries<L extends string> {
  readonly labels: LabelValues<L>;
  /** Observations per bucket, not cumulative; the last is above every bound. */
  readonly counts: number[];
  sum: number;
  count: number;
}

type Sample = MetricValueWithName<string> & { sharedLabels?: LabelValues<string> };

/**
 * A histogram that a registry scrapes as it would a prom-client Histogram.
 * It is its own metric rather than a Histogram fed at the scrape, because a
 * Histogram takes observations only one at a time.
 */
export class TalliedHistogram<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, HistogramSeries<L>>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    // The registry needs only name, get() and getForPromString(); its types
    // list prom-client's own four classes.
    registry.registerMetric(this as unknown as Histogram<L>);
  }

  /** As TalliedCounter.inc: `key` names the series, `labels` makes its labels once. */
  observe(key: string, labels: () => LabelValues<L>, value: number): void {
    let series = this.series.get(key);
    if (series === undefined) {
      series = {
        labels: labels(),
        counts: new Array<number>(this.bounds.length + 1).fill(0),
        sum: 0,
        count: 0,
      };
      this.series.set(key, series);
    }
    let bucket = 0;
    while (bucket < this.bounds.length && value > this.bounds[bucket]) bucket++;
    series.counts[bucket]++;
    series.sum += value;
    series.count++;
  }

  reset(): void {
    this.series.clear();
  }

  /** What the registry writes as text: each sample's own labels, then the series'. */
  getForPromString(): MetricObjectWithValues<Sample> {
    const values: Sample[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const { labels, counts, sum, count } of this.series.values()) {
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += counts[i];
        values.push({
          metricName: bucketName,
          labels: { le: bound },
          sharedLabels: labels,
          value: cumulative,
        });
      });
      values.push(
        { metricName: bucketName, labels: { le: '+Inf' }, sharedLabels: labels, value: count },
        { metricName: `${this.name}_sum`, labels: {}, sharedLabels: labels, value: sum },
        { metricName: `${this.name}_count`, labels: {}, sharedLabels: labels, value: count },
      );
    }
    return this.metricObject(values);
  }

  /** For JSON and merged registries: each sample with all its labels. */
  get(): MetricObjectWithValues<Sample> {
    const values = this.getForPromString().values.map(({ sharedLabels, ...sample }) => ({
      ...sample,
      labels: { ...sample.labels, ...sharedLabels },
    }));
    return this.metricObject(values);
  }

  private metricObject(values: Sample[]): MetricObjectWithValues<Sample> {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    } as unknown as MetricObjectWithValues<Sample>;
  }
}
