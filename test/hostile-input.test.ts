// Hostile input, generated (fast-check, fixed seed) and from a fixed corpus:
// paths, headers and bodies that are over-long, empty, non-ASCII, control
// characters, encoded slashes and dots, NUL, SQL and JSON injection, header
// injection, duplicate headers, huge bodies and slow clients, written byte
// for byte on raw sockets. The oracle, for every case: an answer within a
// bound, a 4xx in the OMS error shape with a sane X-Request-Id, and no task
// or audit row changed.
//
// No case can rightly change a row: the only tasks belong to a project no
// token is ever issued for; valid tokens are sent on stop-shaped paths, on
// reads, on bodies that no route may accept, and on creates in a project of
// their own, which the check of the tables leaves out.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { TaskStatus } from '../src/tasks/task-state.js';
import { rawExchange, type RawOutcome } from './support/raw-exchange.js';
import { FAKE_SERVICE_IDENTITY } from './support/fake-keystone.js';
import { assertPaused } from './support/stop-checks.js';
import { emptyTables, insertTask, startTestApp, type TestApp } from './support/test-app.js';

const SEED = Number(process.env.HOSTILE_SEED ?? 20261128);
const PROJECT = 'project-1';
const VICTIM = `victim-${randomUUID()}`;
/** The one project where a hostile create may rightly succeed. */
const CREATE_PROJECT = `create-${randomUUID()}`;
const REQUEST_TIMEOUT_MS = 1000;
/** An answer later than this is a hang. */
const ANSWER_BOUND_MS = 10_000;
const SANE_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** In every access and secret key the hostile creates send: never to come back. */
const SECRET_MARK = 'SECRETMARK';

/** The error codes each status may carry. */
const CODES: Record<number, string[]> = {
  400: ['OMS.0064', 'OMS.0066', 'OMS.0067', 'OMS.1009'],
  401: ['APIGW.0301'],
  403: ['OMS.0206'],
  // OMS.1009: a missing task group or sync task answers 404 (a missing task 400).
  404: ['APIGW.0101', 'OMS.1009'],
  408: ['OMS.0064'],
  429: ['APIGW.0308'],
};

let t: TestApp;
let validToken: string;
let createToken: string;
let victimIds: string[];
/** A sync task of the victim's, out of reach of PROJECT's token. */
let victimSyncId: string;
let snapshot: string;
let cases = 0;
/** How often each status and code came back: where the cases got to. */
const answers = new Map<string, number>();

/** Every task and audit row, but those of CREATE_PROJECT, where creating is allowed. */
async function tableSnapshot(): Promise<string> {
  const where = 'WHERE project_id <> $1 ORDER BY id';
  const tasks = await t.db.query(`SELECT * FROM tasks ${where}`, [CREATE_PROJECT]);
  const audit = await t.db.query(`SELECT * FROM task_transitions ${where}`, [CREATE_PROJECT]);
  const sync = await t.db.query(`SELECT * FROM sync_tasks ${where}`, [CREATE_PROJECT]);
  const syncAudit = await t.db.query(`SELECT * FROM sync_task_transitions ${where}`, [
    CREATE_PROJECT,
  ]);
  const events = await t.db.query(`SELECT * FROM sync_task_events ${where}`, [CREATE_PROJECT]);
  return JSON.stringify([tasks.rows, audit.rows, sync.rows, syncAudit.rows, events.rows]);
}

before(async () => {
  t = await startTestApp({
    env: {
      REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      IAM_TIMEOUT_MS: '3000',
      // Signatures on, and a per-credential limit, so that credentials an
      // outsider makes up travel the whole way a real one does.
      ...FAKE_SERVICE_IDENTITY,
      RATE_LIMIT_CREDENTIAL_RPS: '100000',
    },
  });
  await emptyTables(t.db);
  validToken = t.keystone.issue({ projectId: PROJECT, userId: 'u-hostile' });
  createToken = t.keystone.issue({ projectId: CREATE_PROJECT, userId: 'u-hostile' });
  victimIds = [];
  for (const status of [1, 2, 2, 2, 3, 4, 5, 6, 7] as TaskStatus[]) {
    victimIds.push(await insertTask(t.db, VICTIM, status));
  }
  victimSyncId = randomUUID();
  await t.db.query(
    `INSERT INTO sync_tasks (id, project_id, status, src_cloud_type, src_region, src_bucket,
       dst_region, dst_bucket, secrets) VALUES ($1, $2, 'SYNCHRONIZING', 'Aliyun', 'r', 'b', 'r', 'b', '\\x00')`,
    [victimSyncId, VICTIM],
  );
  snapshot = await tableSnapshot();
});
after(async () => {
  console.log(`hostile input: ${cases} cases tried (seed ${SEED})`);
  console.log(
    [...answers]
      .sort()
      .map(([key, n]) => `  ${key}: ${n}`)
      .join('\n'),
  );
  await t.close();
});

