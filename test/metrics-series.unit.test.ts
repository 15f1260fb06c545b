// The per-request series are counted by hand (src/metrics/metrics.ts): the
// scrape must read as prom-client's own Counter and Histogram would have
// written it, fed the same requests, at every scrape.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { Metrics } from '../src/metrics/metrics.js';

function reference() {
  const registry = new Registry();
  const requests = new Counter({
    name: 'oms_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'oms_http_request_duration_seconds',
    help: 'Time from receiving a request to finishing its answer, by method and route pattern.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const lookups = new Counter({
    name: 'oms_token_cache_lookups_total',
    help: 'Token cache lookups, by result (hit, miss). Hit ratio: hit / (hit + miss).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  return {
    registry,
    answered(method: string, route: string, status: number, seconds: number) {
      requests.inc({ method, route, status: String(status) });
      duration.observe({ method, route }, seconds);
    },
    refused(status: number) {
      requests.inc({ method: 'unknown', route: 'unparsed', status: String(status) });
    },
    lookup(hit: boolean) {
      lookups.inc({ result: hit ? 'hit' : 'miss' });
    },
  };
}

/** The blocks (HELP, TYPE and samples) of the named metrics, from a scrape's text. */
function blocks(text: string, names: string[]): string {
  return text
    .split('\n\n')
    .filter((block) => names.some((name) => block.startsWith(`# HELP ${name} `)))
    .map((block) => block.trim())
    .sort()
    .join('\n\n');
}

const NAMES = [
  'oms_http_requests_total',
  'oms_http_request_duration_seconds',
  'oms_token_cache_lookups_total',
];

test('request counts, durations and cache lookups scrape as prom-client writes them', async () => {
  const metrics = new Metrics();
  const ref = reference();
  const both = {
    answered: (m: string, r: string, s: number, sec: number) => {
      metrics.requestAnswered(m, r, s, sec);
      ref.answered(m, r, s, sec);
    },
    refused: (s: number) => {
      metrics.requestRefused(s);
      ref.refused(s);
    },
    lookup: (hit: boolean) => {
      metrics.tokenCacheLookup(hit);
      ref.lookup(hit);
    },
  };
  const scrapeBoth = async () => {
    assert.equal(
      blocks(await metrics.render(), NAMES),
      blocks(await ref.registry.metrics(), NAMES),
    );
  };
  await scrapeBoth(); // nothing counted yet
  const stop = '/v2/:project_id/tasks/:task_id/stop';
  const durations = [0, 0.001, 0.005, 0.0050001, 0.01, 0.3, 1, 9.99, 10, 10.5, 120, 0.0123456789];
  for (let i = 0; i < 500; i++) {
    both.answered(
      i % 3 ? 'POST' : 'GET',
      i % 5 ? stop : 'unmatched',
      [200, 403, 400][i % 3]!,
      durations[i % durations.length]!,
    );
    both.lookup(i % 7 !== 0);
    if (i % 50 === 0) both.refused(i % 100 ? 400 : 408);
    if (i === 10 || i === 300) await scrapeBoth();
  }
  await scrapeBoth();
  both.answered('DELETE', '/v2/:project_id/tasks/:task_id', 200, 0.002);
  await scrapeBoth();
  await scrapeBoth(); // a scrape with nothing new changes nothing
  const text = await metrics.render();
  assert.match(
    text,
    /oms_http_requests_total\{method="POST",route="\/v2\/:project_id\/tasks\/:task_id\/stop",status="403"\} \d+/,
  );
  assert.match(
    text,
    /oms_http_request_duration_seconds_bucket\{le="0.005",method="GET",route="unmatched"\} \d+/,
  );
});
