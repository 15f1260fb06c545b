// A Keystone-v3-compatible IAM double for fast tests: GET /v3/auth/tokens
// answers as Keystone does (200 with a token body, 404 for an unknown or
// expired subject token), counts validations per token, and can be made slow
// or broken. For access-key signatures it also issues the service identity's
// token (POST /v3/auth/tokens) and serves, to that token only, EC2
// credentials by id, users, projects and effective role assignments. It can
// also stand for a front end that refuses long headers (Apache answers 400
// over 8,190 bytes) and for an IAM whose latency differs by call. The real
// protocol is proven against a real Keystone elsewhere.

import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface FakeUser {
  userId?: string;
  /** null: a domain-scoped token, which names no project. */
  projectId?: string | null;
  roles?: string[];
  /** Absolute expiry, ms since the epoch. Default: in 24 hours. */
  expiresAt?: number;
}

/** The service identity the double accepts (IAM_SERVICE_* in tests). */
export const FAKE_SERVICE_IDENTITY = {
  IAM_SERVICE_USER: 'oms-service',
  IAM_SERVICE_PASSWORD: 'oms-service-pass',
  IAM_SERVICE_PROJECT: 'service',
};

export interface FakeAccessKey {
  userId?: string;
  /** null: a credential that names no project. */
  projectId?: string | null;
  /** The user's roles on that project. */
  roles?: string[];
  userEnabled?: boolean;
  projectEnabled?: boolean;
}

interface StoredCredential {
  accessKey: string;
  secretKey: string;
  userId: string;
  projectId: string | null;
  type: string;
}

/** 'ok' answers normally; the rest simulate an IAM in trouble. */
export type FakeKeystoneMode = 'ok' | 'error' | 'hang' | 'reset';

export class FakeKeystone {
  private readonly tokens = new Map<string, Required<FakeUser>>();
  private readonly sockets = new Set<Socket>();
  readonly validations = new Map<string, number>();
  private readonly serviceTokens = new Set<string>();
  private readonly credentials = new Map<string, StoredCredential>();
  private readonly users = new Map<string, { enabled: boolean }>();
  private readonly projects = new Map<string, { enabled: boolean }>();
  private readonly roleAssignments = new Map<string, string[]>();
  /** Service-token issues and credential reads (counted on arrival), for cache and refresh tests. */
  serviceTokensIssued = 0;
  credentialReads = 0;
  /** GET /v3 requests seen (readiness checks). */
  versionRequests = 0;
  mode: FakeKeystoneMode = 'ok';
  delayMs = 0;
  /** When set, each request's delay in ms (instead of delayMs), by method and path. */
  latency: ((method: string, path: string) => number) | undefined;
  /** When set, a request with a header value longer than this is answered 400, as Apache does. */
  maxHeaderValueLength: number | undefined;

  private constructor(private readonly server: Server) {}

