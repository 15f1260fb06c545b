// Validates a token against a Keystone-v3-compatible IAM (Huawei Cloud IAM,
// OpenStack Keystone) with GET /auth/tokens. Both Keystone's default policy
// and Huawei IAM let a token check itself, so the caller's token goes in both
// headers and the service needs no credentials of its own for this.
//
// Any 4xx but 408 and 429 refuses the token (401), whatever its code: a
// front end that will not pass on a token too long for it (Apache answers
// 400 over 8,190 bytes) is telling us about the token, not about IAM. 408
// and 429, like 5xx and no answer, are IAM not serving (503).

import { DependencyUnavailable, Unauthenticated } from '../common/oms-errors.js';
import type { Caller, TokenValidator } from './caller.js';
import { IamQueueFull } from './circuit-breaker.js';
import type { AppConfig } from '../config/config.js';
import {
  KeystoneConnections,
  keystonePool,
  parseJson,
  type KeystoneAnswer,
} from './keystone-http.js';

interface KeystoneTokenBody {
  token?: {
    expires_at?: string;
    user?: { id?: string; name?: string };
    project?: { id?: string };
    roles?: { name?: string }[];
  };
}

/**
 * Readiness checks have two connections of their own, so that a flood of
 * token checks filling the validation pool does not make IAM look down.
 */
const READINESS_POOL = { maxConnections: 2, maxQueued: 64, maxQueueWaitMs: 60_000 };

export class KeystoneTokenValidator implements TokenValidator {
  constructor(
    private readonly endpoint: string,
    private readonly timeoutMs: number,
    private readonly connections = new KeystoneConnections(),
    private readonly readinessConnections = new KeystoneConnections(READINESS_POOL),
  ) {}

  async validate(token: string): Promise<Caller> {
    let answer: KeystoneAnswer;
    try {
      answer = await this.get(this.connections, '/auth/tokens?nocatalog=1', this.timeoutMs, {
        'X-Auth-Token': token,
        'X-Subject-Token': token,
      });
    } catch (error) {
      // No connection came free: the service's own congestion, said as such.
      if (error instanceof IamQueueFull) throw error;
      // Refused, reset, timed out, or a body that never arrived whole.
      throw new DependencyUnavailable('IAM');
    }
    // 404: the subject token is invalid, expired, revoked or malformed; 401:
    // the checking token (the same one) is bad; 403: it may not even check
    // itself; another 4xx: see the top of the file.
    if (answer.status === 200) return callerFrom(parseJson(answer.body));
    if (refusesTheToken(answer.status)) {
      throw new Unauthenticated('the token is invalid, expired or revoked.');
    }
    throw new DependencyUnavailable('IAM');
  }

  /**
   * GET of the endpoint itself, Keystone's version document: cheap, needs no
   * token, and any answer below 500 shows that IAM is there and serving.
   */
  async checkReachable(timeoutMs: number): Promise<void> {
    const { status } = await this.get(this.readinessConnections, '', timeoutMs, {});
    if (status >= 500) throw new Error(`IAM answered ${status}`);
  }

  private get(
    connections: KeystoneConnections,
    path: string,
    timeoutMs: number,
    headers: Record<string, string>,
  ): Promise<KeystoneAnswer> {
    // Both are reads, harmless to send twice: uwsgi (Keystone's server)
    // closes a connection after each answer, so a call right after another
    // can pick a kept-alive socket it is closing, and must not count that as
    // IAM failing (back-to-back validations failed every other time).
    return connections.call(new URL(`${this.endpoint}${path}`), {
      headers,
      timeoutMs,
      retryOnStaleConnection: true,
    });
  }
}

/** The validator for IAM_ENDPOINT (or `endpoint`), with a pool of connections its own. */
export function keystoneTokenValidator(
  config: AppConfig,
  endpoint = config.iamEndpoint!,
): KeystoneTokenValidator {
  const connections = new KeystoneConnections(keystonePool(config));
  return new KeystoneTokenValidator(endpoint, config.iamTimeoutMs, connections);
}

function refusesTheToken(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

function callerFrom(body: unknown): Caller {
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
    roles: roleNames(roles),
    expiresAt,
  };
}

/** Lower-case role names. A role without a name grants nothing (it must not count as a writer). */
export function roleNames(roles: readonly ({ name?: unknown } | null | undefined)[]): string[] {
  const names = roles
    .map((role) => (typeof role?.name === 'string' ? role.name.toLowerCase() : ''))
    .filter((name) => name !== '');
  return [...new Set(names)];
}
