// A client of the data plane's protocol (docs/worker-protocol.md), over
// HTTP with Node's fetch: what the demo worker speaks, in the service's own
// process (development-worker.ts) and in a worker process (scripts/worker.ts).
//
// Nothing secret leaves it in an error or a log line: the token goes only
// into the X-Auth-Token header, and a lease's keys only to the caller.

import type { LeaseRequestBody, OutcomeBody, ProgressBody } from './worker.bodies.js';
import type { HeartbeatAnswer, Lease, LeaseList, OutcomeAnswer } from './worker-view.js';

/** Long enough for a busy service, short enough that a lease outlives a hung call. */
const DEFAULT_TIMEOUT_MS = 5000;

/** The three calls; the demo loop depends on this, so a test can hand it a fake. */
export interface WorkerProtocol {
  lease(maxTasks: number): Promise<Lease[]>;
  heartbeat(leaseId: string, progress: Progress): Promise<HeartbeatAnswer>;
  outcome(leaseId: string, report: OutcomeReport): Promise<OutcomeAnswer>;
}

/** What a heartbeat reports (every field optional, as the service takes it). */
export type Progress = { -readonly [K in keyof ProgressBody]: ProgressBody[K] };
export type OutcomeReport = Progress & Pick<OutcomeBody, 'outcome' | 'error_reason'>;

/**
 * A call the service refused (status and OMS error code), or that never got
 * an answer (no status: unreachable, timed out).
 */
export class WorkerCallFailed extends Error {
  constructor(
    readonly call: string,
    readonly status: number | undefined,
    readonly errorCode: string | undefined,
    detail: string,
  ) {
    super(`${call}: ${status === undefined ? '' : `${status} `}${detail}`);
  }

  /** The service answered 4xx: sending the same call again would get the same answer. */
  get refused(): boolean {
    return this.status !== undefined && this.status >= 400 && this.status < 500;
  }
}

export interface WorkerClientOptions {
  /** The service, e.g. http://127.0.0.1:8080 (no trailing slash needed). */
  readonly baseUrl: string;
  /** A token whose caller has the worker role. */
  readonly token: string;
  readonly workerId: string;
  readonly timeoutMs?: number;
}

export class WorkerClient implements WorkerProtocol {
  private readonly leases: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: WorkerClientOptions) {
    this.leases = `${options.baseUrl.replace(/\/+$/, '')}/v2/workers/${encodeURIComponent(
      options.workerId,
    )}/leases`;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  get workerId(): string {
    return this.options.workerId;
  }

  async lease(maxTasks: number): Promise<Lease[]> {
    const body: LeaseRequestBody = { max_tasks: maxTasks };
    const answer = await this.post<LeaseList>('lease', this.leases, body);
    return answer.leases;
  }

  heartbeat(leaseId: string, progress: Progress): Promise<HeartbeatAnswer> {
    return this.post('heartbeat', `${this.leases}/${leaseId}/heartbeat`, progress);
  }

  outcome(leaseId: string, report: OutcomeReport): Promise<OutcomeAnswer> {
    return this.post('outcome', `${this.leases}/${leaseId}/outcome`, report);
  }

  private async post<T>(call: string, url: string, body: object): Promise<T> {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Auth-Token': this.options.token },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      // fetch's own message ("fetch failed") says little; its cause says why.
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new WorkerCallFailed(call, undefined, undefined, `no answer (${why})`);
    }
    const text = await response.text();
    if (!response.ok) {
      // The OMS error body: a code and a message, neither of which holds secrets.
      const error = parseJson(text) as { error_code?: string; error_msg?: string } | undefined;
      throw new WorkerCallFailed(
        call,
        response.status,
        error?.error_code,
        error?.error_code ? `${error.error_code} ${error.error_msg ?? ''}`.trim() : 'refused',
      );
    }
    const parsed = parseJson(text);
    if (parsed === undefined) {
      throw new WorkerCallFailed(call, response.status, undefined, 'the answer is not JSON');
    }
    return parsed as T;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
