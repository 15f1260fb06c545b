// The second yardstick, "yardstick (service SQL)": the same stop call as the
// service, written with nothing but node:http and pg, on the service's own
// schema and with the service's own statement. Beside the service it isolates
// what Node alone costs against what the framework and the service's code
// add, on the same SQL; beside the first yardstick (bench/yardstick.ts, its
// own schema and statement), what the service's schema and statement cost.
// It keeps what makes the call correct and comparable (the same path parsing
// and order of checks, the same token cache: SHA-256 keys, a TTL capped by
// the token's expiry, one IAM call per burst of a new token; the same
// statement with its audit row, imported from the service) and leaves out
// everything else. The statements are named, so
// PostgreSQL parses and plans them once per connection.
//
// Configured like the service: PORT, HOST, DATABASE_URL, IAM_ENDPOINT,
// TOKEN_CACHE_TTL_SECONDS, DATABASE_POOL_SIZE.

import { createHash, randomUUID } from 'node:crypto';
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import pg from 'pg';
import { serveUntilStopped } from './serve.js';
import { TASK_ACTIONS } from '../src/tasks/task-state.js';
import { MOVE_TASK } from '../src/tasks/task.sql.js';

const env = process.env;
const ttlMs = Number(env.TOKEN_CACHE_TTL_SECONDS ?? '300') * 1000;
const MAX_CACHE_ENTRIES = 10_000;
const MAX_PARAM_LENGTH = 1024;
const MAX_TOKEN_LENGTH = 16_384;
const READ_ONLY_ROLES = ['reader', 'readonly', 'viewer'];
const BLOCKED_ROLES = ['op_restricted', 'op_suspended'];

const STOP_PATH = /^\/v2\/([^/]*)\/tasks\/([^/]*)\/stop\/?$/;
const TOKEN_SHAPE = /^[\x21-\x7e]+$/;
const TASK_ID_SHAPE = /^[1-9][0-9]{0,14}$/;
const SANE_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

// The service's statement for a move, MOVE_TASK of src/tasks/task.sql.ts,
// imported (not copied, so this row follows the service) and bound for a
// stop as task-transitions.ts binds it: update, audit row, and the status
// it found. (The service then wakes its scheduler, which asks at most every
// 20 ms, in one statement for all the projects woken meanwhile, whether they
// have waiting tasks; with no scheduler here, that question is left out.)
const STOP = TASK_ACTIONS.stop;

const pool = new pg.Pool({
  connectionString: env.DATABASE_URL,
  max: Number(env.DATABASE_POOL_SIZE ?? '10'),
  statement_timeout: 5000,
});

interface Identity {
  userId: string;
  projectId: string | undefined;
  roles: string[];
  expiresAt: number;
}

/** An answer the request ends with: the status and, for errors, the OMS code. */
class Answer {
  constructor(
    readonly status: number,
    readonly code?: string,
    readonly message?: string,
  ) {}
}

const cache = new Map<string, { identity: Identity; validUntil: number }>();
const inflight = new Map<string, Promise<Identity>>();
const iamAgent = new Agent({ keepAlive: true, maxSockets: 64 });