interface Hostile {
  method: string;
  target: string;
  /** Header lines, raw; Host and Connection are added unless `bare`. */
  headers: string[];
  body: string;
  /** Send exactly `headers`, no Host, no Connection: close. */
  bare?: boolean;
  /** Content-Length is not computed (the case sets its own, or none). */
  ownLength?: boolean;
}

function wire(h: Hostile): Buffer {
  const extra = h.bare ? [] : ['Host: 127.0.0.1', 'Connection: close'];
  const length = h.ownLength || h.body === '' ? [] : [`Content-Length: ${latin1(h.body).length}`];
  const head = [`${h.method} ${h.target} HTTP/1.1`, ...h.headers, ...extra, ...length, '', ''];
  return Buffer.concat([latin1(head.join('\r\n')), latin1(h.body)]);
}

/** Text to bytes: characters above U+00FF go as UTF-8, the rest as themselves. */
function latin1(text: string): Buffer {
  return /[^\x00-\xff]/.test(text) ? Buffer.from(text, 'utf8') : Buffer.from(text, 'latin1');
}

function describeCase(h: Hostile): string {
  const shown = JSON.stringify({ ...h, body: h.body.slice(0, 200) });
  return shown.length > 600 ? `${shown.slice(0, 600)}…` : shown;
}

/** The oracle for one answer. */
function assertRefused(outcome: RawOutcome, h: Hostile, maySucceed = false): void {
  const what = describeCase(h);
  assert.equal(outcome.kind, 'answer', `${outcome.kind} after ${outcome.ms} ms: ${what}`);
  if (outcome.kind !== 'answer') return;
  const { status, headers, body } = outcome;
  if (maySucceed && status >= 200 && status < 300) {
    assert.equal(headers['x-request-id']?.length, 1, what);
    assert.ok(!body.includes(SECRET_MARK), `a secret came back: ${what}`);
    return;
  }
  assert.ok(status >= 400 && status < 500, `${status} ${body}: ${what}`);
  assert.ok(CODES[status], `status ${status} is not one the contract uses: ${what}`);
  const ids = headers['x-request-id'] ?? [];
  assert.equal(ids.length, 1, `X-Request-Id ${JSON.stringify(ids)}: ${what}`);
  assert.match(ids[0], SANE_REQUEST_ID, what);
  assert.equal(headers['x-injected'], undefined, `a header was injected: ${what}`);
  if (h.method === 'HEAD') return; // no body, by definition
  assert.match(headers['content-type']?.[0] ?? '', /^application\/json/, what);
  const parsed = JSON.parse(body);
  assert.deepEqual(Object.keys(parsed).sort(), ['error_code', 'error_msg', 'request_id'], what);
  assert.ok(CODES[status].includes(parsed.error_code), `${status} ${parsed.error_code}: ${what}`);
  assert.equal(typeof parsed.error_msg, 'string');
  assert.equal(parsed.request_id, ids[0], what);
  assert.ok(!body.includes(validToken), `the token came back: ${what}`);
}

/** Sends one case and judges its answer; returns the status and code. */
async function check(h: Hostile, maySucceed = false): Promise<string> {
  cases++;
  const outcome = await rawExchange(t.port, { chunks: [wire(h)], timeoutMs: ANSWER_BOUND_MS });
  assertRefused(outcome, h, maySucceed);
  if (outcome.kind !== 'answer') return outcome.kind;
  const ok = outcome.status < 300;
  const code = h.method === 'HEAD' || ok ? '' : JSON.parse(outcome.body).error_code;
  const key = `${outcome.status} ${code}`;
  answers.set(key, (answers.get(key) ?? 0) + 1);
  return key;
}

async function assertNothingChanged(): Promise<void> {
  assert.equal(await tableSnapshot(), snapshot, 'a task or an audit row changed');
}

// ---------------------------------------------------------------- generators

const NASTY_SEGMENTS = [
  '',
  ' ',
  '.',
  '..',
  '%2e',
  '%2e%2e',
  '%2E%2E',
  '..%2F..',
  '%2F',
  '%2f%2f',
  '%5C',
  '%00',
  '%',
  '%zz',
  '%E0%A4%A',
  '%C0%AE',
  '%FF',
  '%0D%0A',
  '%0d%0aX-Injected:%201',
  "1' OR '1'='1",
  '1; DROP TABLE tasks; --',
  '1%27%20OR%201%3D1--',
  '$1',
  '{"$gt":""}',
  '%7B%22a%22%3A1%7D',
  '__proto__',
  'constructor',
  '0',
  '-1',
  '+1',
  '01',
  '1.0',
  '1e3',
  '0x1',
  '１',
  '٣',
  '999999999999999',
  '1000000000000000',
  '99999999999999999999999999',
  'NaN',
  'null',
  'undefined',
  'é',
  '%C3%A9',
  '😀',
  '%F0%9F%98%80',
  'a'.repeat(1024),
  'a'.repeat(1025),
  'a'.repeat(8000),
  '*',
  ';',
  '?',
  '#',
  '\\',
];

const segment: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_SEGMENTS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.stringMatching(/^[0-9]{1,18}$/) },
  { weight: 1, arbitrary: fc.constantFrom(PROJECT, VICTIM) },
);

