// The validator speaks Keystone v3 over real HTTP: to FakeKeystone for the
// ordinary answers and IAM's troubles, and to a stub that replies with a
// hand-written body for answers FakeKeystone would never give.

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { DependencyUnavailable, Unauthenticated } from '../src/common/oms-errors.js';
import { KeystoneTokenValidator } from '../src/iam/keystone-token.validator.js';
import { FakeKeystone } from './support/fake-keystone.js';

const TIMEOUT_MS = 200;
// Generous: the point is "the timeout fired", not a benchmark of this machine.
const TIMEOUT_UPPER_BOUND_MS = 2_000;

function isUnauthenticated(error: unknown): boolean {
  assert.ok(error instanceof Unauthenticated, `expected Unauthenticated, got ${String(error)}`);
  assert.equal(error.code, 'APIGW.0301');
  return true;
}

function isIamUnavailable(error: unknown): boolean {
  assert.ok(
    error instanceof DependencyUnavailable,
    `expected DependencyUnavailable, got ${String(error)}`,
  );
  assert.equal(error.code, 'OMS.2004');
  assert.equal(error.dependency, 'IAM');
  return true;
}

describe('against FakeKeystone', () => {
  let keystone: FakeKeystone;
  let validator: KeystoneTokenValidator;

  before(async () => {
    keystone = await FakeKeystone.start();
    validator = new KeystoneTokenValidator(keystone.endpoint, TIMEOUT_MS);
  });
  after(async () => keystone.stop());
  beforeEach(() => {
    keystone.mode = 'ok';
    keystone.delayMs = 0;
  });

  test('200 → the identity: user, project, lower-cased roles, expiry', async () => {
    const expiresAt = Date.UTC(2031, 4, 6, 7, 8, 9, 123);
    const token = keystone.issue({
      userId: 'u-42',
      projectId: 'p-7',
      roles: ['Member', 'READER', 'op_restricted'],
      expiresAt,
    });
    const identity = await validator.validate(token);
    assert.deepEqual(identity, {
      userId: 'u-42',
      userName: 'name-of-u-42',
      projectId: 'p-7',
      roles: ['member', 'reader', 'op_restricted'],
      expiresAt,
    });
    assert.equal(keystone.validationCount(token), 1);
  });

  test('404 (an unknown token) → Unauthenticated', async () => {
    await assert.rejects(validator.validate('never-issued'), isUnauthenticated);
    assert.equal(keystone.validationCount('never-issued'), 1, 'IAM was asked');
  });

  test('404 (a revoked token) → Unauthenticated', async () => {
    const token = keystone.issue();
    await validator.validate(token);
    keystone.revoke(token);
    await assert.rejects(validator.validate(token), isUnauthenticated);
  });

  test('404 (a token IAM considers expired) → Unauthenticated', async () => {
    const token = keystone.issue({ expiresAt: Date.now() - 1000 });
    await assert.rejects(validator.validate(token), isUnauthenticated);
  });

  test('500 → DependencyUnavailable(IAM)', async () => {
    const token = keystone.issue();
    keystone.mode = 'error';
    await assert.rejects(validator.validate(token), isIamUnavailable);
  });

  test('a connection reset → DependencyUnavailable(IAM)', async () => {
    const token = keystone.issue();
    keystone.mode = 'reset';
    await assert.rejects(validator.validate(token), isIamUnavailable);
  });

  test(`a hang → DependencyUnavailable(IAM) once the ${TIMEOUT_MS} ms timeout fires`, async () => {
    const token = keystone.issue();
    keystone.mode = 'hang';
    const started = performance.now();
    await assert.rejects(validator.validate(token), isIamUnavailable);
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= TIMEOUT_MS * 0.75, `gave up after ${elapsed} ms, before the timeout`);
    assert.ok(elapsed < TIMEOUT_UPPER_BOUND_MS, `took ${elapsed} ms`);
  });

  test('an answer slower than the timeout → DependencyUnavailable(IAM), in time', async () => {
    const token = keystone.issue();
    keystone.delayMs = 1_000;
    const started = performance.now();
    await assert.rejects(validator.validate(token), isIamUnavailable);
    assert.ok(performance.now() - started < TIMEOUT_UPPER_BOUND_MS);
  });

  test('an answer slower than usual but within the timeout is accepted', async () => {
    const token = keystone.issue({ userId: 'patient' });
    keystone.delayMs = 50;
    assert.equal((await validator.validate(token)).userId, 'patient');
  });

  test('a refused connection (IAM down) → DependencyUnavailable(IAM)', async () => {
    const gone = await FakeKeystone.start();
    const endpoint = gone.endpoint;
    await gone.stop();
    const started = performance.now();
    await assert.rejects(
      new KeystoneTokenValidator(endpoint, 5_000).validate('any-token'),
      isIamUnavailable,
    );
    assert.ok(performance.now() - started < TIMEOUT_UPPER_BOUND_MS, 'refused fails fast');
  });
});