function askIam(token: string): Promise<Identity> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${env.IAM_ENDPOINT}/auth/tokens?nocatalog=1`,
      {
        headers: { 'X-Auth-Token': token, 'X-Subject-Token': token, Accept: 'application/json' },
        agent: iamAgent,
        signal: AbortSignal.timeout(3000),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('error', () => reject(new Answer(503, 'OMS.2004', 'IAM is unavailable.')));
        res.on('end', () => {
          if (res.statusCode === 404 || res.statusCode === 401 || res.statusCode === 403) {
            return reject(new Answer(401, 'APIGW.0301', 'The token is invalid.'));
          }
          try {
            const { token: t } = JSON.parse(body);
            resolve({
              userId: t.user.id,
              projectId: t.project?.id,
              roles: t.roles.map((role: { name: string }) => role.name.toLowerCase()),
              expiresAt: Date.parse(t.expires_at),
            });
          } catch {
            reject(new Answer(503, 'OMS.2004', 'IAM is unavailable.'));
          }
        });
      },
    );
    req.on('error', () => reject(new Answer(503, 'OMS.2004', 'IAM is unavailable.')));
    req.end();
  });
}

async function authenticate(token: string | string[] | undefined): Promise<Identity> {
  if (typeof token !== 'string' || token === '') {
    throw new Answer(401, 'APIGW.0301', 'The token is missing.');
  }
  if (token.length > MAX_TOKEN_LENGTH) throw new Answer(400, 'OMS.0064', 'The token is too long.');
  if (!TOKEN_SHAPE.test(token)) throw new Answer(401, 'APIGW.0301', 'The token is malformed.');
  const key = createHash('sha256').update(token).digest('base64');
  const cached = cache.get(key);
  if (cached && cached.validUntil > Date.now()) return cached.identity;
  let pending = inflight.get(key);
  if (!pending) {
    pending = askIam(token)
      .then((identity) => {
        const now = Date.now();
        cache.delete(key);
        if (cache.size >= MAX_CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
        cache.set(key, { identity, validUntil: Math.min(identity.expiresAt, now + ttlMs) });
        return identity;
      })
      .finally(() => inflight.delete(key));
    inflight.set(key, pending);
  }
  return pending;
}

function authorize(caller: Identity, projectId: string): void {
  const writer = caller.roles.some(
    (role) => !READ_ONLY_ROLES.includes(role) && !BLOCKED_ROLES.includes(role),
  );
  const blocked = caller.roles.some((role) => BLOCKED_ROLES.includes(role));
  if (caller.projectId !== projectId || blocked || !writer) {
    throw new Answer(403, 'OMS.0206', 'Permission denied.');
  }
}

async function stop(projectId: string, taskId: string, userId: string, requestId: string) {
  if (!TASK_ID_SHAPE.test(taskId)) throw new Answer(400, 'OMS.1009', 'No resources found.');
  for (let attempt = 0; attempt < 3; attempt++) {
    const values = MOVE_TASK.values({
      taskId,
      projectId,
      from: STOP.from,
      action: 'stop',
      userId,
      requestId,
      to: STOP.to,
      whileLeased: STOP.whileLeased ?? STOP.to,
      now: new Date(),
    });
    const moved = await pool.query({ name: MOVE_TASK.name, text: MOVE_TASK.text, values });
    const [{ from_status, status_seen }] = moved.rows;
    if (from_status !== null) return;
    if (status_seen === null) throw new Answer(400, 'OMS.1009', 'No resources found.');
    if (status_seen !== 2) {
      throw new Answer(400, 'OMS.0066', `The task is not migrating: ${status_seen}.`);
    }
  }
  throw new Answer(503, 'OMS.2004', 'The database is unavailable.');
}

function param(raw: string): string {
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    throw new Answer(400, 'OMS.0064', 'A path parameter is malformed.');
  }
  if (value.length < 1 || value.length > MAX_PARAM_LENGTH) {
    throw new Answer(400, 'OMS.0064', 'A path parameter breaks its bounds.');
  }
  return value;
}

async function handle(req: IncomingMessage, requestId: string): Promise<void> {
  const match = STOP_PATH.exec((req.url ?? '').split('?')[0]);
  if (!match || req.method !== 'POST') {
    throw new Answer(404, 'APIGW.0101', 'The API does not exist.');
  }
  const caller = await authenticate(req.headers['x-auth-token']);
  const projectId = param(match[1]);
  const taskId = param(match[2]);
  authorize(caller, projectId);
  await stop(projectId, taskId, caller.userId, requestId);
}

function answer(res: ServerResponse, requestId: string, error?: unknown): void {
  if (error === undefined) {
    res.writeHead(200, { 'X-Request-Id': requestId, 'Content-Length': 0 }).end();
    return;
  }
  const known =
    error instanceof Answer ? error : new Answer(503, 'OMS.2004', 'The database is unavailable.');
  const body = JSON.stringify({
    error_code: known.code,
    error_msg: known.message,
    request_id: requestId,
  });
  res.writeHead(known.status, {
    'X-Request-Id': requestId,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    ...(known.status === 503 ? { 'Retry-After': '5' } : {}),
  });
  res.end(body);
}

const server = createServer({ maxHeaderSize: 64 * 1024 }, (req, res) => {
  const supplied = req.headers['x-request-id'];
  const requestId =
    typeof supplied === 'string' && SANE_REQUEST_ID.test(supplied) ? supplied : randomUUID();
  // The body is ignored, as by the service; it must still be read.
  req.resume();
  handle(req, requestId).then(
    () => answer(res, requestId),
    (error: unknown) => answer(res, requestId, error),
  );
});

serveUntilStopped(server, 'yardstick, service SQL', pool);
