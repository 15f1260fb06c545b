// A Keystone-v3-compatible IAM double for fast tests: GET /v3/auth/tokens
// answers as Keystone does (200 with a token body, 404 for an unknown or
// expired subject token), counts validations per token, and can be made slow
// or broken. The real protocol is proven against a real Keystone elsewhere.

import { randomBytes } from 'node:crypto';
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

/** 'ok' answers normally; the rest simulate an IAM in trouble. */
export type FakeKeystoneMode = 'ok' | 'error' | 'hang' | 'reset';

export class FakeKeystone {
  private readonly tokens = new Map<string, Required<FakeUser>>();
  private readonly sockets = new Set<Socket>();
  readonly validations = new Map<string, number>();
  /** GET /v3 requests seen (readiness checks). */
  versionRequests = 0;
  mode: FakeKeystoneMode = 'ok';
  delayMs = 0;

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
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && url.pathname === '/v3') {
      // The version document: what a readiness check asks for. Counted apart
      // from validations, and as slow or broken as the rest.
      this.versionRequests++;
      const answer = () => this.inTrouble(req, res) || this.answerVersion(res);
      if (this.delayMs > 0) setTimeout(answer, this.delayMs);
      else answer();
      return;
    }
    if (req.method !== 'GET' || url.pathname !== '/v3/auth/tokens') {
      res.writeHead(404).end();
      return;
    }
    const subject = String(req.headers['x-subject-token'] ?? '');
    this.validations.set(subject, (this.validations.get(subject) ?? 0) + 1);
    const answer = () => this.answer(req, res, subject);
    if (this.delayMs > 0) setTimeout(answer, this.delayMs);
    else answer();
  }

  /** Acts out the mode; true if that was the whole answer. */
  private inTrouble(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.mode === 'hang') return true; // never answers
    if (this.mode === 'reset') {
      req.socket.destroy();
      return true;
    }
    if (this.mode === 'error') {
      res.writeHead(500, { 'Content-Type': 'application/json' }).end('{"error":{"code":500}}');
      return true;
    }
    return false;
  }

  private answerVersion(res: ServerResponse): void {
    const version = { id: 'v3.14', status: 'stable', updated: '2020-04-07T00:00:00Z' };
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ version }));
  }

  private answer(req: IncomingMessage, res: ServerResponse, subject: string): void {
    if (this.inTrouble(req, res)) return;
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