function encodeSegment(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return encodeURIComponent(text.replace(/[\ud800-\udfff]/g, 'x')); // a lone surrogate
  }
}

/** A segment as it goes on the wire: encoded, or raw bytes as they are. */
const wireSegment: fc.Arbitrary<string> = fc
  .tuple(segment, fc.boolean())
  .map(([text, encode]) => (encode ? encodeSegment(text) : text));

const ACTIONS = ['stop', 'start', 'bandwidth', 'STOP', 'Stop', '%73top', 'stop%2F', 'stop;x=1'];

const target: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(wireSegment, wireSegment, fc.constantFrom(...ACTIONS))
    .map(([p, id, action]) => `/v2/${p}/tasks/${id}/${action}`),
  fc.tuple(wireSegment, wireSegment).map(([p, id]) => `/v2/${p}/tasks/${id}`),
  wireSegment.map((p) => `/v2/${p}/tasks`),
  fc.tuple(wireSegment, wireSegment).map(([a, b]) => `/v2/${a}/${b}`),
  fc.array(wireSegment, { maxLength: 6 }).map((parts) => `/${parts.join('/')}`),
  fc
    .tuple(wireSegment, wireSegment)
    .map(([id, query]) => `/v2/${PROJECT}/tasks/${id}/stop?${query}=${query}`),
  fc
    .tuple(wireSegment, wireSegment, fc.constantFrom('stop', 'start', 'events', 'statistics'))
    .map(([p, id, action]) => `/v2/${p}/sync-tasks/${id}/${action}`),
  fc.constantFrom(
    '*',
    '/',
    '//',
    '/v2',
    '/v2/',
    `/v2/${VICTIM}/tasks/1/stop`,
    `http://127.0.0.1/v2/${VICTIM}/tasks/1/stop`,
    `/v2/${PROJECT}/tasks/1/stop#frag`,
    `/v2/../v2/${VICTIM}/tasks/1/stop`,
    `/v2/${PROJECT}/tasks/1/./stop`,
    `/v2/${PROJECT}/tasks/1/stop/..`,
    `/v2/${PROJECT}/tasks/..%2F..%2F${VICTIM}%2Ftasks%2F1/stop`,
    `/v2/${PROJECT}%2F..%2F${VICTIM}/tasks/1/stop`,
    '/%2e%2e/%2e%2e/etc/passwd',
    '/v2//tasks//stop',
    '/v2/%00/tasks/%00/stop',
  ),
);

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'get', 'FOO'];

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'APPLICATION/JSON',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  '',
  ';;;',
  'application/json\u0000',
];

const jsonish: fc.Arbitrary<string> = fc.oneof(
  fc.json({ maxDepth: 3 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom(
    '{"__proto__":{"admin":true}}',
    '{"constructor":{"prototype":{"admin":true}}}',
    '{"status":3,"id":"1 OR 1=1"}',
    "'; UPDATE tasks SET status=3; --",
    '{"a":',
    '[',
    '\u0000',
    '{"a":"\ud800"}',
    '['.repeat(5000),
    '{"a":'.repeat(2000),
    'null',
    '""',
    '1e999999',
  ),
);

/** Headers of any kind, including ones that break the head or try to add one. */
const headerLine: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...CONTENT_TYPES).map((v) => `Content-Type: ${v}`),
  segment.map((v) => `X-Request-Id: ${v}`),
  fc.constantFrom(
    'X-Request-Id: abc\r\nX-Injected: 1',
    'X-Request-Id: abc\nX-Injected: 1',
    'X-Request-Id: abc\rX-Injected: 1',
    'X-Request-Id: a\u0000b',
    'X-Auth-Token: a\r\n\r\nGET / HTTP/1.1',
    'X-Auth-Token:',
    'X-Auth-Token: ',
    'X-Auth-Token: never-issued',
    'X-Auth-Token: ' + 'x'.repeat(16_385),
    'X-Auth-Token: tok en',
    'X-Auth-Token: tök',
    'Transfer-Encoding: chunked',
    'Transfer-Encoding: gzip',
    'Expect: 100-continue',
    'Expect: nonsense',
    'Connection: upgrade',
    'Upgrade: websocket',
    'Content-Encoding: gzip',
    'Accept: */*',
    ' folded: continuation',
    'No-Colon-Here',
    ': empty-name',
    'Bad Name: x',
  ),
  fc
    .tuple(
      fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/),
      fc.string({ unit: 'binary', maxLength: 40 }),
    )
    .map(([name, value]) => `${name}: ${value}`),
);

const anyRequest: fc.Arbitrary<Hostile> = fc.record({
  method: fc.constantFrom(...METHODS),
  target,
  headers: fc.array(headerLine, { maxLength: 5 }),
  body: fc.oneof(fc.constant(''), jsonish),
});

/**
 * Stops that pass authentication: a valid token (for the project with no
 * tasks) or one issued for whatever project the path names, so that the
 * segments reach validation, the access policy and the database.
 */
