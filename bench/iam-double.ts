// The benchmark's Keystone-compatible IAM, run as a process of its own so
// that its work is neither the load generator's nor the server's. It answers
// GET /v3/auth/tokens after a delay (IAM_DELAY_MS, default 15 ms, what a
// real Keystone took here) and counts validations per token, so the bench
// can tell how often a server asked about the same token.
//
// Tokens describe themselves, so that the load generator can mint new ones
// without registering them: bench.<project id>.<role>.<anything> (see
// load.ts).
//
//   GET  /stats  {"validations":n,"distinctTokens":n,"maxPerToken":n}
//   POST /reset  forget the counts

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface IamStats {
  validations: number;
  distinctTokens: number;
  maxPerToken: number;
}

const TOKEN_LIFETIME_MS = 24 * 3600 * 1000;

const delayMs = Number(process.env.IAM_DELAY_MS ?? '15');
const counts = new Map<string, number>();

function stats(): IamStats {
  let validations = 0;
  let maxPerToken = 0;
  for (const n of counts.values()) {
    validations += n;
    maxPerToken = Math.max(maxPerToken, n);
  }
  return { validations, distinctTokens: counts.size, maxPerToken };
}

function json(res: ServerResponse, status: number, body: unknown, headers = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function validate(req: IncomingMessage, res: ServerResponse): void {
  const subject = String(req.headers['x-subject-token'] ?? '');
  counts.set(subject, (counts.get(subject) ?? 0) + 1);
  setTimeout(() => {
    const [kind, projectId, role] = subject.split('.');
    if (kind !== 'bench' || !projectId || !role || req.headers['x-auth-token'] !== subject) {
      json(res, 404, { error: { code: 404, message: 'Could not find token.' } });
      return;
    }
    const now = Date.now();
    json(
      res,
      200,
      {
        token: {
          methods: ['password'],
          expires_at: new Date(now + TOKEN_LIFETIME_MS).toISOString(),
          issued_at: new Date(now).toISOString(),
          user: { id: `user-of-${projectId}`, name: `bench user of ${projectId}` },
          project: { id: projectId, name: projectId, domain: { id: 'default' } },
          roles: [{ id: '1', name: role }],
        },
      },
      { 'X-Subject-Token': subject },
    );
  }, delayMs);
}

// Room for large tokens sent twice, as in the service's own IAM client.
const server = createServer({ maxHeaderSize: 64 * 1024, keepAliveTimeout: 60_000 }, (req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && path === '/v3/auth/tokens') return validate(req, res);
  if (req.method === 'GET' && path === '/stats') return json(res, 200, stats());
  if (req.method === 'POST' && path === '/reset') {
    counts.clear();
    return json(res, 200, stats());
  }
  json(res, 404, { error: { code: 404, message: 'Not found' } });
});

server.listen(Number(process.env.PORT ?? '0'), '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  console.log(`Listening on 127.0.0.1:${port} (IAM double, delay ${delayMs} ms)`);
});
process.on('SIGTERM', () => process.exit(0));
