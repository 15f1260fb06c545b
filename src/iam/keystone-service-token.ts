// The service's own token, for the IAM calls a caller's token cannot make
// (reading another user's access-key secret and role assignments). Issued by
// password authentication, reused until shortly before it expires, and
// re-issued at once when IAM says it is no longer good.

import { DependencyUnavailable } from '../common/oms-errors.js';
import { IamQueueFull } from './circuit-breaker.js';
import { KeystoneConnections, parseJson } from './keystone-http.js';
import { SingleFlight } from './single-flight.js';

export interface ServiceIdentity {
  readonly userName: string;
  readonly password: string;
  readonly userDomain: string;
  readonly projectName: string;
  readonly projectDomain: string;
}

/** Re-issue when this little of the token's life is left (or half, if shorter). */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;

interface IssuedToken {
  readonly token: string;
  readonly refreshAt: number;
}

export class KeystoneServiceToken {
  private current: IssuedToken | undefined;
  private readonly issuing = new SingleFlight<IssuedToken>();

  constructor(
    private readonly endpoint: string,
    private readonly identity: ServiceIdentity,
    private readonly timeoutMs: number,
    /** Shared with the access-key reads, apart from token validations. */
    private readonly connections = new KeystoneConnections(),
    private readonly now: () => number = Date.now,
  ) {}

  async get(): Promise<string> {
    if (this.current && this.now() < this.current.refreshAt) return this.current.token;
    const issued = await this.issuing.run('token', () => this.issue());
    this.current = issued;
    return issued.token;
  }

  /** IAM refused the token: the next get() issues a new one. */
  invalidate(token: string): void {
    if (this.current?.token === token) this.current = undefined;
  }

  private async issue(): Promise<IssuedToken> {
    const { userName, password, userDomain, projectName, projectDomain } = this.identity;
    const issuedAt = this.now();
    let answer;
    try {
      answer = await this.connections.call(new URL(`${this.endpoint}/auth/tokens?nocatalog=1`), {
        method: 'POST',
        headers: {},
        json: {
          auth: {
            identity: {
              methods: ['password'],
              password: { user: { name: userName, domain: { name: userDomain }, password } },
            },
            scope: { project: { name: projectName, domain: { name: projectDomain } } },
          },
        },
        timeoutMs: this.timeoutMs,
        // A second token, at worst; the first is simply never used.
        retryOnStaleConnection: true,
      });
    } catch (error) {
      if (error instanceof IamQueueFull) throw error;
      throw new DependencyUnavailable('IAM');
    }
    const token = answer.headers['x-subject-token'];
    const body = parseJson(answer.body) as { token?: { expires_at?: string } } | undefined;
    const expiresAt = Date.parse(body?.token?.expires_at ?? '');
    // A refused password is our misconfiguration, not the caller's fault: 503.
    if (answer.status !== 201 || typeof token !== 'string' || Number.isNaN(expiresAt)) {
      throw new DependencyUnavailable('IAM');
    }
    const margin = Math.min(REFRESH_MARGIN_MS, (expiresAt - issuedAt) / 2);
    return { token, refreshAt: expiresAt - margin };
  }
}
