// Turns a request signed with SDK-HMAC-SHA256 into an Caller: checks the
// Authorization header, the date, the signed Host and the body hash (all
// local, so a stale, misdirected or broken request costs IAM nothing), then
// the access key's secret (cached, one IAM lookup for concurrent requests),
// then the signature itself.
// Rejections are 401 APIGW.0301 with a message that says which check
// failed; the messages never quote a secret or a signature.

import { Forbidden, Unauthenticated } from '../common/oms-errors.js';
import { DEFAULT_SIGNATURE_HOSTS } from '../config/config.js';
import type { AccessKeyRecord, AccessKeyStore } from './access-key.js';
import type { Caller } from './caller.js';
import {
  EMPTY_BODY_SHA256,
  MAX_CLOCK_SKEW_MS,
  UNSIGNED_PAYLOAD,
  canonicalHeaders,
  canonicalQueryString,
  canonicalRequest,
  canonicalUris,
  parseAuthorization,
  parseSdkDate,
  type ParsedAuthorization,
  sha256Hex,
  signatureOf,
  signaturesEqual,
  stringToSign,
} from './sdk-signature.js';
import { SingleFlight } from './single-flight.js';
import { TokenCache } from './token-cache.js';

/** The parts of an HTTP request that a signature covers. */
export interface SignedRequest {
  readonly method: string;
  /** Path and query exactly as sent. */
  readonly url: string;
  /** A header's value, by lower-case name. */
  header(name: string): string | undefined;
  /** The body bytes as received; undefined when there was none. */
  readonly body: Buffer | undefined;
}

/** What the request says about itself, once its shape, date and body hash are checked. */
interface Claim extends ParsedAuthorization {
  readonly sdkDate: string;
  readonly signedAt: number;
  readonly payloadHash: string;
}

/** A request whose signature checked out. */
export interface VerifiedSignature {
  readonly caller: Caller;
  /** At most MAX_ACCESS_KEY_LENGTH characters, and known to IAM. */
  readonly accessKey: string;
  /** 64 hex digits: these bytes, signed with this secret at this second. */
  readonly signature: string;
  /** X-Sdk-Date, ms since the epoch: the signature is accepted until MAX_CLOCK_SKEW_MS after. */
  readonly signedAt: number;
}

/** Headers a signature must cover: without them it could be replayed elsewhere or later. */
const REQUIRED_SIGNED_HEADERS = ['host', 'x-sdk-date'];

const MAX_ACCESS_KEY_LENGTH = 128;

/**
 * Room for the algorithm, a 128-character key, a 64-digit signature and
 * dozens of signed header names. A longer header is refused before it is
 * parsed, and nothing of it is kept.
 */
export const MAX_AUTHORIZATION_LENGTH = 4096;

/** The Host header's name and the port if any: `name[:port]`, `[v6][:port]`. */
const HOST_SHAPE = /^(\[[^\]]*\]|[^:[\]]*)(?::(\d+))?$/;

export class SignatureAuthenticator {
  private readonly cache: TokenCache<AccessKeyRecord>;
  private readonly inflight = new SingleFlight<AccessKeyRecord | undefined>();
  /** Accepted `name:port` entries, compared with the whole Host header. */
  private readonly hostsWithPort = new Set<string>();
  /** Accepted names without a port: any port of theirs goes. */
  private readonly hostNames = new Set<string>();

  constructor(
    private readonly store: AccessKeyStore,
    options: { ttlSeconds: number; maxEntries: number; hosts?: readonly string[] },
    private readonly now: () => number = Date.now,
  ) {
    this.cache = new TokenCache(options.ttlSeconds * 1000, options.maxEntries);
    for (const host of options.hosts ?? DEFAULT_SIGNATURE_HOSTS) {
      const port = HOST_SHAPE.exec(host.toLowerCase())?.[2];
      (port === undefined ? this.hostNames : this.hostsWithPort).add(host.toLowerCase());
    }
  }

  async authenticate(request: SignedRequest): Promise<Caller> {
    return (await this.verify(request)).caller;
  }

  async verify(request: SignedRequest): Promise<VerifiedSignature> {
    const claim = this.checkLocally(request);
    const record = await this.lookup(claim.accessKey);
    if (!record) throw new Unauthenticated('the access key is unknown.');
    if (!this.signatureMatches(request, claim, record.secretKey)) {
      throw new Unauthenticated(
        'the signature does not match the request: a wrong secret key, or the method, path, ' +
          'query, a signed header or the body was changed after signing.',
      );
    }
    if (record.refusal !== undefined) throw new Unauthenticated(record.refusal);
    const projectHeader = request.header('x-project-id');
    if (projectHeader !== undefined && projectHeader !== record.caller.projectId) {
      throw new Forbidden("X-Project-Id is not the access key's project.");
    }
    const { accessKey, signature, signedAt } = claim;
    return { caller: record.caller, accessKey, signature, signedAt };
  }

