// Access keys from a Keystone-v3-compatible IAM: an access key is an EC2-type
// credential whose id is the hex SHA-256 of the key, readable only with a
// privileged token (the service identity). The owner's roles on the
// credential's project come from the effective role assignments, which
// include group and implied roles, as a token's role list does.

import { Logger } from '@nestjs/common';
import type { AppConfig } from '../config/config.js';
import { DependencyUnavailable, Unauthenticated } from '../common/oms-errors.js';
import type { AccessKeyRecord, AccessKeyStore } from './access-key.js';
import { IamQueueFull } from './circuit-breaker.js';
import {
  KeystoneConnections,
  keystonePool,
  parseJson,
  type KeystoneAnswer,
} from './keystone-http.js';
import { KeystoneServiceToken } from './keystone-service-token.js';
import { roleNames } from './keystone-token.validator.js';
import { sha256Hex } from './sdk-signature.js';

interface CredentialBody {
  credential?: { type?: unknown; user_id?: unknown; project_id?: unknown; blob?: unknown };
}

interface Ec2Blob {
  access?: unknown;
  secret?: unknown;
}

export class KeystoneAccessKeyStore implements AccessKeyStore {
  private readonly logger = new Logger('KeystoneAccessKeyStore');

  constructor(
    private readonly endpoint: string,
    private readonly serviceToken: KeystoneServiceToken,
    private readonly timeoutMs: number,
    /** How long a looked-up secret and role list are trusted. */
    private readonly ttlMs: number,
    /** Apart from token validations, so that neither can starve the other. */
    private readonly connections = new KeystoneConnections(),
    private readonly now: () => number = Date.now,
  ) {}

  async lookup(accessKey: string): Promise<AccessKeyRecord | undefined> {
    const answer = await this.get(`/credentials/${sha256Hex(accessKey)}`);
    if (answer.status === 404) return undefined;
    const credential = (parseJson(answer.body) as CredentialBody | undefined)?.credential;
    if (answer.status !== 200 || !credential) throw new DependencyUnavailable('IAM');
    const blob = typeof credential.blob === 'string' ? (parseJson(credential.blob) as Ec2Blob) : {};
    const userId = credential.user_id;
    // Another kind of credential, or one whose blob names another key, is
    // not this access key.
    if (
      credential.type !== 'ec2' ||
      blob?.access !== accessKey ||
      typeof blob.secret !== 'string' ||
      blob.secret === '' ||
      typeof userId !== 'string'
    ) {
      return undefined;
    }
    const projectId = typeof credential.project_id === 'string' ? credential.project_id : undefined;
    const [user, roles, projectEnabled] = await Promise.all([
      this.user(userId),
      projectId === undefined ? [] : this.roles(userId, projectId),
      projectId === undefined ? true : this.projectEnabled(projectId),
    ]);
    let refusal: string | undefined;
    if (!user.enabled) refusal = 'the access key belongs to a disabled user.';
    else if (!projectEnabled) refusal = "the access key's project is disabled.";
    return {
      refusal,
      secretKey: blob.secret,
      caller: {
        userId,
        userName: user.name,
        projectId,
        roles,
        expiresAt: this.now() + this.ttlMs,
      },
      expiresAt: this.now() + this.ttlMs,
    };
  }

  private async user(userId: string): Promise<{ name: string; enabled: boolean }> {
    const body = await this.getJson(`/users/${encodeURIComponent(userId)}`);
    const user = (body as { user?: { name?: unknown; enabled?: unknown } }).user;
    if (!user) throw new DependencyUnavailable('IAM');
    return {
      name: typeof user.name === 'string' ? user.name : userId,
      enabled: user.enabled !== false,
    };
  }

  private async projectEnabled(projectId: string): Promise<boolean> {
    const body = await this.getJson(`/projects/${encodeURIComponent(projectId)}`);
    const project = (body as { project?: { enabled?: unknown } }).project;
    if (!project) throw new DependencyUnavailable('IAM');
    return project.enabled !== false;
  }

  private async roles(userId: string, projectId: string): Promise<string[]> {
    const query = new URLSearchParams({
      'user.id': userId,
      'scope.project.id': projectId,
      include_names: 'true',
      effective: 'true',
    });
    const body = await this.getJson(`/role_assignments?${query}`);
    const assignments = (body as { role_assignments?: unknown }).role_assignments;
    if (!Array.isArray(assignments)) throw new DependencyUnavailable('IAM');
    return roleNames(assignments.map((assignment) => assignment?.role));
  }

  /** A 200 answer's JSON body; a user or project that vanished mid-lookup is unknown. */
  private async getJson(path: string): Promise<object> {
    const answer = await this.get(path);
    if (answer.status === 404) throw new Unauthenticated('the access key is unknown.');
    const body = parseJson(answer.body);
    if (answer.status !== 200 || typeof body !== 'object' || body === null) {
      throw new DependencyUnavailable('IAM');
    }
    return body;
  }

  /** GET with the service token, re-issued once if IAM no longer takes it. */
  private async get(path: string): Promise<KeystoneAnswer> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.serviceToken.get();
      let answer: KeystoneAnswer;
      try {
        answer = await this.connections.call(new URL(`${this.endpoint}${path}`), {
          headers: { 'X-Auth-Token': token },
          timeoutMs: this.timeoutMs,
          retryOnStaleConnection: true, // reads only
        });
      } catch (error) {
        if (error instanceof IamQueueFull) throw error;
        throw new DependencyUnavailable('IAM');
      }
      if (answer.status === 401 && attempt === 0) {
        this.serviceToken.invalidate(token);
        continue;
      }
      if (answer.status === 401 || answer.status === 403) {
        // Our own identity lacks the rights: the operator must fix it.
        this.logger.error(
          `IAM answered ${answer.status} to the service identity reading ${path.split('/')[1].split('?')[0]}: ` +
            "it needs a role that may read other users' credentials and role assignments (admin, or a system reader)",
        );
        throw new DependencyUnavailable('IAM');
      }
      return answer;
    }
  }
}

/**
 * The store for a configured service identity, or undefined (signatures
 * off). It and the service token share one pool of connections to IAM.
 */
export function keystoneAccessKeys(config: AppConfig): KeystoneAccessKeyStore | undefined {
  const { iamEndpoint, iamServiceIdentity, iamTimeoutMs, accessKeyCacheTtlSeconds } = config;
  if (!iamEndpoint || !iamServiceIdentity) return undefined;
  const connections = new KeystoneConnections(keystonePool(config));
  const serviceToken = new KeystoneServiceToken(
    iamEndpoint,
    iamServiceIdentity,
    iamTimeoutMs,
    connections,
  );
  return new KeystoneAccessKeyStore(
    iamEndpoint,
    serviceToken,
    iamTimeoutMs,
    accessKeyCacheTtlSeconds * 1000,
    connections,
  );
}
