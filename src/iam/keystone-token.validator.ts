// Validates a token against a Keystone-v3-compatible IAM (Huawei Cloud IAM,
// OpenStack Keystone) with GET /auth/tokens. Both Keystone's default policy
// and Huawei IAM let a token check itself, so the caller's token goes in both
// headers and the service needs no credentials of its own for this.

import { DependencyUnavailable, Unauthenticated } from '../common/oms-errors.js';
import type { Identity, TokenValidator } from './identity.js';
import { callKeystone, parseJson, type KeystoneAnswer } from './keystone-http.js';

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
    let answer: KeystoneAnswer;
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
  ): Promise<KeystoneAnswer> {
    return callKeystone(new URL(`${this.endpoint}${path}`), { headers, timeoutMs });
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