  /** Everything that can be checked without the secret. */
  private checkLocally(request: SignedRequest): Claim {
    const header = request.header('authorization') ?? '';
    if (header.length > MAX_AUTHORIZATION_LENGTH) {
      throw new Unauthenticated(
        `the Authorization header is longer than ${MAX_AUTHORIZATION_LENGTH} characters.`,
      );
    }
    const authorization = parseAuthorization(header);
    if (!authorization) {
      throw new Unauthenticated(
        'the Authorization header is not a valid SDK-HMAC-SHA256 signature ' +
          '(Access=..., SignedHeaders=..., Signature=<64 hex digits>).',
      );
    }
    if (authorization.accessKey.length > MAX_ACCESS_KEY_LENGTH) {
      throw new Unauthenticated('the access key is unknown.');
    }
    const sdkDate = request.header('x-sdk-date');
    if (sdkDate === undefined) throw new Unauthenticated('the X-Sdk-Date header is missing.');
    const signedAt = this.checkDate(sdkDate);
    const { signedHeaders } = authorization;
    const missingRequired = REQUIRED_SIGNED_HEADERS.filter((name) => !signedHeaders.includes(name));
    if (missingRequired.length > 0) {
      throw new Unauthenticated(`SignedHeaders must include ${missingRequired.join(' and ')}.`);
    }
    const absent = signedHeaders.find((name) => request.header(name) === undefined);
    if (absent !== undefined) {
      throw new Unauthenticated(`the signed header ${absent} is missing from the request.`);
    }
    // A signature made for another service that shares the key must not
    // act here. (The header is not quoted back: it is the caller's text.)
    if (!this.isAcceptedHost(request.header('host'))) {
      throw new Unauthenticated(
        'the signed Host is not a name this service answers to (SIGNATURE_HOSTS).',
      );
    }
    if (request.header('x-security-token') !== undefined) {
      throw new Unauthenticated('temporary credentials (X-Security-Token) are not supported.');
    }
    const payloadHash = this.payloadHash(request);
    return { ...authorization, sdkDate, signedAt, payloadHash };
  }

  /** `name` entries match the name on any port; `name:port` entries the whole header. */
  private isAcceptedHost(host: string | undefined): boolean {
    if (host === undefined) return false;
    const value = host.trim().toLowerCase();
    const name = HOST_SHAPE.exec(value)?.[1];
    return name !== undefined && (this.hostNames.has(name) || this.hostsWithPort.has(value));
  }

  private signatureMatches(request: SignedRequest, claim: Claim, secretKey: string): boolean {
    const [path, query = ''] = splitUrl(request.url);
    const parts = {
      method: request.method.toUpperCase(),
      canonicalQuery: canonicalQueryString(query),
      canonicalHeaders: canonicalHeaders(claim.signedHeaders, (name) => request.header(name)!),
      signedHeaders: claim.signedHeaders,
      payloadHash: claim.payloadHash,
    };
    return canonicalUris(path).some((canonicalUri) => {
      const canonical = canonicalRequest({ ...parts, canonicalUri });
      const expected = signatureOf(secretKey, stringToSign(claim.sdkDate, canonical));
      return signaturesEqual(expected, claim.signature);
    });
  }

  /** X-Sdk-Date in ms since the epoch, once it is well-formed and close enough to now. */
  private checkDate(sdkDate: string): number {
    const signedAt = parseSdkDate(sdkDate);
    if (signedAt === undefined) {
      throw new Unauthenticated('X-Sdk-Date is malformed (expected YYYYMMDDTHHMMSSZ, UTC).');
    }
    if (Math.abs(this.now() - signedAt) > MAX_CLOCK_SKEW_MS) {
      throw new Unauthenticated("X-Sdk-Date is more than 15 minutes from the server's clock.");
    }
    return signedAt;
  }

  /**
   * The hash the client signed: X-Sdk-Content-Sha256 when given (checked
   * against the body here, so a changed body is named as such), else the
   * body's own hash.
   */
  private payloadHash(request: SignedRequest): string {
    const body = request.body ?? Buffer.alloc(0);
    const declared = request.header('x-sdk-content-sha256');
    if (declared === undefined) return body.length === 0 ? EMPTY_BODY_SHA256 : sha256Hex(body);
    if (declared === UNSIGNED_PAYLOAD) {
      // The SDKs use it for bodies that are not JSON; none of our routes
      // reads such a body, and a body nobody signed must not be acted on.
      if (body.length > 0) throw new Unauthenticated('the request body is not signed.');
      return declared;
    }
    if (declared.toLowerCase() !== sha256Hex(body)) {
      throw new Unauthenticated('the request body does not match X-Sdk-Content-Sha256.');
    }
    return declared;
  }

  private async lookup(accessKey: string): Promise<AccessKeyRecord | undefined> {
    const cached = this.cache.get(accessKey, this.now());
    if (cached) return cached;
    return this.inflight.run(accessKey, async () => {
      const record = await this.store.lookup(accessKey);
      if (record) this.cache.set(accessKey, record, this.now());
      return record;
    });
  }
}

function splitUrl(url: string): [string, string?] {
  const at = url.indexOf('?');
  return at === -1 ? [url] : [url.slice(0, at), url.slice(at + 1)];
}
