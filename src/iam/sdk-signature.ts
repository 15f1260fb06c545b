// The SDK-HMAC-SHA256 access-key signature that the official Huawei Cloud
// SDKs put on every request, from the verifier's side: pure functions, no
// I/O, so each step can be unit-tested against the SDK's own signer.
//
// Two SDK families disagree on one detail. The Node SDK percent-encodes each
// path segment as it appears in the URL (so an already-encoded "%20" becomes
// "%2520"); the Go and Python SDKs decode the path first. Both forms are
// accepted: for a path without "%" they are the same string anyway.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNING_ALGORITHM = 'SDK-HMAC-SHA256';

/** sha256('') in hex: the payload hash of a request without a body. */
export const EMPTY_BODY_SHA256 = createHash('sha256').update('').digest('hex');

/** X-Sdk-Content-Sha256 value by which an SDK says "the body is not signed". */
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

/** How far X-Sdk-Date may be from our clock, either way. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

export interface ParsedAuthorization {
  readonly accessKey: string;
  /** Lower-case header names, in the order the client listed them. */
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

/** True when an Authorization header claims this signing scheme. */
export function isSdkSignature(authorization: string | undefined): boolean {
  return authorization !== undefined && authorization.startsWith(`${SIGNING_ALGORITHM} `);
}

/**
 * `SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=hex`, or undefined
 * when it is not exactly that.
 */
export function parseAuthorization(header: string): ParsedAuthorization | undefined {
  if (!isSdkSignature(header)) return undefined;
  const fields = new Map<string, string>();
  for (const part of header.slice(SIGNING_ALGORITHM.length + 1).split(',')) {
    const match = /^\s*(Access|SignedHeaders|Signature)=(\S+)\s*$/.exec(part);
    if (!match || fields.has(match[1])) return undefined;
    fields.set(match[1], match[2]);
  }
  const accessKey = fields.get('Access');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!accessKey || !signedHeaders || !signature) return undefined;
  if (!/^[0-9a-f]{64}$/.test(signature)) return undefined;
  const names = signedHeaders.split(';');
  if (names.some((name) => !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name))) return undefined;
  return { accessKey, signedHeaders: names, signature };
}

/** YYYYMMDDTHHMMSSZ (UTC) to ms since the epoch, or undefined. */
export function parseSdkDate(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number);
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 20260231 over into March; a real timestamp round-trips.
  const back = new Date(ms);
  if (back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day || hour > 23) return undefined;
  if (minute > 59 || second > 59) return undefined;
  return ms;
}

/**
 * RFC 3986 percent-encoding of everything but the unreserved characters,
 * over UTF-8, upper-case hex: what the SDKs apply to path segments and
 * query keys and values.
 */
export function sdkEscape(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function withTrailingSlash(path: string): string {
  return path.endsWith('/') ? path : `${path}/`;
}

/**
 * The canonical URIs a client may have signed for this raw (as sent) path:
 * the Node SDK's form first, then the decoding SDKs' form if it differs.
 */
export function canonicalUris(rawPath: string): string[] {
  const asSent = withTrailingSlash(rawPath.split('/').map(sdkEscape).join('/'));
  if (!rawPath.includes('%')) return [asSent];
  let decoded: string;
  try {
    decoded = withTrailingSlash(
      rawPath
        .split('/')
        .map((segment) => sdkEscape(decodeURIComponent(segment)))
        .join('/'),
    );
  } catch {
    return [asSent]; // not valid percent-encoding: only the literal form can match
  }
  return decoded === asSent ? [asSent] : [asSent, decoded];
}

/** Keys sorted, each key's values sorted, `k=v` joined by `&`. */
export function canonicalQueryString(rawQuery: string): string {
  const byKey = new Map<string, string[]>();
  for (const [key, value] of new URLSearchParams(rawQuery)) {
    const values = byKey.get(key);
    if (values) values.push(value);
    else byKey.set(key, [value]);
  }
  return [...byKey.keys()]
    .sort()
    .flatMap((key) =>
      byKey
        .get(key)!
        .sort()
        .map((value) => `${sdkEscape(key)}=${sdkEscape(value)}`),
    )
    .join('&');
}

/** `name:value\n` for each signed header, names lower-case and sorted. */
export function canonicalHeaders(
  signedHeaders: readonly string[],
  valueOf: (name: string) => string,
): string {
  return sortedNames(signedHeaders)
    .map((name) => `${name}:${valueOf(name)}\n`)
    .join('');
}

export function sortedNames(names: readonly string[]): string[] {
  return [...names].sort();
}

export interface CanonicalRequestParts {
  readonly method: string;
  readonly canonicalUri: string;
  readonly canonicalQuery: string;
  readonly canonicalHeaders: string;
  readonly signedHeaders: readonly string[];
  readonly payloadHash: string;
}

export function canonicalRequest(parts: CanonicalRequestParts): string {
  return [
    parts.method,
    parts.canonicalUri,
    parts.canonicalQuery,
    parts.canonicalHeaders,
    sortedNames(parts.signedHeaders).join(';'),
    parts.payloadHash,
  ].join('\n');
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function stringToSign(sdkDate: string, canonical: string): string {
  return `${SIGNING_ALGORITHM}\n${sdkDate}\n${sha256Hex(canonical)}`;
}

/** Hex HMAC-SHA256 of the string to sign, keyed with the secret key. */
export function signatureOf(secretKey: string, toSign: string): string {
  return createHmac('sha256', secretKey).update(toSign).digest('hex');
}

/** Constant-time comparison of two hex signatures. */
export function signaturesEqual(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
