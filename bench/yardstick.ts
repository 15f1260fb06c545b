// The yardstick: the leanest correct stop this machine can answer, the limit
// the service is measured against. Written from the job, not from the
// service: node:http and pg, its own schema and statement
// (bench/yardstick-schema.ts: a narrow table whose stop is a HOT update, the
// conditional UPDATE and its audit INSERT as one named statement), a pool of
// 16 connections, and a token cache. It still does the whole job: every stop
// is authenticated (the token validated against IAM once, then cached by its
// SHA-256 for the TTL, never past the token's expiry, one IAM call for a
// burst of requests with a new token), checked against the token's project,
// atomic and audited; and it gives the service's wire answers for what the
// bench sends (bench/load.ts): 200 with an empty body, or the OMS error body
// {error_code, error_msg, request_id}, always with X-Request-Id.
//
// Configured like the service: PORT, HOST, DATABASE_URL, IAM_ENDPOINT,
// TOKEN_CACHE_TTL_SECONDS, DATABASE_POOL_SIZE (16 unless set).

import { createHash, randomUUID } from 'node:crypto';
import { Agent, createServer, get, type IncomingMessage, type ServerResponse } from 'node:http';
import pg from 'pg';
import { serveUntilStopped } from './serve.js';
import { STOP, type StopRow } from './yardstick-schema.js';

const env = process.env;
const TTL_MS = Number(env.TOKEN_CACHE_TTL_SECONDS ?? '300') * 1000;
const CACHE_LIMIT = 10_000;
/** A bigint the table can hold, without a leading zero (which would name the same task twice). */
const TASK_ID = /^[1-9][0-9]{0,17}$/;
const REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** Roles that may read but not stop. */
const READERS = new Set(['reader', 'readonly', 'viewer']);

const pool = new pg.Pool({
  connectionString: env.DATABASE_URL,
  max: Number(env.DATABASE_POOL_SIZE ?? '16'),
});

/** How a request ends when it does not end in a 200. */
class Refusal {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly message: string,
  ) {}
}

const NO_TOKEN = new Refusal(401, 'APIGW.0301', 'The token is missing or invalid.');
const FORBIDDEN = new Refusal(403, 'OMS.0206', 'Permission denied.');
const NOT_FOUND = new Refusal(400, 'OMS.1009', 'No resources found.');
const NOT_MIGRATING = new Refusal(400, 'OMS.0066', 'The task is not migrating.');
const NO_SUCH_API = new Refusal(404, 'APIGW.0101', 'The API does not exist.');
const UNAVAILABLE = new Refusal(503, 'OMS.2004', 'A backend is unavailable.');

interface Caller {
  userId: string;
  projectId: string;
  mayStop: boolean;
  expiresAt: number;
}

const tokens = new Map<string, { caller: Caller; until: number }>();
const asking = new Map<string, Promise<Caller>>();
const iamAgent = new Agent({ keepAlive: true, maxSockets: 64 });

/** Keystone's GET /v3/auth/tokens for `token`; rejects with the Refusal to answer. */
function validate(token: string): Promise<Caller> {
  return new Promise((resolve, reject) => {
    const req = get(
      `${env.IAM_ENDPOINT}/auth/tokens?nocatalog=1`,
      {
        agent: iamAgent,
        headers: { 'X-Auth-Token': token, 'X-Subject-Token': token },
        signal: AbortSignal.timeout(3000),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', () => reject(UNAVAILABLE));
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(res.statusCode! < 500 ? NO_TOKEN : UNAVAILABLE);
          try {
            const { token: t } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            const roles: string[] = t.roles.map((r: { name: string }) => r.name.toLowerCase());
            resolve({
              userId: String(t.user.id),
              projectId: String(t.project?.id ?? ''),
              mayStop: roles.some((role) => !READERS.has(role)),
              expiresAt: Date.parse(t.expires_at),
            });
          } catch {
            reject(UNAVAILABLE);
          }
        });
      },
    );
    req.on('error', () => reject(UNAVAILABLE));
  });
}

async function callerOf(token: string | string[] | undefined): Promise<Caller> {
  if (typeof token !== 'string' || token === '') throw NO_TOKEN;
  const key = createHash('sha256').update(token).digest('hex');
  const hit = tokens.get(key);
  if (hit && hit.until > Date.now()) return hit.caller;
  let pending = asking.get(key);
  if (!pending) {
    pending = validate(token)
      .then((caller) => {
        // Oldest first out, when full: a Map iterates in insertion order.
        if (tokens.size >= CACHE_LIMIT) tokens.delete(tokens.keys().next().value!);
        tokens.set(key, { caller, until: Math.min(caller.expiresAt, Date.now() + TTL_MS) });
        return caller;
      })
      .finally(() => asking.delete(key));
    asking.set(key, pending);
  }
  return pending;
}

/** POST /v2/{project_id}/tasks/{task_id}/stop, split; undefined for anything else. */
function stopTarget(req: IncomingMessage): { projectId: string; taskId: string } | undefined {
  if (req.method !== 'POST') return undefined;
  const url = req.url ?? '';
  const end = url.indexOf('?');
  const parts = (end < 0 ? url : url.slice(0, end)).split('/');
  // ['', 'v2', project, 'tasks', task, 'stop']
  if (parts.length !== 6 || parts[1] !== 'v2' || parts[3] !== 'tasks' || parts[5] !== 'stop') {
    return undefined;
  }
  return { projectId: parts[2], taskId: parts[4] };
}

async function stop(req: IncomingMessage, requestId: string): Promise<void> {
  const target = stopTarget(req);
  if (!target) throw NO_SUCH_API;
  const caller = await callerOf(req.headers['x-auth-token']);
  // A project id is compared, never decoded: the token's is plain text, and
  // an encoded one cannot equal it.
  if (caller.projectId !== target.projectId || !caller.mayStop) throw FORBIDDEN;
  if (!TASK_ID.test(target.taskId)) throw NOT_FOUND;
  let result: pg.QueryResult<StopRow>;
  try {
    result = await pool.query<StopRow>({
      name: STOP.name,
      text: STOP.text,
      values: [target.taskId, target.projectId, caller.userId, requestId],
    });
  } catch {
    throw UNAVAILABLE;
  }
  const row = result.rows[0];
  if (row.stopped) return;
  if (row.status_seen === null) throw NOT_FOUND;
  // Seen migrating and still not stopped: a concurrent stop took it first,
  // so it is paused now, as if it had been seen so.
  throw NOT_MIGRATING;
}

function answer(res: ServerResponse, requestId: string, refusal?: Refusal): void {
  if (!refusal) {
    res.writeHead(200, { 'X-Request-Id': requestId, 'Content-Length': '0' });
    res.end();
    return;
  }
  const body = JSON.stringify({
    error_code: refusal.code,
    error_msg: refusal.message,
    request_id: requestId,
  });
  res.writeHead(refusal.status, {
    'X-Request-Id': requestId,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

const server = createServer({ maxHeaderSize: 64 * 1024 }, (req, res) => {
  const given = req.headers['x-request-id'];
  const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
  req.resume(); // a stop has no body worth reading, but the socket must be drained
  stop(req, requestId).then(
    () => answer(res, requestId),
    (error: unknown) => answer(res, requestId, error instanceof Refusal ? error : UNAVAILABLE),
  );
});

serveUntilStopped(server, 'yardstick', pool);
