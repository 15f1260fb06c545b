// The IAM used when IAM_ENDPOINT is not set (never in production): it knows
// the tokens and access keys it made at start-up, which main.ts prints, and
// nothing else.

import { randomBytes } from 'node:crypto';
import { Unauthenticated } from '../common/oms-errors.js';
import type { AccessKeyRecord, AccessKeyStore } from './access-key.js';
import type { Caller, TokenValidator } from './caller.js';

export const DEMO_PROJECT_ID = 'demo0000000000000000000000000001';

const DAY_MS = 24 * 3600 * 1000;

export class DevelopmentIam implements TokenValidator, AccessKeyStore {
  private readonly callers = new Map<string, Caller>();
  private readonly accessKeys = new Map<string, AccessKeyRecord>();

  /** Makes a token for a user with the given roles on the demo project. */
  issue(userName: string, roles: string[], projectId = DEMO_PROJECT_ID): string {
    const token = `dev-${randomBytes(24).toString('base64url')}`;
    this.callers.set(token, callerOf(userName, roles, projectId));
    return token;
  }

  /** Makes an access key and secret key, as the official SDKs sign with. */
  issueAccessKey(
    userName: string,
    roles: string[],
    projectId = DEMO_PROJECT_ID,
  ): { accessKey: string; secretKey: string } {
    const accessKey = `DEV${randomBytes(9).toString('hex').toUpperCase()}`;
    const secretKey = randomBytes(24).toString('base64url');
    const caller = callerOf(userName, roles, projectId);
    this.accessKeys.set(accessKey, { secretKey, caller: caller, expiresAt: caller.expiresAt });
    return { accessKey, secretKey };
  }

  async validate(token: string): Promise<Caller> {
    const caller = this.callers.get(token);
    if (!caller) throw new Unauthenticated('the token is invalid, expired or revoked.');
    return caller;
  }

  async lookup(accessKey: string): Promise<AccessKeyRecord | undefined> {
    return this.accessKeys.get(accessKey);
  }
}

function callerOf(userName: string, roles: string[], projectId: string): Caller {
  return {
    userId: `dev-user-${userName}`,
    userName,
    projectId,
    roles,
    expiresAt: Date.now() + DAY_MS,
  };
}
