// One small HTTP client for every call to a Keystone-v3-compatible IAM:
// keep-alive connections, a timeout per call, and bounds on the answer, so
// that a slow or misbehaving IAM costs a bounded wait and bounded memory.

import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * IAM echoes the checked token in the X-Subject-Token response header, so a
 * 16,384-character token makes a response head larger than the 16 KiB that
 * fetch() and Node's HTTP client accept by default.
 */
const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;

/** A token body is a few KiB; anything far larger is not an answer we trust. */
const MAX_RESPONSE_BODY_BYTES = 1024 * 1024;

// Connections to IAM are reused: a new TCP (and TLS) handshake per call
// would add to every cache miss.
const keepAlive = { keepAlive: true, maxSockets: 64 };
const httpAgent = new HttpAgent(keepAlive);
const httpsAgent = new HttpsAgent(keepAlive);

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

/**
 * Rejects when the call did not produce a whole answer (refused, reset,
 * timed out, too large); any HTTP status resolves.
 */
export async function callKeystone(url: URL, call: KeystoneCall): Promise<KeystoneAnswer> {
  try {
    return await callOnce(url, call);
  } catch (error) {
    const stale = (error as { reusedSocket?: boolean }).reusedSocket;
    if (stale && call.retryOnStaleConnection) return callOnce(url, call);
    throw error;
  }
}

function callOnce(url: URL, call: KeystoneCall): Promise<KeystoneAnswer> {
  const [send, agent] =
    url.protocol === 'https:' ? [httpsRequest, httpsAgent] : [httpRequest, httpAgent];
  const payload = call.json === undefined ? undefined : JSON.stringify(call.json);
  const headers: Record<string, string> = { Accept: 'application/json', ...call.headers };
  if (payload !== undefined) {
    headers['Content-Type'] = 'application/json';
    // Keystone under uwsgi's http-socket does not read chunked request bodies.
    headers['Content-Length'] = String(Buffer.byteLength(payload));
  }
  return new Promise((resolve, reject) => {
    let answered = false;
    const request = send(
      url,
      {
        method: call.method ?? 'GET',
        headers,
        agent,
        maxHeaderSize: MAX_RESPONSE_HEAD_BYTES,
        signal: AbortSignal.timeout(call.timeoutMs),
      },
      (response) => {
        answered = true;
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BODY_BYTES) {
            request.destroy(new Error('IAM answer too large'));
            return;
          }
          chunks.push(chunk);
        });
        response.on('error', reject);
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    request.on('error', (error: NodeJS.ErrnoException) => {
      const stale = request.reusedSocket && error.code === 'ECONNRESET' && !answered;
      reject(stale ? Object.assign(error, { reusedSocket: true }) : error);
    });
    request.end(payload);
  });
}

/** The parsed body, or undefined when it is not JSON (IAM misbehaving). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