const authenticatedStop: fc.Arbitrary<Hostile & { tokenFor: 'path' | 'valid' }> = fc
  .record({
    method: fc.constant('POST'),
    project: segment,
    taskId: fc.oneof(segment, fc.constantFrom('1', '2', '3', '4', '5')),
    tokenFor: fc.constantFrom('path' as const, 'valid' as const),
    duplicateToken: fc.boolean(),
    headers: fc.array(headerLine, { maxLength: 3 }),
    body: fc.oneof(fc.constant(''), jsonish),
  })
  .map(({ project, taskId, tokenFor, duplicateToken, headers, ...rest }) => {
    const target = `/v2/${encodeSegment(project)}/tasks/${encodeSegment(taskId)}/stop`;
    const token =
      tokenFor === 'path' && project !== VICTIM
        ? t.keystone.issue({ projectId: project.replace(/[\ud800-\udfff]/g, 'x') })
        : validToken;
    const auth = [`X-Auth-Token: ${token}`];
    if (duplicateToken) auth.push('X-Auth-Token: never-issued');
    return { ...rest, target, tokenFor, headers: [...auth, ...headers] };
  });

// ---------------------------------------------------------------- the tests

describe('generated hostile requests (fast-check)', () => {
  // Eight requests at a time: the server sees them concurrently, and the
  // run stays short on a small machine.
  const batch = <T>(arb: fc.Arbitrary<T>) => fc.array(arb, { minLength: 8, maxLength: 8 });

  test('any method, path, headers and body, no valid token: a 4xx in the OMS shape', async () => {
    await fc.assert(
      fc.asyncProperty(batch(anyRequest), async (requests) => {
        await Promise.all(requests.map((h) => check(h)));
      }),
      { seed: SEED, numRuns: 180, endOnFailure: true },
    );
    await assertNothingChanged();
  });

  test('authenticated stops with hostile paths, headers and bodies: a 4xx, nothing moves', async () => {
    await fc.assert(
      fc.asyncProperty(batch(authenticatedStop), async (requests) => {
        await Promise.all(requests.map((h) => check(h)));
      }),
      { seed: SEED + 1, numRuns: 150, endOnFailure: true },
    );
    await assertNothingChanged();
  });
});

describe('generated hostile reads and creates, authenticated (fast-check)', () => {
  // Reads change nothing whatever they get; creates may succeed, but only in
  // CREATE_PROJECT, which the snapshot leaves out.
  const keyed = fc.constantFrom('limit', 'offset', 'status', 'group_id', 'LIMIT', 'limit[]', '');
  const query = fc
    .array(fc.tuple(keyed, wireSegment), { maxLength: 4 })
    .map((pairs) => pairs.map(([key, value]) => `${key}=${value}`).join('&'));
  const validNode = {
    cloud_type: 'Aliyun',
    region: 'cn-hangzhou',
    bucket: 'b',
    ak: `${SECRET_MARK}-ak`,
    sk: `${SECRET_MARK}-sk`,
    object_key: ['x/'],
  };
  const validBody = { src_node: validNode, dst_node: { ...validNode, object_key: undefined } };
  // A valid create with one field, at any depth, replaced by something hostile.
  const hostileValue = fc.oneof(
    fc.anything({ maxDepth: 2 }),
    segment,
    fc.constantFrom(-1, 0, 1e308, 2 ** 53, '9'.repeat(40), null, [], {}, '\u0000', true),
  );
  const createBody = fc.oneof(
    jsonish,
    fc
      .tuple(
        fc.constantFrom(
          'task_type',
          'description',
          'migrate_since',
          'bandwidth_policy',
          'task_priority',
          'src_node',
          'dst_node',
        ),
        fc.constantFrom('', 'region', 'bucket', 'ak', 'object_key', 'cloud_type', 'list_file'),
        hostileValue,
      )
      .map(([field, inner, value]) => {
        const body: Record<string, unknown> = structuredClone(validBody);
        if (inner && typeof body[field] === 'object') {
          (body[field] as Record<string, unknown>)[inner] = value;
        } else body[field] = value;
        return JSON.stringify(body);
      }),
  );
  const request: fc.Arbitrary<Hostile> = fc.oneof(
    query.map((q) => ({
      method: 'GET',
      target: `/v2/${PROJECT}/tasks?${q}`,
      headers: [`X-Auth-Token: ${validToken}`],
      body: '',
    })),
    wireSegment.map((id) => ({
      method: 'GET',
      target: `/v2/${PROJECT}/tasks/${id}`,
      headers: [`X-Auth-Token: ${validToken}`],
      body: '',
    })),
    wireSegment.map((id) => ({
      method: 'GET',
      target: `/v2/${PROJECT}/sync-tasks/${id}?query_time=1767225600000`,
      headers: [`X-Auth-Token: ${validToken}`],
      body: '',
    })),
    createBody.map((body) => ({
      method: 'POST',
      target: `/v2/${CREATE_PROJECT}/tasks`,
      headers: [`X-Auth-Token: ${createToken}`, 'Content-Type: application/json'],
      body,
    })),
  );

  test('never a 5xx; a refusal in the OMS shape; no secret back; nothing else changes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 8, maxLength: 8 }), async (requests) => {
        await Promise.all(requests.map((h) => check(h, true)));
      }),
      { seed: SEED + 3, numRuns: 60, endOnFailure: true },
    );
    await assertNothingChanged();
  });
});

