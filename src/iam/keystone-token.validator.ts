// Validates a token against a Keystone-v3-compatible IAM (Huawei Cloud IAM,
// OpenStack Keystone) with GET /auth/tokens. Both Keystone's default policy
// and Huawei IAM let a token check itself, so the caller's token goes in both
// headers and the service needs no credentials of its own for this.

import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { DependencyUnavailable, Unauthenticated } from '../common/oms-errors.js';
import type { Identity, TokenValidator } from './identity.js';

/**
 * IAM echoes the checked token in the X-Subject-Token response header, so a
 * 16,384-character token makes a response head larger than the 16 KiB that
 * fetch() and Node's HTTP client accept by default.
 */
const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;

/** A token body is a few KiB; anything far larger is not an answer we trust. */
const MAX_RESPONSE_BODY_BYTES = 1024 * 1024;

// Connections to IAM are reused: a new TCP (and TLS) handshake per validation
// would add to every cache miss.
const keepAlive = { keepAlive: true, maxSockets: 64 };
const httpAgent = new HttpAgent(keepAlive);
const httpsAgent = new HttpsAgent(keepAlive);

interface KeystoneTokenBody {
  token?: {
    expires_at?: string;
    user?: { id?: string; name?: string };
    project?: { id?: string };
    roles?: { name?: string }[];
  };
}

export class KeystoneTokenValidator implements TokenValidator {
  constructor(
    private readonly endpoint: string,
    private readonly timeoutMs: number,
  ) {}

  async validate(token: string): Promise<Identity> {
    let answer: { status: number; body: string };
    try {
      answer = await this.get('/auth/tokens?nocatalog=1', this.timeoutMs, {
        'X-Auth-Token': token,
        'X-Subject-Token': token,
      });
    } catch {
      // Refused, reset, timed out, or a body that never arrived whole.
      throw new DependencyUnavailable('IAM');
    }
    switch (answer.status) {
      case 200:
        return identityFrom(parseJson(answer.body));
      case 404: // subject token invalid, expired, revoked or malformed
      case 401: // the checking token (the same one) is bad
      case 403: // the token may not even check itself
        throw new Unauthenticated('the token is invalid, expired or revoked.');
      default:
        throw new DependencyUnavailable('IAM');
    }
  }

  /**
   * GET of the endpoint itself, Keystone's version document: cheap, needs no
   * token, and any answer below 500 shows that IAM is there and serving.
   */
  async checkReachable(timeoutMs: number): Promise<void> {
    const { status } = await this.get('', timeoutMs, {});
    if (status >= 500) throw new Error(`IAM answered ${status}`);
  }

  private get(
    path: string,
    timeoutMs: number,
    headers: Record<string, string>,
  ): Promise<{ status: number; body: string }> {
    const url = new URL(`${this.endpoint}${path}`);
    const [send, agent] =
      url.protocol === 'https:' ? [httpsRequest, httpsAgent] : [httpRequest, httpAgent];
    return new Promise((resolve, reject) => {
      const request = send(
        url,
        {
          headers: { ...headers, Accept: 'application/json' },
          agent,
          maxHeaderSize: MAX_RESPONSE_HEAD_BYTES,
          signal: AbortSignal.timeout(timeoutMs),
        },
        (response) => {
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
            resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
          );
        },
      );
      request.on('error', reject);
      request.end();
    });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // identityFrom() treats it as IAM misbehaving
  }
}

function identityFrom(body: unknown): Identity {
  const token = (body as KeystoneTokenBody | undefined)?.token;
  const expiresAt = Date.parse(token?.expires_at ?? '');
  const userId = token?.user?.id;
  const roles = token?.roles ?? [];
  if (
    !token ||
    typeof userId !== 'string' ||
    !userId ||
    Number.isNaN(expiresAt) ||
    !Array.isArray(roles)
  ) {
    // IAM said yes but not clearly who: treat it as IAM misbehaving, not as a login.
    throw new DependencyUnavailable('IAM');
  }
  return {
    userId,
    userName: token.user?.name ?? userId,
    projectId: token.project?.id,
    // A role without a name grants nothing (it must not count as a writer).
    roles: roles
      .map((role) => (typeof role?.name === 'string' ? role.name.toLowerCase() : ''))
      .filter((name) => name !== ''),
    expiresAt,
  };
}