/** An IAM that answers every request with `reply`, remembering what it was asked. */
async function stubIam(reply: (req: IncomingMessage, res: ServerResponse) => void) {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    reply(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}/v3`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(status: number, body: unknown) {
  return (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
}

const VALID_TOKEN_BODY = {
  token: {
    methods: ['password'],
    expires_at: '2031-01-02T03:04:05.678901Z',
    issued_at: '2031-01-01T03:04:05.678901Z',
    user: { id: 'u-1', name: 'alice', domain: { id: 'default', name: 'Default' } },
    project: { id: 'p-1', name: 'proj', domain: { id: 'default', name: 'Default' } },
    roles: [
      { id: '0', name: 'te_admin' },
      { id: '0', name: 'OBS Administrator' },
    ],
  },
};

/** A copy of `object` without `key`, for bodies that lack one field. */
function without<T extends object>(object: T, key: keyof T): Partial<T> {
  const copy: Partial<T> = { ...object };
  delete copy[key];
  return copy;
}

async function validateAgainst(
  reply: (req: IncomingMessage, res: ServerResponse) => void,
  token = 'a-token',
) {
  const iam = await stubIam(reply);
  try {
    return { result: await new KeystoneTokenValidator(iam.endpoint, 2_000).validate(token), iam };
  } finally {
    await iam.close();
  }
}

describe('against a stub with hand-written answers', () => {
  test('the request is GET /auth/tokens?nocatalog=1 with the token in both headers', async () => {
    const { iam } = await validateAgainst(json(200, VALID_TOKEN_BODY), 'tok-123');
    assert.equal(iam.requests.length, 1);
    const [req] = iam.requests;
    assert.equal(req?.method, 'GET');
    assert.equal(req?.url, '/v3/auth/tokens?nocatalog=1');
    assert.equal(req?.headers['x-subject-token'], 'tok-123');
    assert.equal(req?.headers['x-auth-token'], 'tok-123');
  });

  test("Keystone's microsecond timestamps are parsed (to the millisecond)", async () => {
    const { result } = await validateAgainst(json(200, VALID_TOKEN_BODY));
    assert.equal(result.expiresAt, Date.UTC(2031, 0, 2, 3, 4, 5, 678));
    assert.deepEqual(result.roles, ['te_admin', 'obs administrator']);
    assert.equal(result.userName, 'alice');
  });

  test('a domain-scoped token has no project', async () => {
    const unscoped = without(VALID_TOKEN_BODY.token, 'project');
    const body = { token: { ...unscoped, domain: { id: 'd-1', name: 'acme' } } };
    const { result } = await validateAgainst(json(200, body));
    assert.equal(result.projectId, undefined);
    assert.equal(result.userId, 'u-1');
  });

  test('a token without roles has none', async () => {
    const roleless = without(VALID_TOKEN_BODY.token, 'roles');
    const { result } = await validateAgainst(json(200, { token: roleless }));
    assert.deepEqual(result.roles, []);
  });

  test('a role without a name grants nothing', async () => {
    const body = {
      token: { ...VALID_TOKEN_BODY.token, roles: [{ id: '1', name: 'reader' }, { id: '2' }] },
    };
    const { result } = await validateAgainst(json(200, body));
    assert.deepEqual(result.roles, ['reader']);
  });

  for (const status of [401, 403, 400, 413, 431]) {
    test(`${status} (the token is refused, or too long for the front end) → Unauthenticated`, async () => {
      await assert.rejects(
        validateAgainst(json(status, { error: { code: status } })),
        isUnauthenticated,
      );
    });
  }

  for (const status of [408, 429, 500, 502, 503]) {
    test(`${status} → DependencyUnavailable(IAM)`, async () => {
      await assert.rejects(
        validateAgainst(json(status, { error: { code: status } })),
        isIamUnavailable,
      );
    });
  }

  const userless = without(VALID_TOKEN_BODY.token, 'user');
  const timeless = without(VALID_TOKEN_BODY.token, 'expires_at');
  for (const [what, body] of [
    ['a body lacking the user', { token: userless }],
    ['a user without an id', { token: { ...VALID_TOKEN_BODY.token, user: { name: 'alice' } } }],
    ['a body lacking expires_at', { token: timeless }],
    ['an unparseable expires_at', { token: { ...VALID_TOKEN_BODY.token, expires_at: 'soon' } }],
    ['a body without a token', { tokens: VALID_TOKEN_BODY.token }],
    ['a JSON null', 'null'],
    ['a body that is not JSON', '<html>gateway</html>'],
    ['roles that are not a list', { token: { ...VALID_TOKEN_BODY.token, roles: 'admin' } }],
    ['a user id that is not a string', { token: { ...VALID_TOKEN_BODY.token, user: { id: 7 } } }],
    ['an empty body', ''],
  ] as const) {
    test(`200 with ${what} → DependencyUnavailable(IAM)`, async () => {
      await assert.rejects(validateAgainst(json(200, body)), isIamUnavailable);
    });
  }
});

// uwsgi, which serves the real Keystone, answers one request per connection
// and keeps the connection open without saying so; what the client sends on
// it next is answered with a reset. Found by the real-Keystone suite, where
// back-to-back validations of junk tokens failed every other time (503).
test('an IAM that answers one request per connection: every validation is answered', async () => {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    let answered = false;
    socket.on('data', () => {
      if (answered) return void socket.resetAndDestroy();
      answered = true;
      const body = '{"error":{"code":404}}';
      socket.write(
        `HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const validator = new KeystoneTokenValidator(`http://127.0.0.1:${port}/v3`, 2_000);
  try {
    for (let i = 0; i < 6; i++) {
      await assert.rejects(validator.validate(`junk-${i}`), isUnauthenticated);
    }
  } finally {
    // The validator keeps its connections alive: close them from here.
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});