  static async start(): Promise<FakeKeystone> {
    // Room for a 16,384-character token sent twice (X-Auth-Token and
    // X-Subject-Token); Node's default of 16 KiB would answer 431.
    const server = createServer({ maxHeaderSize: 64 * 1024 });
    const fake = new FakeKeystone(server);
    server.on('request', (req, res) => fake.handle(req, res));
    server.on('connection', (socket) => {
      fake.sockets.add(socket);
      socket.on('close', () => fake.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  /** The IAM_ENDPOINT to configure: a Keystone v3 base URL. */
  get endpoint(): string {
    const address = this.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    return `http://127.0.0.1:${port}/v3`;
  }

  /** Registers a token (a fresh random one unless given) for a user. */
  issue(user: FakeUser = {}, token = `fake-${randomBytes(18).toString('base64url')}`): string {
    this.tokens.set(token, {
      userId: user.userId ?? 'user-1',
      projectId: user.projectId === undefined ? 'project-1' : user.projectId,
      roles: user.roles ?? ['member'],
      expiresAt: user.expiresAt ?? Date.now() + 24 * 3600 * 1000,
    });
    return token;
  }

  /** Stores an EC2 credential (as POST /v3/credentials would) and returns its key pair. */
  addAccessKey(key: FakeAccessKey = {}, type = 'ec2'): { accessKey: string; secretKey: string } {
    const accessKey = `AK${randomBytes(9).toString('hex').toUpperCase()}`;
    const secretKey = randomBytes(20).toString('base64url');
    const userId = key.userId ?? 'user-1';
    const projectId = key.projectId === undefined ? 'project-1' : key.projectId;
    const id = createHash('sha256').update(accessKey).digest('hex');
    this.credentials.set(id, { accessKey, secretKey, userId, projectId, type });
    this.users.set(userId, { enabled: key.userEnabled ?? true });
    if (projectId !== null) {
      this.projects.set(projectId, { enabled: key.projectEnabled ?? true });
      this.roleAssignments.set(`${userId}|${projectId}`, key.roles ?? ['member']);
    }
    return { accessKey, secretKey };
  }

  deleteAccessKey(accessKey: string): void {
    this.credentials.delete(createHash('sha256').update(accessKey).digest('hex'));
  }

  /** Every service token stops working, as after a Keystone key rotation. */
  revokeServiceTokens(): void {
    for (const token of this.serviceTokens) this.tokens.delete(token);
    this.serviceTokens.clear();
  }

  /** Keystone forgets a revoked token at once. */
  revoke(token: string): void {
    this.tokens.delete(token);
  }

  validationCount(token?: string): number {
    if (token !== undefined) return this.validations.get(token) ?? 0;
    return [...this.validations.values()].reduce((sum, n) => sum + n, 0);
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      // Counted on arrival, so that a call that is never answered counts too.
      if (req.method === 'GET' && req.url?.startsWith('/v3/auth/tokens')) {
        const subject = String(req.headers['x-subject-token'] ?? '');
        this.validations.set(subject, (this.validations.get(subject) ?? 0) + 1);
      }
      if (req.method === 'GET' && req.url?.startsWith('/v3/credentials/')) this.credentialReads++;
      // The version document, what a readiness check asks for: counted apart.
      if (req.method === 'GET' && req.url === '/v3') this.versionRequests++;
      const route = () => this.route(req, res, body);
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const delayMs = this.latency ? this.latency(req.method ?? 'GET', path) : this.delayMs;
      // Unref'd: a test that ends before a slow answer is due must not wait for it.
      if (delayMs > 0) setTimeout(route, delayMs).unref();
      else route();
    });
  }

  private route(req: IncomingMessage, res: ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    if (this.mode === 'hang') return; // never answers
    if (this.mode === 'reset') {
      req.socket.destroy();
      return;
    }
    if (this.mode === 'error') {
      res.writeHead(500, { 'Content-Type': 'application/json' }).end('{"error":{"code":500}}');
      return;
    }
    const limit = this.maxHeaderValueLength;
    if (limit !== undefined && Object.values(req.headers).some((v) => String(v).length > limit)) {
      // What Apache in front of Keystone says; Keystone never sees the request.
      res.writeHead(400, { 'Content-Type': 'text/html; charset=iso-8859-1' });
      res.end(
        '<html><body><h1>Bad Request</h1>Size of a request header field exceeds server limit.</body></html>',
      );
      return;
    }
    if (req.method === 'GET' && path === '/v3') return this.answerVersion(res);
    if (req.method === 'GET' && path === '/v3/auth/tokens') return this.answer(req, res);
    if (req.method === 'POST' && path === '/v3/auth/tokens') return this.passwordAuth(res, body);
    if (req.method !== 'GET') return void res.writeHead(404).end();
    // Everything else is for the service identity only.
    const caller = this.tokens.get(String(req.headers['x-auth-token'] ?? ''));
    if (!caller) return sendError(res, 401, 'The request you have made requires authentication.');
    if (!caller.roles.includes('admin')) return sendError(res, 403, 'Not authorized.');
    const [, , collection, id] = path.split('/');
    if (collection === 'credentials' && id) return this.credential(res, decodeURIComponent(id));
    if (collection === 'users' && id) return this.user(res, decodeURIComponent(id));
    if (collection === 'projects' && id) return this.project(res, decodeURIComponent(id));
    if (collection === 'role_assignments' && !id) return this.assignments(res, url.searchParams);
    res.writeHead(404).end();
  }

  private answerVersion(res: ServerResponse): void {
    const version = { id: 'v3.14', status: 'stable', updated: '2020-04-07T00:00:00Z' };
    sendJson(res, { version });
  }

  private passwordAuth(res: ServerResponse, body: string): void {
    const auth = JSON.parse(body || '{}')?.auth;
    const user = auth?.identity?.password?.user;
    if (
      user?.name !== FAKE_SERVICE_IDENTITY.IAM_SERVICE_USER ||
      user?.password !== FAKE_SERVICE_IDENTITY.IAM_SERVICE_PASSWORD ||
      auth?.scope?.project?.name !== FAKE_SERVICE_IDENTITY.IAM_SERVICE_PROJECT
    ) {
      return sendError(res, 401, 'The request you have made requires authentication.');
    }
    this.serviceTokensIssued++;
    const expiresAt = Date.now() + 3600 * 1000;
    const token = this.issue({
      userId: 'service-user',
      projectId: 'service',
      roles: ['admin'],
      expiresAt,
    });
    this.serviceTokens.add(token);
    res.writeHead(201, { 'Content-Type': 'application/json', 'X-Subject-Token': token });
    res.end(JSON.stringify({ token: { expires_at: new Date(expiresAt).toISOString() } }));
  }

  private credential(res: ServerResponse, id: string): void {
    const found = this.credentials.get(id);
    if (!found) return sendError(res, 404, `Could not find credential: ${id}.`);
    sendJson(res, {
      credential: {
        id,
        type: found.type,
        user_id: found.userId,
        project_id: found.projectId,
        blob: JSON.stringify({ access: found.accessKey, secret: found.secretKey }),
      },
    });
  }

  private user(res: ServerResponse, id: string): void {
    const found = this.users.get(id);
    if (!found) return sendError(res, 404, `Could not find user: ${id}.`);
    sendJson(res, {
      user: { id, name: `name-of-${id}`, domain_id: 'default', enabled: found.enabled },
    });
  }

  private project(res: ServerResponse, id: string): void {
    const found = this.projects.get(id);
    if (!found) return sendError(res, 404, `Could not find project: ${id}.`);
    sendJson(res, { project: { id, name: `name-of-${id}`, enabled: found.enabled } });
  }

  private assignments(res: ServerResponse, query: URLSearchParams): void {
    const userId = query.get('user.id');
    const projectId = query.get('scope.project.id');
    const roles = this.roleAssignments.get(`${userId}|${projectId}`) ?? [];
    sendJson(res, {
      role_assignments: roles.map((name, i) => ({
        scope: { project: { id: projectId } },
        user: { id: userId },
        role: { id: String(i), name },
      })),
    });
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    const subject = String(req.headers['x-subject-token'] ?? '');
    const user = this.tokens.get(subject);
    // Keystone: a caller token that is bad is a 401; here caller = subject.
    if (!user || user.expiresAt <= Date.now() || req.headers['x-auth-token'] !== subject) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end('{"error":{"code":404,"message":"Could not find token.","title":"Not Found"}}');
      return;
    }
    const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');
    const body = {
      token: {
        methods: ['password'],
        expires_at: iso(user.expiresAt),
        issued_at: iso(Date.now()),
        user: {
          id: user.userId,
          name: `name-of-${user.userId}`,
          domain: { id: 'default', name: 'Default' },
        },
        ...(user.projectId === null
          ? { domain: { id: 'default', name: 'Default' } }
          : {
              project: {
                id: user.projectId,
                name: `name-of-${user.projectId}`,
                domain: { id: 'default', name: 'Default' },
              },
            }),
        roles: user.roles.map((name, i) => ({ id: String(i), name })),
      },
    };
    res.writeHead(200, { 'Content-Type': 'application/json', 'X-Subject-Token': subject });
    res.end(JSON.stringify(body));
  }
}

function sendJson(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

function sendError(res: ServerResponse, code: number, message: string): void {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ error: { code, message } }));
}