/** Credentials no one issued, as long as the headers allow: each must be refused and kept nowhere. */
function longCredentials(): [string, string[]][] {
  const signed = (access: string, signedHeaders = 'host', extra: string[] = []) => [
    `Authorization: SDK-HMAC-SHA256 Access=${access}, SignedHeaders=${signedHeaders}, Signature=${'0'.repeat(64)}`,
    ...extra,
  ];
  return [
    ['an access key of 60,000 characters, no date, a zero signature', signed('A'.repeat(60_000))],
    [
      'an access key of 60,000 characters with a date',
      signed('B'.repeat(60_000), 'host;x-sdk-date', ['X-Sdk-Date: 20261201T000000Z']),
    ],
    ['SignedHeaders of 60,000 characters', signed('AK', 'h;'.repeat(30_000) + 'host')],
    [
      'an X-Sdk-Date of 60,000 characters',
      signed('AK', 'host;x-sdk-date', [`X-Sdk-Date: ${'2'.repeat(60_000)}`]),
    ],
    ['an X-Auth-Token of 16,385 characters', [`X-Auth-Token: ${'t'.repeat(16_385)}`]],
    ['an X-Auth-Token of 16,384 characters nobody issued', [`X-Auth-Token: ${'u'.repeat(16_384)}`]],
    ['an X-Auth-Token of 60,000 characters', [`X-Auth-Token: ${'v'.repeat(60_000)}`]],
  ];
}

