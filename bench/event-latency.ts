// The bench's event-latency path: how long after a stop's 200 a subscriber
// (a worker, say) receives the stop's event from NATS. A service process
// with events on (EVENTS_NATS_URL, the machine's broker unless
// BENCH_NATS_URL says otherwise) under streams of its own; EVENT_STOPS
// migrating tasks stopped by EVENT_CONCURRENCY clients at once (the load),
// while one core NATS subscription on the project's stop subject records
// when each task's event arrives. Both times are read on this process's
// clock. An event can come before its 200 reaches the client (the relay is
// woken by the commit, the answer still has to be written), so a figure
// below 0 is possible and means "before". A stop without its event, or an
// event twice, fails the bench.

import { randomBytes } from 'node:crypto';
import { connect } from 'nats';
import { withClient } from './bench-database.js';

export const EVENT_LATENCY = 'event-latency';
export const EVENT_CONCURRENCY = 16;

const PROJECT_PREFIX = 'bench-events-';
const REQUEST_TIMEOUT_MS = 30_000;
const EVENT_TIMEOUT_MS = 30_000;
const STREAMS = ['TASK_EVENTS', 'TASK_GROUP_EVENTS', 'SYNC_TASK_EVENTS', 'NOTIFICATIONS'];

export interface EventLatencyRun {
  readonly stops: number;
  /** Per stop, ms from its 200 reaching the client to its event reaching the subscriber. */
  readonly afterOkMs: readonly number[];
  /** Per stop, ms from sending it to its event. */
  readonly afterSendMs: readonly number[];
}

export const natsUrl = () => process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';

/** The events settings for the service child: streams and subjects of this run only. */
export function eventsEnv(): {
  env: Record<string, string>;
  streamPrefix: string;
  subjectPrefix: string;
} {
  const tag = randomBytes(4).toString('hex');
  const streamPrefix = `BENCH_${tag.toUpperCase()}`;
  const subjectPrefix = `bench${tag}`;
  return {
    streamPrefix,
    subjectPrefix,
    env: {
      EVENTS_NATS_URL: natsUrl(),
      EVENTS_STREAM_PREFIX: streamPrefix,
      EVENTS_SUBJECT_PREFIX: subjectPrefix,
    },
  };
}

/**
 * Before the service starts: the relay's cursors at the audit tables' ends,
 * so that it does not first publish the other paths' history (its streams
 * are new), and the path's own rows from an earlier run gone.
 */
export async function prepareEventLatency(databaseUrl: string): Promise<void> {
  await withClient(databaseUrl, async (client) => {
    const like = `${PROJECT_PREFIX}%`;
    await client.query('DELETE FROM tasks WHERE project_id LIKE $1', [like]);
    // The bench's seed inserts ids by hand: new tasks' ids must come after them.
    await client.query(
      `SELECT setval(pg_get_serial_sequence('tasks', 'id'), GREATEST(
         (SELECT max(id) FROM tasks), nextval(pg_get_serial_sequence('tasks', 'id'))))`,
    );
    for (const table of ['task_transitions', 'sync_task_transitions']) {
      await client.query(
        `INSERT INTO event_relay_cursors (outbox, last_id)
         SELECT $1, COALESCE(max(id), 0) FROM ${table}
         ON CONFLICT (outbox) DO UPDATE SET last_id = EXCLUDED.last_id`,
        [table],
      );
    }
  });
}

/** After the path: its tasks and the run's streams go. */
export async function cleanUpEventLatency(databaseUrl: string, streamPrefix: string) {
  await withClient(databaseUrl, (client) =>
    client.query('DELETE FROM tasks WHERE project_id LIKE $1', [`${PROJECT_PREFIX}%`]),
  );
  const nc = await connect({ servers: natsUrl() });
  try {
    const jsm = await nc.jetstreamManager();
    for (const name of STREAMS)
      await jsm.streams.delete(`${streamPrefix}_${name}`).catch(() => false);
  } finally {
    await nc.close();
  }
}

/** One run against the service at `url`: seed, subscribe, stop them all, match each 200 with its event. */
export async function eventLatencyRun(
  url: string,
  databaseUrl: string,
  subjectPrefix: string,
  stops: number,
  tag: string,
): Promise<EventLatencyRun> {
  const project = `${PROJECT_PREFIX}${tag}`;
  const ids = await withClient(databaseUrl, async (client) => {
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO tasks (project_id, name, status)
       SELECT $1, 'bench-event-' || n, 2 FROM generate_series(1, $2) AS n RETURNING id::text`,
      [project, stops],
    );
    return rows.map((row) => row.id);
  });
  const headers = { 'X-Auth-Token': `bench.${project}.member.${tag}` };
  const base = `${url}/v2/${project}/tasks`;

  const nc = await connect({ servers: natsUrl() });
  const received = new Map<string, number>();
  let duplicates = 0;
  const subscription = nc.subscribe(`${subjectPrefix}.oms.task.${project}.*.stop`, {
    callback: (error, message) => {
      if (error) return;
      const at = performance.now();
      const { task_id } = JSON.parse(Buffer.from(message.data).toString()) as { task_id: string };
      if (received.has(task_id)) duplicates++;
      else received.set(task_id, at);
    },
  });
  await nc.flush();
  try {
    // The token validated once before the measure, as a client's would be.
    await fetch(`${base}?limit=1`, { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const answered = new Map<string, { sent: number; ok: number }>();
    let next = 0;
    await Promise.all(
      Array.from({ length: EVENT_CONCURRENCY }, async () => {
        while (next < ids.length) {
          const id = ids[next++];
          const sent = performance.now();
          const response = await fetch(`${base}/${id}/stop`, {
            method: 'POST',
            headers,
            signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
          });
          const ok = performance.now();
          const text = await response.text();
          if (response.status !== 200) {
            throw new Error(`${EVENT_LATENCY}: stop ${id} answered ${response.status}: ${text}`);
          }
          answered.set(id, { sent, ok });
        }
      }),
    );
    const deadline = performance.now() + EVENT_TIMEOUT_MS;
    while (received.size < ids.length && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (received.size < ids.length || duplicates > 0) {
      throw new Error(
        `${EVENT_LATENCY}: ${received.size} of ${ids.length} stop events received, ${duplicates} twice`,
      );
    }
    const afterOkMs: number[] = [];
    const afterSendMs: number[] = [];
    for (const [id, { sent, ok }] of answered) {
      const at = received.get(id)!;
      afterOkMs.push(at - ok);
      afterSendMs.push(at - sent);
    }
    return { stops: ids.length, afterOkMs, afterSendMs };
  } finally {
    subscription.unsubscribe();
    await nc.close();
  }
}
