// Requests signed by the official SDK core's own signer (AKSKSigner,
// unmodified), sent with Node's HTTP client exactly as signed, so a test can
// change one header, the body or the date after signing and see which check
// refuses it.

import { AKSKSigner } from '@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner.js';
import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core/auth/BasicCredentials.js';
import type { ICredential } from '@huaweicloud/huaweicloud-sdk-core/auth/ICredential.js';
import type { IHttpRequest } from '@huaweicloud/huaweicloud-sdk-core/http/IHttpRequest.js';
import { request } from 'node:http';
import { stringify } from 'node:querystring';
import type { Answer } from './stop-checks.js';

export interface ToSign {
  method: string;
  path: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  /** Sent as JSON; the SDK hashes JSON.stringify of it. */
  body?: Record<string, unknown>;
  /** Default: now. */
  signedAt?: Date;
  /** The Host signed and sent; default: 127.0.0.1 and the port. */
  host?: string;
}

export interface AccessKeyPair {
  accessKey: string;
  secretKey: string;
}

/** YYYYMMDDTHHMMSSZ */
export function sdkDate(at: Date): string {
  return at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** The headers the SDK would send for `req` to 127.0.0.1:port (or to `req.host`). */
export function signWithSdk(port: number, key: AccessKeyPair, req: ToSign): Record<string, string> {
  const headers: Record<string, string> = { ...req.headers };
  // A given X-Sdk-Date is signed and sent as given (and re-formatted for
  // the string to sign), so it must already be in the SDK's own format.
  if (req.signedAt) headers['X-Sdk-Date'] = sdkDate(req.signedAt);
  const credentials = new BasicCredentials().withAk(key.accessKey).withSk(key.secretKey);
  const signed = AKSKSigner.sign(
    {
      method: req.method,
      endpoint: `http://${req.host ?? `127.0.0.1:${port}`}${req.path}`,
      headers,
      queryParams: req.query ?? {},
      data: req.body,
    } as unknown as IHttpRequest,
    credentials as unknown as ICredential,
  ) as Record<string, string>;
  return signed;
}

export interface Sent {
  method: string;
  path: string;
  query?: Record<string, string | string[]>;
  headers: Record<string, string>;
  /** Raw bytes to send; default: JSON of the signed body, or nothing. */
  body?: string | Buffer;
}

/** Sends exactly these headers and body. */
export function sendRaw(port: number, sent: Sent): Promise<Answer> {
  const query = sent.query && Object.keys(sent.query).length > 0 ? `?${stringify(sent.query)}` : '';
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: sent.method,
        path: `${sent.path}${query}`,
        headers: sent.headers,
        signal: AbortSignal.timeout(10_000),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(sent.body);
  });
}

/** What goes on the wire for `req` signed with the SDK: send it with sendRaw, once or again. */
export function signed(port: number, key: AccessKeyPair, req: ToSign): Sent {
  const headers = signWithSdk(port, key, req);
  return {
    method: req.method,
    path: req.path,
    query: req.query,
    headers: req.body ? { 'Content-Type': 'application/json', ...headers } : headers,
    body: req.body ? JSON.stringify(req.body) : undefined,
  };
}

/** Signs with the SDK and sends; `tamper` may change what goes on the wire after signing. */
export function sendSigned(
  port: number,
  key: AccessKeyPair,
  req: ToSign,
  tamper: (sent: Sent) => void = () => undefined,
): Promise<Answer> {
  const sent = signed(port, key, req);
  tamper(sent);
  return sendRaw(port, sent);
}
