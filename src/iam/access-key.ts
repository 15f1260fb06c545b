// What the signature check needs to know about an access key: its secret
// and whose it is. Where that comes from (Keystone's EC2 credentials, a test
// double) sits behind AccessKeyStore; the cache sits in front of it.

import type { Caller } from './caller.js';

export interface AccessKeyRecord {
  readonly secretKey: string;
  /** The owner, with their roles on the credential's project. */
  readonly caller: Caller;
  /** When this answer stops being trusted, ms since the epoch. */
  readonly expiresAt: number;
  /**
   * Why a correctly signed request must still be refused (a disabled user
   * or project). Said only after the signature checks out, so that knowing
   * an access key alone tells nothing about its owner.
   */
  readonly refusal?: string;
}

export interface AccessKeyStore {
  /** The record, or undefined for an unknown access key; throws DependencyUnavailable. */
  lookup(accessKey: string): Promise<AccessKeyRecord | undefined>;
}

export const ACCESS_KEY_STORE = Symbol('AccessKeyStore');