describe('a fixed corpus', () => {
  const stopOf = (project: string, id: string) => `/v2/${project}/tasks/${id}/stop`;
  const auth = () => `X-Auth-Token: ${validToken}`;
  /** A POST with the valid token first among its headers. */
  const post = (target: string, headers: string[] = [], body = '', more: Partial<Hostile> = {}) =>
    ({ method: 'POST', target, headers: [auth(), ...headers], body, ...more }) as Hostile;
  const stop1 = () => stopOf(PROJECT, '1');
  const victim = () => victimIds[1];

  const corpus: [string, () => Hostile][] = [
    ['NUL in the request line', () => post('/v2/p\u0000/tasks/1/stop')],
    ['a raw space in the path', () => post('/v2/p q/tasks/1/stop')],
    ['a raw non-ASCII path', () => post('/v2/проект/tasks/1/stop')],
    ['a path of 60,000 characters', () => post(`/v2/${'a'.repeat(60_000)}/tasks/1/stop`)],
    ['two X-Auth-Token headers, both valid', () => post(stopOf(VICTIM, victim()), [auth()])],
    [
      'two Host headers',
      () => post(stop1(), ['Host: a', 'Host: b', 'Connection: close'], '', { bare: true }),
    ],
    ['no Host header', () => post(stop1(), ['Connection: close'], '', { bare: true })],
    [
      'two different Content-Lengths',
      () => post(stop1(), ['Content-Length: 2', 'Content-Length: 3'], '{}', { ownLength: true }),
    ],
    [
      'a negative Content-Length',
      () => post(stop1(), ['Content-Length: -1'], '', { ownLength: true }),
    ],
    [
      'a Content-Length that is not a number',
      () => post(stop1(), ['Content-Length: ten'], '', { ownLength: true }),
    ],
    [
      'Content-Length and Transfer-Encoding together (smuggling)',
      () =>
        post(stop1(), ['Content-Length: 4', 'Transfer-Encoding: chunked'], '0\r\n\r\n', {
          ownLength: true,
        }),
    ],
    [
      'a chunked body with a bad chunk size',
      () =>
        post(stop1(), ['Transfer-Encoding: chunked'], 'zz\r\nabc\r\n0\r\n\r\n', {
          ownLength: true,
        }),
    ],
    [
      'a chunked body over 1 MiB',
      () =>
        post(
          stop1(),
          ['Transfer-Encoding: chunked', 'Content-Type: application/json'],
          `100000\r\n${'a'.repeat(0x100000)}\r\n10\r\n${'b'.repeat(16)}\r\n0\r\n\r\n`,
          { ownLength: true },
        ),
    ],
    [
      'a body of 2 MiB, JSON',
      () => post(stop1(), ['Content-Type: application/json'], `"${'a'.repeat(2 * 1024 * 1024)}"`),
    ],
    ['a body of 2 MiB, no type', () => post(stop1(), [], 'a'.repeat(2 * 1024 * 1024))],
    [
      'a Content-Length of 10 GB, then the connection closes',
      () => post(stop1(), ['Content-Length: 10000000000'], '', { ownLength: true }),
    ],
    [
      'HTTP/1.0 without Host',
      () => post(`${stop1()} HTTP/1.0\r\nX-Dummy: x`, [], '', { bare: true }),
    ],
    [
      'HTTP/2 preface on an HTTP/1.1 port',
      () => ({
        method: 'PRI',
        target: '*',
        headers: [],
        body: 'SM\r\n\r\n',
        bare: true,
        ownLength: true,
      }),
    ],
    ['an asterisk-form target, GET *', () => post('*', [], '', { method: 'GET' })],
    ['an asterisk-form target, OPTIONS *', () => post('*', [], '', { method: 'OPTIONS' })],
    ...longCredentials().map(([name, headers]): [string, () => Hostile] => [
      name,
      () => ({ method: 'POST', target: stop1(), headers, body: '' }),
    ]),
    ['a lower-case method', () => post(stop1(), [], '', { method: 'post' })],
    ['an unknown method', () => post(stop1(), [], '', { method: 'BREW' })],
    ['CRLF injection in X-Request-Id', () => post(stop1(), ['X-Request-Id: a%0d%0aX-Injected: 1'])],
    [
      'SQL in the task id, authenticated',
      () => post(stopOf(PROJECT, encodeURIComponent(`${victim()} OR 1=1`))),
    ],
    [
      'SQL in the project id, with a token for it',
      () => {
        const project = `${VICTIM}' OR '1'='1`;
        const token = t.keystone.issue({ projectId: project });
        return {
          method: 'POST',
          target: stopOf(encodeURIComponent(project), victim()),
          headers: [`X-Auth-Token: ${token}`],
          body: '',
        };
      },
    ],
    ["a victim task id under the caller's project", () => post(stopOf(PROJECT, victim()))],
    ["the victim project with the caller's token", () => post(stopOf(VICTIM, victim()))],
    [
      "an encoded slash joining the victim's path",
      () => post(`/v2/${PROJECT}/tasks/${victim()}%2F..%2F..%2F${VICTIM}/stop`),
    ],
    [
      'JSON injection in the body of a stop',
      () =>
        post(
          stopOf(PROJECT, victim()),
          ['Content-Type: application/json'],
          `{"project_id":"${VICTIM}","status":3}`,
        ),
    ],
    ...['\u0000', '\ud800', '\udc00x'].map((text): [string, () => Hostile] => [
      `a create whose bucket holds ${JSON.stringify(text)}: 400, nothing stored`,
      () => ({
        method: 'POST',
        target: `/v2/${CREATE_PROJECT}/tasks`,
        headers: [`X-Auth-Token: ${createToken}`, 'Content-Type: application/json'],
        body: JSON.stringify({
          src_node: {
            cloud_type: 'Aliyun',
            region: 'r',
            bucket: text,
            ak: 'a',
            sk: 's',
            object_key: ['x'],
          },
          dst_node: { region: 'r', bucket: 'b', ak: 'a', sk: 's' },
        }),
      }),
    ]),
  ];
  for (const [name, make] of corpus) {
    test(name, async () => {
      await check(make());
      await assertNothingChanged();
    });
  }

  test('bytes that are not HTTP at all, 200 kinds', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), async (bytes) => {
        cases++;
        const outcome = await rawExchange(t.port, {
          // Terminated, so the parser is not left waiting for more.
          chunks: [Buffer.concat([Buffer.from(bytes), Buffer.from('\r\n\r\n')])],
          timeoutMs: ANSWER_BOUND_MS,
        });
        // A head that happens to parse as a request is a request: judged as one.
        assertRefused(outcome, { method: 'GET', target: '?', headers: [], body: '' });
      }),
      { seed: SEED + 2, numRuns: 200, endOnFailure: true },
    );
    await assertNothingChanged();
  });
});

