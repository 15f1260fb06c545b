// One small HTTP client for every call to a Keystone-v3-compatible IAM:
// keep-alive connections, a timeout per call, and bounds on the answer, so
// that a slow or misbehaving IAM costs a bounded wait and bounded memory.
//
// Connections come from pools (KeystoneConnections), one per kind of call,
// so that a flood of one kind (made-up tokens) cannot starve another
// (credential reads). A call waits for a free connection in its pool's queue,
// which is bounded in length and in time: past either bound it fails at once
// with IamQueueFull, a 503 that is the service's own congestion and never
// counts as IAM failing. IAM's timeout starts only when the call has its
// socket (connecting included), so time spent in the queue is not charged to
// IAM either.

import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { AppConfig } from '../config/config.js';
import { IamQueueFull } from './circuit-breaker.js';

/**
 * IAM echoes the checked token in the X-Subject-Token response header, so a
 * 16,384-character token makes a response head larger than the 16 KiB that
 * fetch() and Node's HTTP client accept by default.
 */
const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;

/** A token body is a few KiB; anything far larger is not an answer we trust. */
const MAX_RESPONSE_BODY_BYTES = 1024 * 1024;

export interface KeystonePoolOptions {
  /** Calls in flight at once (each on its own connection). */
  readonly maxConnections: number;
  /** Calls that may wait for a connection; beyond, IamQueueFull at once. */
  readonly maxQueued: number;
  /** How long a call may wait for a connection before IamQueueFull. */
  readonly maxQueueWaitMs: number;
}

/** What a pool gets unless told otherwise: the service's defaults. */
export const DEFAULT_POOL: KeystonePoolOptions = {
  maxConnections: 64,
  maxQueued: 256,
  maxQueueWaitMs: 1000,
};

/** The configured size of each pool (IAM_MAX_CONNECTIONS, IAM_QUEUE_*). */
export function keystonePool(config: AppConfig): KeystonePoolOptions {
  return {
    maxConnections: config.iamMaxConnections,
    maxQueued: config.iamQueueMax,
    maxQueueWaitMs: config.iamQueueTimeoutMs,
  };
}

export interface KeystoneAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface KeystoneCall {
  readonly method?: 'GET' | 'POST';
  readonly headers: Record<string, string>;
  /** Sent as JSON. */
  readonly json?: unknown;
  readonly timeoutMs: number;
  /**
   * Once more on a new connection when a kept-alive one turns out closed.
   * uwsgi, which serves Keystone, closes every connection after one answer,
   * so back-to-back calls can pick a socket it is closing. Only for calls
   * that are harmless to repeat, since IAM may have received the first.
   */
  readonly retryOnStaleConnection?: boolean;
}

interface Waiter {
  readonly admit: () => void;
  readonly timer: NodeJS.Timeout;
}

/** A bounded set of keep-alive connections to IAM and the bounded queue in front of it. */
export class KeystoneConnections {
  private inFlight = 0;
  /** Insertion order is arrival order: the first waiter is served first. */
  private readonly waiting = new Set<Waiter>();
  // Connections are reused: a new TCP (and TLS) handshake per call would add
  // to every cache miss. The agents never hold more than the pool admits.
  private readonly httpAgent: HttpAgent;
  private readonly httpsAgent: HttpsAgent;

  constructor(private readonly options: KeystonePoolOptions = DEFAULT_POOL) {
    const agentOptions = { keepAlive: true, maxSockets: options.maxConnections };
    this.httpAgent = new HttpAgent(agentOptions);
    this.httpsAgent = new HttpsAgent(agentOptions);
  }

  /**
   * Rejects when the call did not produce a whole answer (refused, reset,
   * timed out, too large), or with IamQueueFull when it never got a
   * connection; any HTTP status resolves.
   */
  async call(url: URL, call: KeystoneCall): Promise<KeystoneAnswer> {
    await this.admission();
    try {
      return await this.callOnce(url, call);
    } catch (error) {
      const stale = (error as { reusedSocket?: boolean }).reusedSocket;
      if (stale && call.retryOnStaleConnection) return await this.callOnce(url, call);
      throw error;
    } finally {
      this.release();
    }
  }

  private admission(): Promise<void> {
    if (this.inFlight < this.options.maxConnections) {
      this.inFlight++;
      return Promise.resolve();
    }
    if (this.waiting.size >= this.options.maxQueued) return Promise.reject(new IamQueueFull());
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        admit: resolve, // the releasing call hands its place over: inFlight stays
        timer: setTimeout(() => {
          this.waiting.delete(waiter);
          reject(new IamQueueFull());
        }, this.options.maxQueueWaitMs),
      };
      this.waiting.add(waiter);
    });
  }

  private release(): void {
    const next = this.waiting.values().next();
    if (next.done) {
      this.inFlight--;
      return;
    }
    this.waiting.delete(next.value);
    clearTimeout(next.value.timer);
    next.value.admit();
  }

  private callOnce(url: URL, call: KeystoneCall): Promise<KeystoneAnswer> {
    const [send, agent] =
      url.protocol === 'https:' ? [httpsRequest, this.httpsAgent] : [httpRequest, this.httpAgent];
    const payload = call.json === undefined ? undefined : JSON.stringify(call.json);
    const headers: Record<string, string> = { Accept: 'application/json', ...call.headers };
    if (payload !== undefined) {
      headers['Content-Type'] = 'application/json';
      // Keystone under uwsgi's http-socket does not read chunked request bodies.
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    return new Promise((resolve, reject) => {
      let answered = false;
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const fail = (error: Error) => {
        settled = true;
        clearTimeout(timer);
        reject(error);
        request.destroy();
      };
      const request = send(
        url,
        { method: call.method ?? 'GET', headers, agent, maxHeaderSize: MAX_RESPONSE_HEAD_BYTES },
        (response) => {
          answered = true;
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BODY_BYTES) return fail(new Error('IAM answer too large'));
            chunks.push(chunk);
          });
          response.on('error', fail);
          response.on('end', () => {
            settled = true;
            clearTimeout(timer);
            resolve({
              status: response.statusCode ?? 0,
              headers: response.headers,
              body: Buffer.concat(chunks).toString(),
            });
          });
        },
      );
      // IAM's time starts with the socket (a new one still has to connect),
      // not with the request: see the top of the file.
      request.once('socket', () => {
        if (settled) return;
        timer = setTimeout(() => fail(new Error('IAM did not answer in time')), call.timeoutMs);
      });
      request.on('error', (error: NodeJS.ErrnoException) => {
        const stale = request.reusedSocket && error.code === 'ECONNRESET' && !answered;
        fail(stale ? Object.assign(error, { reusedSocket: true }) : error);
      });
      request.end(payload);
    });
  }
}

/** The parsed body, or undefined when it is not JSON (IAM misbehaving). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
