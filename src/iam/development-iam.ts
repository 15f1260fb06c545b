// The IAM used when IAM_ENDPOINT is not set (never in production): it knows
// the tokens it made at start-up, which main.ts prints, and nothing else.

import { randomBytes } from 'node:crypto';
import { Unauthenticated } from '../common/oms-errors.js';
import type { Identity, TokenValidator } from './identity.js';

export const DEMO_PROJECT_ID = 'demo0000000000000000000000000001';

export class DevelopmentIam implements TokenValidator {
  private readonly identities = new Map<string, Identity>();

  /** Makes a token for a user with the given roles on the demo project. */
  issue(userName: string, roles: string[], projectId = DEMO_PROJECT_ID): string {
    const token = `dev-${randomBytes(24).toString('base64url')}`;
    this.identities.set(token, {
      userId: `dev-user-${userName}`,
      userName,
      projectId,
      roles,
      expiresAt: Date.now() + 24 * 3600 * 1000,
    });
    return token;
  }

  async validate(token: string): Promise<Identity> {
    const identity = this.identities.get(token);
    if (!identity) throw new Unauthenticated('the token is invalid, expired or revoked.');
    return identity;
  }
}