describe('bodies costly in shape, on every route, with a token and without', () => {
  // Deep, wide, many keys, long: each nearly the 1 MiB body limit, and 5,000
  // levels in 10 KB (which overflowed class-transformer's stack: a 500). A
  // route that reads its body refuses such a shape with 400 OMS.0064 once the
  // caller is authenticated; one that does not, and an unknown path, answer
  // as they would with no body. Without a token, 401 whatever the body.
  const NEAR_MIB = 1024 * 1024 - 4096;
  const deep = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
  const keys = (n: number) => Array.from({ length: n }, (_, i) => `"k${i}":0`).join(',');
  const LONG = JSON.stringify('a'.repeat(NEAR_MIB));
  const shapes: [string, string][] = [
    ['5,000 levels of arrays in 10 KB', deep(5000)],
    ['5,000 levels of objects', '{"a":'.repeat(5000) + '1' + '}'.repeat(5000)],
    ['nested arrays, 1 MiB', deep(NEAR_MIB >> 1)],
    ['an array of half a million numbers', `[${'0,'.repeat((NEAR_MIB >> 1) - 1)}0]`],
    ['an object of 80,000 keys', `{${keys(80_000)}}`],
    ['a string of 1 MiB', LONG],
  ];
  const validCreate = JSON.stringify({
    src_node: {
      cloud_type: 'Aliyun',
      region: 'r',
      bucket: 'b',
      ak: 'a',
      sk: 's',
      object_key: ['x'],
    },
    dst_node: { region: 'r', bucket: 'b', ak: 'a', sk: 's' },
  });
  /** A shape alone, and in an otherwise valid create: as a known field, and an unknown one. */
  const bodies = (readsBody: boolean): [string, string][] =>
    shapes.flatMap(([what, shape]): [string, string][] => {
      if (!readsBody) return [[what, shape]];
      const within = (key: string) => `{"${key}":${shape},${validCreate.slice(1)}`;
      const wrapped: [string, string][] = [
        [what, shape],
        [`${what} as the description of a create`, within('description')],
      ];
      // A long string in a field nobody reads makes a valid create.
      if (shape !== LONG) wrapped.push([`${what} in an unknown field of a create`, within('x')]);
      return wrapped;
    });
  type Route = 'reads its body' | 'ignores its body' | 'workers only' | 'unknown';
  const LEASE = '00000000-0000-4000-8000-000000000000';
  // {id}: a task of the victim's, out of reach of PROJECT's token.
  const routes: [string, string, Route][] = [
    ['POST', `/v2/${PROJECT}/tasks`, 'reads its body'],
    ['POST', `/v2/${PROJECT}/tasks/{id}/start`, 'reads its body'],
    ['PUT', `/v2/${PROJECT}/tasks/{id}/bandwidth-policy`, 'reads its body'],
    ['POST', `/v2/${PROJECT}/tasks/{id}/stop`, 'ignores its body'],
    ['DELETE', `/v2/${PROJECT}/tasks/{id}`, 'ignores its body'],
    ['GET', `/v2/${PROJECT}/tasks/{id}`, 'ignores its body'],
    ['GET', `/v2/${PROJECT}/tasks`, 'ignores its body'],
    ['POST', `/v2/${PROJECT}/tasks/batch-update`, 'reads its body'],
    ['GET', `/v2/${PROJECT}/objectstorage/cloud-type?type=src`, 'ignores its body'],
    ['GET', `/v2/${PROJECT}/objectstorage/data-center`, 'ignores its body'],
    // Task groups ({id} names no group of PROJECT's: 404 once past the body).
    ['POST', `/v2/${PROJECT}/taskgroups`, 'reads its body'],
    ['PUT', `/v2/${PROJECT}/taskgroups/{id}/start`, 'reads its body'],
    ['PUT', `/v2/${PROJECT}/taskgroups/{id}/retry`, 'reads its body'],
    ['PUT', `/v2/${PROJECT}/taskgroups/{id}/update`, 'reads its body'],
    ['PUT', `/v2/${PROJECT}/taskgroups/{id}/stop`, 'ignores its body'],
    ['DELETE', `/v2/${PROJECT}/taskgroups/{id}`, 'ignores its body'],
    ['GET', `/v2/${PROJECT}/taskgroups/{id}`, 'ignores its body'],
    ['GET', `/v2/${PROJECT}/taskgroups`, 'ignores its body'],
    // {sid}: a sync task of the victim's.
    ['POST', `/v2/${PROJECT}/sync-tasks`, 'reads its body'],
    ['POST', `/v2/${PROJECT}/sync-tasks/{sid}/start`, 'reads its body'],
    ['POST', `/v2/${PROJECT}/sync-tasks/{sid}/events`, 'reads its body'],
    ['POST', `/v2/${PROJECT}/sync-tasks/{sid}/stop`, 'ignores its body'],
    ['DELETE', `/v2/${PROJECT}/sync-tasks/{sid}`, 'ignores its body'],
    ['GET', `/v2/${PROJECT}/sync-tasks/{sid}`, 'ignores its body'],
    ['GET', `/v2/${PROJECT}/sync-tasks/{sid}/statistics`, 'ignores its body'],
    ['GET', `/v2/${PROJECT}/sync-tasks`, 'ignores its body'],
    // The data plane's protocol: a tenant's token is refused (403) before
    // the body is read.
    ['POST', '/v2/workers/w1/leases', 'workers only'],
    ['POST', `/v2/workers/w1/leases/${LEASE}/heartbeat`, 'workers only'],
    ['POST', `/v2/workers/w1/leases/${LEASE}/outcome`, 'workers only'],
    ['POST', `/v2/${PROJECT}/no-such-route`, 'unknown'],
    ['POST', '/', 'unknown'],
  ];
  test('5,000 levels of nesting in a 10 KB create, with a valid token: 400 OMS.0064, not 500', async () => {
    const created = () =>
      t.db.query('SELECT id FROM tasks WHERE project_id = $1', [CREATE_PROJECT]);
    const tasksBefore = (await created()).rows;
    // 10 KB of arrays, and the same depth of objects (25 KB).
    for (const shape of [shapes[0][1], shapes[1][1]]) {
      const h: Hostile = {
        method: 'POST',
        target: `/v2/${CREATE_PROJECT}/tasks`,
        headers: [`X-Auth-Token: ${createToken}`, 'Content-Type: application/json'],
        body: `{"x":${shape},${validCreate.slice(1)}`,
      };
      assert.equal(await check(h), '400 OMS.0064');
    }
    assert.deepEqual((await created()).rows, tasksBefore);
    await assertNothingChanged();
  });

  for (const [method, path, route] of routes) {
    const readsBody = route === 'reads its body';
    for (const withToken of [false, true]) {
      test(`${method} ${path}, ${withToken ? 'a valid token' : 'no token'}`, async () => {
        for (const [what, body] of bodies(readsBody)) {
          const headers = ['Content-Type: application/json'];
          if (withToken) headers.push(`X-Auth-Token: ${validToken}`);
          const h: Hostile = {
            method,
            target: path.replace('{id}', victimIds[1]).replace('{sid}', victimSyncId),
            headers,
            body,
          };
          // Listing PROJECT's tasks (none) is a read a token may make.
          const answer = await check(h, method === 'GET');
          if (route === 'unknown') assert.equal(answer, '404 APIGW.0101', what);
          else if (!withToken) assert.equal(answer, '401 APIGW.0301', what);
          // RetryTaskGroupReq requires no field: a create around the shape is
          // a body of fields it does not read; unless the shape itself is
          // refused (too deep), it is taken and the group ({id}, none of
          // PROJECT's) is missing. Either way nothing changes.
          else if (readsBody && path.endsWith('/retry') && what.endsWith('of a create')) {
            assert.ok(['400 OMS.0064', '404 OMS.1009'].includes(answer), `${what}: ${answer}`);
          } else if (readsBody) assert.equal(answer, '400 OMS.0064', what);
          else if (route === 'workers only') assert.equal(answer, '403 OMS.0206', what);
        }
        await assertNothingChanged();
      });
    }
  }
});

