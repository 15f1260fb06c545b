// The load: the paths the bench drives, each a way of calling stop with a
// known right answer, and one autocannon run over a path. Every request is
// built as it is sent, so that each success pauses a task no other request
// touched, and every answer is checked against the path's expected status
// and OMS code: anything else is counted as an error.

import autocannon, { type AutocannonRequest } from 'autocannon';
import { PROJECTS, TASKS, projectId, projectOfTask } from './bench-database.js';

export const CONNECTIONS = 32;

/** On the cache-cold path, how many requests share one new token. */
export const COLD_TOKEN_EVERY = 100;

export type PathName = 'success' | 'not-found' | 'wrong-project' | 'cold-token';

export interface LoadPath {
  readonly name: PathName;
  readonly description: string;
  readonly expected: string;
  /** Whether the path pauses tasks (the database is reset before it). */
  readonly pausesTasks: boolean;
  /** The n-th request of a run tagged `tag`: its URL path and token. */
  request(n: number, tag: string): { path: string; token: string };
}

/** A token the bench's IAM double accepts: it describes its own scope. */
function token(project: string, tag: string, role = 'member'): string {
  return `bench.${project}.${role}.${tag}`;
}

function stopPath(project: string, taskId: number): string {
  return `/v2/${project}/tasks/${taskId}/stop`;
}

/** Consecutive requests pause consecutive tasks, one project after another. */
function nthTask(n: number): number {
  return (n % TASKS) + 1;
}

export const LOAD_PATHS: readonly LoadPath[] = [
  {
    name: 'success',
    description: 'pauses a different migrating task with each request (warm token)',
    expected: '200',
    pausesTasks: true,
    request(n, tag) {
      const taskId = nthTask(n);
      return {
        path: stopPath(projectOfTask(taskId), taskId),
        token: token(projectOfTask(taskId), tag),
      };
    },
  },
  {
    name: 'not-found',
    description: 'a task id that does not exist in the project',
    expected: '400 OMS.1009',
    pausesTasks: false,
    request(n, tag) {
      const project = projectId(n % PROJECTS);
      return { path: stopPath(project, TASKS + 1 + n), token: token(project, tag) };
    },
  },
  {
    name: 'wrong-project',
    description: 'a token scoped to another project (no database work)',
    expected: '403 OMS.0206',
    pausesTasks: false,
    request(n, tag) {
      const project = projectId(n % PROJECTS);
      const other = projectId((n + 1) % PROJECTS);
      return { path: stopPath(other, nthTask(n)), token: token(project, tag) };
    },
  },
  {
    name: 'cold-token',
    description: `as success, with a token never seen before every ${COLD_TOKEN_EVERY} requests`,
    expected: '200',
    pausesTasks: true,
    request(n, tag) {
      const taskId = nthTask(n);
      const fresh = `${tag}-${Math.floor(n / COLD_TOKEN_EVERY)}`;
      return {
        path: stopPath(projectOfTask(taskId), taskId),
        token: token(projectOfTask(taskId), fresh),
      };
    },
  },
];

export interface LoadResult {
  readonly requests: number;
  readonly seconds: number;
  /** Every response's latency in ms, sorted. */
  readonly latencies: Float64Array;
  /** Answers by "status code", e.g. {"200": 9000, "400 OMS.0066": 3}. */
  readonly outcomes: Record<string, number>;
  /** Answers other than the path's expected one, plus connection errors. */
  readonly errors: number;
}

/** The answer's status and, for an OMS error body, its code. */
function outcome(status: number, body: string): string {
  const code = /"error_code":"([^"]+)"/.exec(body);
  return code ? `${status} ${code[1]}` : String(status);
}

/**
 * Drives `url` along `path` for `seconds`, counting requests from `first`.
 * Returns what happened and the next request number, so that a measured run
 * after a warm-up carries on with tasks the warm-up did not touch.
 */
export function drive(
  url: string,
  path: LoadPath,
  tag: string,
  seconds: number,
  first = 0,
): Promise<LoadResult & { next: number }> {
  let next = first;
  const outcomes: Record<string, number> = {};
  const latencies: number[] = [];
  const request: AutocannonRequest = {
    method: 'POST',
    setupRequest(raw) {
      const { path: urlPath, token: authToken } = path.request(next++, tag);
      return { ...raw, path: urlPath, headers: { 'X-Auth-Token': authToken } };
    },
    onResponse(status, body) {
      const key = outcome(status, body);
      outcomes[key] = (outcomes[key] ?? 0) + 1;
    },
  };
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      { url, connections: CONNECTIONS, duration: seconds, timeout: 10, requests: [request] },
      (error, result) => {
        if (error) return reject(error);
        const sorted = Float64Array.from(latencies).sort();
        const unexpected = Object.entries(outcomes)
          .filter(([key]) => key !== path.expected)
          .reduce((sum, [, count]) => sum + count, 0);
        resolve({
          requests: sorted.length,
          seconds: result.duration,
          latencies: sorted,
          outcomes,
          errors: unexpected + result.errors,
          next,
        });
      },
    );
    instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) =>
      latencies.push(ms),
    );
  });
}

/** The p-th percentile (0–100) of sorted values. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}
