// The task-group calls over HTTP, as OMS clients make them (group actions
// are PUT), and the bodies the tests send.

import request from 'supertest';
import type { TestApp } from './test-app.js';
import { waitUntil } from './wait-until.js';

const TIMEOUT_MS = 30_000;

export const GROUP_SECRETS = [
  'GROUP-SRC-AK-000000001',
  'group-src-secret-never-shown-1',
  'GROUP-DST-AK-000000002',
  'group-dst-secret-never-shown-2',
];

export function groupBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    src_node: {
      cloud_type: 'Aliyun',
      region: 'cn-hangzhou',
      ak: GROUP_SECRETS[0],
      sk: GROUP_SECRETS[1],
      bucket: 'group-src',
      object_key: ['photos/', 'videos/', 'docs/'],
    },
    dst_node: {
      region: 'cn-north-4',
      ak: GROUP_SECRETS[2],
      sk: GROUP_SECRETS[3],
      bucket: 'group-dst',
      save_prefix: 'copy/',
    },
    task_type: 'PREFIX',
    description: 'a group',
    enable_kms: true,
    migrate_since: 1_700_000_000,
    ...overrides,
  };
}

export function groupKeys(): Record<string, string> {
  return {
    src_ak: 'START-SRC-AK-00000001',
    src_sk: 'start-src-secret-never-shown',
    dst_ak: 'START-DST-AK-00000002',
    dst_sk: 'start-dst-secret-never-shown',
  };
}

export class TaskGroupApi {
  constructor(
    private readonly t: Pick<TestApp, 'server'>,
    readonly projectId: string,
    private readonly token: string,
  ) {}

  private path(suffix = '') {
    return `/v2/${this.projectId}/taskgroups${suffix}`;
  }

  private auth<T extends request.Test>(req: T): T {
    return req.set('X-Auth-Token', this.token).timeout(TIMEOUT_MS) as T;
  }

  create(body: unknown = groupBody()) {
    return this.auth(request(this.t.server).post(this.path())).send(body as object);
  }

  show(id: string) {
    return this.auth(request(this.t.server).get(this.path(`/${id}`)));
  }

  list(query: Record<string, string | number> = {}) {
    return this.auth(request(this.t.server).get(this.path())).query(query);
  }

  stop(id: string) {
    return this.auth(request(this.t.server).put(this.path(`/${id}/stop`)));
  }

  start(id: string, body: unknown = groupKeys()) {
    return this.auth(request(this.t.server).put(this.path(`/${id}/start`))).send(body as object);
  }

  retry(id: string, body: unknown = groupKeys()) {
    return this.auth(request(this.t.server).put(this.path(`/${id}/retry`))).send(body as object);
  }

  update(id: string, body: unknown) {
    return this.auth(request(this.t.server).put(this.path(`/${id}/update`))).send(body as object);
  }

  delete(id: string) {
    return this.auth(request(this.t.server).delete(this.path(`/${id}`)));
  }

  tasks(groupId: string) {
    return this.auth(request(this.t.server).get(`/v2/${this.projectId}/tasks`)).query({
      group_id: groupId,
      limit: 100,
    });
  }

  /** Polls show until the group has one of `statuses`, as Terraform's waiters do. */
  async waitForStatus(id: string, statuses: number[], timeoutMs = 8000): Promise<number> {
    let last: unknown;
    return waitUntil(
      () => `group ${id} in ${statuses.join('/')}, last ${JSON.stringify(last)}`,
      async () => {
        const res = await this.show(id);
        last = res.status === 200 ? res.body.status : res.status;
        return res.status === 200 && statuses.includes(res.body.status) ? res.body.status : false;
      },
      { timeoutMs, everyMs: 50 },
    );
  }
}