describe('slow clients are cut off (REQUEST_TIMEOUT_MS)', () => {
  // Past the limit the server answers 408 or closes; a slow client never
  // holds a connection much longer than the limit.
  const BOUND_MS = REQUEST_TIMEOUT_MS + 5000;
  const head = (extra: string[]) =>
    latin1(
      [
        `POST /v2/${PROJECT}/tasks/1/stop HTTP/1.1`,
        'Host: 127.0.0.1',
        `X-Auth-Token: ${validToken}`,
        ...extra,
        '',
        '',
      ].join('\r\n'),
    );

  async function assertCutOff(chunks: Buffer[], gapMs: number) {
    cases++;
    const outcome = await rawExchange(t.port, { chunks, gapMs, timeoutMs: BOUND_MS + 5000 });
    assert.notEqual(outcome.kind, 'timeout', 'the slow client was never cut off');
    assert.ok(outcome.ms < BOUND_MS, `cut off only after ${outcome.ms} ms`);
    if (outcome.kind === 'answer') {
      assert.ok([400, 408].includes(outcome.status), `${outcome.status} ${outcome.body}`);
      assert.equal(JSON.parse(outcome.body).error_code, 'OMS.0064');
    }
    await assertNothingChanged();
    return outcome;
  }

  test('headers trickled one byte every 100 ms (slowloris)', async () => {
    const bytes = head([]);
    const chunks = [...bytes.subarray(0, 400)].map((byte) => Buffer.from([byte]));
    const outcome = await assertCutOff(chunks, 100);
    assert.ok(outcome.ms >= REQUEST_TIMEOUT_MS - 100, `cut off after only ${outcome.ms} ms`);
  });

  test('headers complete, a declared body that trickles in', async () => {
    const chunks = [head(['Content-Length: 500']), ...Array(100).fill(Buffer.from('a'))];
    await assertCutOff(chunks, 100);
  });

  test('headers complete, a declared body that never comes', async () => {
    await assertCutOff([head(['Content-Length: 500'])], 0);
  });

  test('a connection that sends nothing', async () => {
    await assertCutOff([Buffer.alloc(0)], 0);
  });

  test('the limit is on receiving the request, not on answering it: a slow IAM still gets 200', async () => {
    const id = await insertTask(t.db, PROJECT, TaskStatus.Migrating);
    const token = t.keystone.issue({ projectId: PROJECT, userId: 'u-slow' });
    t.keystone.delayMs = REQUEST_TIMEOUT_MS + 500;
    try {
      const outcome = await rawExchange(t.port, {
        chunks: [
          latin1(
            [
              `POST /v2/${PROJECT}/tasks/${id}/stop HTTP/1.1`,
              'Host: 127.0.0.1',
              `X-Auth-Token: ${token}`,
              'Connection: close',
              '',
              '',
            ].join('\r\n'),
          ),
        ],
        timeoutMs: ANSWER_BOUND_MS,
      });
      assert.equal(outcome.kind === 'answer' && outcome.status, 200, JSON.stringify(outcome));
      await assertPaused(t.db, id, { projectId: PROJECT, userId: 'u-slow' });
    } finally {
      t.keystone.delayMs = 0;
      await t.db.query('DELETE FROM task_transitions WHERE task_id = $1', [id]);
      await t.db.query('DELETE FROM tasks WHERE id = $1', [id]);
    }
    await assertNothingChanged();
  });
});
