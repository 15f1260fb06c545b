// The tallied metrics (src/metrics/tallies.ts) against prom-client's own
// Counter and Histogram fed the same: the scrape must not tell them apart.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { TalliedCounter, TalliedHistogram } from '../src/metrics/tallies.js';

const BOUNDS = [0.005, 0.01, 0.1, 1];

function pair() {
  const theirs = new Registry();
  const ours = new Registry();
  const config = (registry: Registry) => ({
    name: 'requests_total',
    help: 'Requests "answered", by route\\status.',
    labelNames: ['route', 'status'] as const,
    registers: [registry],
  });
  const counters = { theirs: new Counter(config(theirs)), ours: new TalliedCounter(config(ours)) };
  const histograms = {
    theirs: new Histogram({
      name: 'duration_seconds',
      help: 'Time.',
      labelNames: ['route'] as const,
      buckets: BOUNDS,
      registers: [theirs],
    }),
    ours: new TalliedHistogram<'route'>('duration_seconds', 'Time.', BOUNDS, ours),
  };
  const answered = (route: string, status: number, seconds: number, by = 1) => {
    counters.theirs.inc({ route, status: String(status) }, by);
    counters.ours.inc(`${route} ${status}`, () => ({ route, status: String(status) }), by);
    histograms.theirs.observe({ route }, seconds);
    histograms.ours.observe(route, () => ({ route }), seconds);
  };
  return { theirs, ours, answered };
}

test('the text scrape is the same, series by series, value by value, across scrapes', async () => {
  const { theirs, ours, answered } = pair();
  assert.equal(await ours.metrics(), await theirs.metrics(), 'nothing counted yet');
  answered('/v2/:project_id/tasks/:task_id/stop', 200, 0.003);
  answered('/v2/:project_id/tasks/:task_id/stop', 200, 0.005); // on a bound: in that bucket
  answered('/v2/:project_id/tasks/:task_id/stop', 400, 0.0051);
  answered('unmatched', 404, 7); // above every bound: +Inf only
  answered('a "quoted"\\route\n', 500, 0.5, 3);
  const first = await theirs.metrics();
  assert.equal(await ours.metrics(), first);
  assert.match(
    first,
    /duration_seconds_bucket\{le="0.005",route="\/v2\/:project_id\/tasks\/:task_id\/stop"\} 2/,
  );
  // What waited in the tally was added once: a second scrape adds nothing more.
  assert.equal(await ours.metrics(), first);
  answered('unmatched', 404, 0.02, 2);
  assert.equal(await ours.metrics(), await theirs.metrics());
});

test('JSON and a merged registry give the same as prom-client too', async () => {
  const { theirs, ours, answered } = pair();
  answered('/health/live', 200, 0.001);
  answered('/health/live', 503, 0.2);
  // prom-client's own samples carry an empty exemplar; the service uses none.
  const withoutExemplars = (metrics: object) =>
    JSON.parse(JSON.stringify(metrics, (key, value) => (key === 'exemplar' ? undefined : value)));
  assert.deepEqual(
    withoutExemplars(await ours.getMetricsAsJSON()),
    withoutExemplars(await theirs.getMetricsAsJSON()),
  );
  const other = () => {
    const registry = new Registry();
    new Counter({ name: 'other_total', help: 'Other.', registers: [registry] }).inc();
    return registry;
  };
  assert.equal(
    await Registry.merge([ours, other()]).metrics(),
    await Registry.merge([theirs, other()]).metrics(),
  );
});
