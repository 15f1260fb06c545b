// The task calls as a client makes them, for the life-cycle tests: one
// function per endpoint, and a create body that passes validation, which
// each test then spoils in its own way.

import request from 'supertest';
import type { TestApp } from './test-app.js';
import { waitUntil } from './wait-until.js';

/** Long enough that a hung service fails its test instead of stalling the run. */
const TIMEOUT_MS = 10_000;

export function createBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    src_node: {
      cloud_type: 'Aliyun',
      region: 'cn-hangzhou',
      ak: 'SRC-AK-0000000000001',
      sk: 'src-secret-key-never-shown-0001',
      bucket: 'source-bucket',
      object_key: ['photos/', 'logs/2026/'],
    },
    dst_node: {
      region: 'cn-north-4',
      ak: 'DST-AK-0000000000002',
      sk: 'dst-secret-key-never-shown-0002',
      bucket: 'destination-bucket',
      save_prefix: 'copied/',
    },
    description: 'nightly copy',
    ...overrides,
  };
}

export function startBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    src_ak: 'SRC-AK-0000000000011',
    src_sk: 'src-secret-key-on-start-0011',
    dst_ak: 'DST-AK-0000000000012',
    dst_sk: 'dst-secret-key-on-start-0012',
    ...overrides,
  };
}

/** What supertest's request() accepts: a server, or the base URL of one. */
type Target = Pick<TestApp, 'server'> | { server: string };

export class TaskApi {
  constructor(
    private readonly t: Target,
    readonly projectId: string,
    private readonly token: string,
  ) {}

  /** A client of a service running in another process. */
  static at(baseUrl: string, projectId: string, token: string): TaskApi {
    return new TaskApi({ server: baseUrl }, projectId, token);
  }

  private auth<T extends request.Test>(req: T): T {
    return req.set('X-Auth-Token', this.token).timeout(TIMEOUT_MS) as T;
  }

  private tasks(suffix = '') {
    return `/v2/${this.projectId}/tasks${suffix}`;
  }

  create(body: unknown = createBody()) {
    return this.auth(request(this.t.server).post(this.tasks())).send(body as object);
  }

  show(id: string | number) {
    return this.auth(request(this.t.server).get(this.tasks(`/${id}`)));
  }

  list(query: Record<string, string | number> = {}) {
    return this.auth(request(this.t.server).get(this.tasks())).query(query);
  }

  transitions(id: string | number, query: Record<string, string | number> = {}) {
    return this.auth(request(this.t.server).get(this.tasks(`/${id}/transitions`))).query(query);
  }

  stop(id: string | number) {
    return this.auth(request(this.t.server).post(this.tasks(`/${id}/stop`)));
  }

  start(id: string | number, body: unknown = startBody()) {
    return this.auth(request(this.t.server).post(this.tasks(`/${id}/start`))).send(body as object);
  }

  delete(id: string | number) {
    return this.auth(request(this.t.server).delete(this.tasks(`/${id}`)));
  }

  setBandwidth(id: string | number, body: unknown) {
    return this.auth(request(this.t.server).put(this.tasks(`/${id}/bandwidth-policy`))).send(
      body as object,
    );
  }

  batchUpdate(body: unknown) {
    return this.auth(request(this.t.server).post(this.tasks('/batch-update'))).send(body as object);
  }

  /** Polls show until the task has one of `statuses`, as Terraform's waiters do. */
  async waitForStatus(id: string | number, statuses: number[], timeoutMs = 8000): Promise<number> {
    let last: number | undefined;
    return waitUntil(
      () => `task ${id} stayed at ${last}, never reached ${statuses.join(' or ')}`,
      async () => {
        const res = await this.show(id);
        if (res.status !== 200) throw new Error(`show ${id}: ${res.status} ${res.text}`);
        last = res.body.status;
        return statuses.includes(res.body.status) && res.body.status;
      },
      { timeoutMs, everyMs: 50 },
    );
  }
}
