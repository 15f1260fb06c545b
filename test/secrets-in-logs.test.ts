// No secret ever leaves in a log line or an answer. The service runs as a
// process of its own at the most talkative log level; it is driven through
// success, refusals, IAM failing and slow, the database cut off, and an
// unexpected fault, with tokens, access keys, secret keys and a database
// password that are all unmistakable. Then every byte it wrote and every
// answer it gave is searched for them.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { TaskStatus } from '../src/tasks/task-state.js';
import { FakeKeystone } from './support/fake-keystone.js';
import {
  killServiceProcess,
  startServiceProcess,
  TEST_SECRETS_KEY,
  type ServiceProcess,
} from './support/service-process.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { insertTask, testDatabaseUrl } from './support/test-app.js';

const PROJECT = 'secrets-project';
const secret = (label: string) => `${label}${randomBytes(12).toString('hex')}`;

const AK = secret('AKSECRET');
const SK = secret('SKSECRET');
const DB_PASSWORD = secret('dbpass');
/** A sync task's other secrets: an Azure connection string and a CDN key. */
const CONNECTION_STRING = `DefaultEndpointsProtocol=https;AccountKey=${secret('CONNSECRET')}`;
const CDN_KEY = secret('CDNSECRET');
/** Every token the test sends; the service may never repeat one. */
const tokens: string[] = [];

let keystone: FakeKeystone;
let proxy: TcpProxy;
let db: pg.Pool;
let service: ServiceProcess;
let base: string;
/** Everything the service answered: status line, headers and body. */
const answers: string[] = [];

before(async () => {
  keystone = await FakeKeystone.start();
  db = new pg.Pool({ connectionString: testDatabaseUrl(), max: 2 });
  await db.query('DELETE FROM task_transitions WHERE project_id = $1', [PROJECT]);
  await db.query('DELETE FROM tasks WHERE project_id = $1', [PROJECT]);
  await db.query('DELETE FROM task_groups WHERE project_id = $1', [PROJECT]);
  await db.query('DELETE FROM sync_task_transitions WHERE project_id = $1', [PROJECT]);
  await db.query('DELETE FROM sync_tasks WHERE project_id = $1', [PROJECT]);
  proxy = await TcpProxy.inFrontOf(testDatabaseUrl());
  // The test server trusts every local connection, so any password works:
  // one is there only to be searched for.
  const viaProxy = new URL(proxy.urlThrough(testDatabaseUrl()));
  viaProxy.username = 'postgres';
  viaProxy.password = DB_PASSWORD;
  service = startServiceProcess({
    NODE_ENV: 'production',
    DATABASE_URL: viaProxy.toString(),
    IAM_ENDPOINT: keystone.endpoint,
    IAM_TIMEOUT_MS: '300',
    DATABASE_CONNECT_TIMEOUT_MS: '500',
    DATABASE_STATEMENT_TIMEOUT_MS: '500',
    LOG_LEVEL: 'verbose',
  });
  base = `http://127.0.0.1:${await service.port}`;
});
after(async () => {
  await killServiceProcess(service);
  await proxy.stop();
  await db.end();
  await keystone.stop();
});

function issue(options: Parameters<FakeKeystone['issue']>[0] = {}): string {
  const token = keystone.issue({ projectId: PROJECT, userId: 'u-secrets', ...options });
  tokens.push(token);
  return token;
}

async function send(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<number> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  answers.push(`${res.status}\n${[...res.headers].map((h) => h.join(': ')).join('\n')}\n${text}`);
  return res.status;
}

const stopPath = (id: string | number) => `/v2/${PROJECT}/tasks/${id}/stop`;
const migrating = () => insertTask(db, PROJECT, TaskStatus.Migrating);

/** A body carrying credentials, as a create-task request does. */
const credentialsBody = JSON.stringify({
  name: 'with-credentials',
  src_node: { region: 'r', ak: AK, sk: SK, bucket: 'b' },
  dst_node: { region: 'r', ak: AK, sk: SK, bucket: 'b' },
});

test('success and refusals', async () => {
  const good = issue();
  const json = { 'Content-Type': 'application/json' };
  assert.equal(await send('POST', stopPath(await migrating()), { 'X-Auth-Token': good }), 200);
  assert.equal(
    await send(
      'POST',
      stopPath(await migrating()),
      { 'X-Auth-Token': good, ...json },
      credentialsBody,
    ),
    200,
  );
  // Already paused, no such task, unknown route, wrong project.
  assert.equal(await send('POST', stopPath(999_999_999), { 'X-Auth-Token': good }), 400);
  assert.equal(await send('GET', `/v2/${PROJECT}/nothing`, { 'X-Auth-Token': good }), 404);
  assert.equal(
    await send('POST', stopPath(await migrating()), {
      'X-Auth-Token': issue({ projectId: 'other' }),
    }),
    403,
  );
  assert.equal(
    await send('POST', stopPath(await migrating()), {
      'X-Auth-Token': issue({ roles: ['reader'] }),
    }),
    403,
  );
  // Bodies with credentials on routes that may or may not exist.
  for (const path of [`/v2/${PROJECT}/tasks`, `/v2/${PROJECT}/tasks/1`]) {
    const status = await send(
      'POST',
      path,
      { 'X-Auth-Token': secret('tok'), ...json },
      credentialsBody,
    );
    assert.ok(status >= 400 && status < 500, `${status} for POST ${path}`);
  }
});

test('task groups: create, a refused create, show, stop, start, all with keys and a CDN key', async () => {
  const headers = { 'X-Auth-Token': issue(), 'Content-Type': 'application/json' };
  const group = {
    src_node: { region: 'r', bucket: 'b', ak: AK, sk: SK, object_key: ['a/', 'b/'] },
    dst_node: { region: 'r', bucket: 'd', ak: AK, sk: SK },
    source_cdn: { domain: 'cdn.example.com', protocol: 'https', authentication_key: CDN_KEY },
  };
  const created = await fetch(`${base}/v2/${PROJECT}/taskgroups`, {
    method: 'POST',
    headers,
    body: JSON.stringify(group),
  });
  const text = await created.text();
  answers.push(text);
  assert.equal(created.status, 200, text);
  const groups = `/v2/${PROJECT}/taskgroups`;
  const id = JSON.parse(text).group_id;
  const refused = JSON.stringify({ ...group, description: 'x'.repeat(300) });
  assert.equal(await send('POST', groups, headers, refused), 400);
  const badCdn = JSON.stringify({ ...group, source_cdn: { ...group.source_cdn, protocol: 'ftp' } });
  assert.equal(await send('POST', groups, headers, badCdn), 400);
  assert.equal(await send('GET', `${groups}/${id}`, headers), 200);
  assert.equal(await send('PUT', `${groups}/${id}/stop`, headers), 200);
  const keys = JSON.stringify({
    src_ak: AK,
    src_sk: SK,
    dst_ak: AK,
    dst_sk: SK,
    source_cdn_authentication_key: CDN_KEY,
  });
  assert.equal(await send('PUT', `${groups}/${id}/start`, headers, keys), 200);
  assert.equal(await send('PUT', `${groups}/${id}/retry`, headers, keys), 400);
  // Never in clear in the database either: the group's row nor its tasks'.
  const { rows: groupRows } = await db.query('SELECT * FROM task_groups WHERE id = $1', [id]);
  const { rows: taskRows } = await db.query(
    'SELECT * FROM tasks JOIN task_details ON task_id = id WHERE group_id = $1',
    [id],
  );
  for (const row of [...groupRows, ...taskRows]) {
    const stored = JSON.stringify(row) + row.secrets.toString('latin1');
    for (const value of [AK, SK, CDN_KEY]) {
      assert.ok(!stored.includes(value), 'a group secret in clear in the database');
    }
  }
});

test('bad tokens: unknown, expired, revoked, malformed, over-long', async () => {
  const unknown = secret('unknowntoken');
  tokens.push(unknown);
  assert.equal(await send('POST', stopPath(await migrating()), { 'X-Auth-Token': unknown }), 401);
  const expired = issue({ expiresAt: Date.now() - 1000 });
  assert.equal(await send('POST', stopPath(await migrating()), { 'X-Auth-Token': expired }), 401);
  const revoked = issue();
  keystone.revoke(revoked);
  assert.equal(await send('POST', stopPath(await migrating()), { 'X-Auth-Token': revoked }), 401);
  const malformed = `${secret('malformed')}\u00e9`;
  tokens.push(malformed.slice(0, -1));
  const encoded = Buffer.from(malformed, 'latin1').toString('latin1');
  assert.equal(await send('POST', stopPath(await migrating()), { 'X-Auth-Token': encoded }), 401);
  const long = secret('longtoken').padEnd(16_385, 'x');
  tokens.push(long.slice(0, 40));
  assert.equal(await send('POST', stopPath(await migrating()), { 'X-Auth-Token': long }), 400);
  // An access-key signature the service does not take (yet): no AK in the logs.
  const signed = `SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=host, Signature=${secret('sig')}`;
  assert.equal(await send('POST', stopPath(await migrating()), { Authorization: signed }), 401);
});

test('IAM failing and slow: 503', async () => {
  keystone.mode = 'error';
  assert.equal(await send('POST', stopPath(await migrating()), { 'X-Auth-Token': issue() }), 503);
  keystone.mode = 'hang';
  assert.equal(await send('POST', stopPath(await migrating()), { 'X-Auth-Token': issue() }), 503);
  keystone.mode = 'reset';
  assert.equal(await send('POST', stopPath(await migrating()), { 'X-Auth-Token': issue() }), 503);
  keystone.mode = 'ok';
});

test('the database cut off: 503; an unexpected fault: 500', async () => {
  const token = issue();
  assert.equal(await send('POST', stopPath(await migrating()), { 'X-Auth-Token': token }), 200);
  const id = await migrating();
  proxy.cut();
  try {
    assert.equal(await send('POST', stopPath(id), { 'X-Auth-Token': token }, credentialsBody), 503);
  } finally {
    proxy.restore();
  }
  // NOT VALID: existing rows are not checked, every new one is refused.
  await db.query(
    'ALTER TABLE task_transitions ADD CONSTRAINT test_secrets CHECK (false) NOT VALID',
  );
  try {
    assert.equal(await send('POST', stopPath(id), { 'X-Auth-Token': token }), 500);
  } finally {
    await db.query('ALTER TABLE task_transitions DROP CONSTRAINT test_secrets');
  }
});

test('sync tasks: created, refused, stopped, started, with every kind of secret', async () => {
  const good = issue();
  const json = { 'X-Auth-Token': good, 'Content-Type': 'application/json' };
  const syncBody = (overrides: Record<string, unknown> = {}) =>
    JSON.stringify({
      src_cloud_type: 'Azure',
      src_region: 'r',
      src_bucket: 'b',
      src_ak: AK,
      src_sk: CONNECTION_STRING,
      dst_ak: AK,
      dst_sk: SK,
      dst_region: 'r',
      dst_bucket: 'b',
      source_cdn: { domain: 'cdn.example.com', protocol: 'https', authentication_key: CDN_KEY },
      ...overrides,
    });
  const res = await fetch(`${base}/v2/${PROJECT}/sync-tasks`, {
    method: 'POST',
    headers: json,
    body: syncBody(),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  answers.push(`${res.status}\n${text}`);
  assert.equal(res.status, 200, text);
  const id = JSON.parse(text).sync_task_id as string;
  const path = `/v2/${PROJECT}/sync-tasks/${id}`;
  // Refusals carrying the secrets: a bad field, another project, a start while running.
  assert.equal(
    await send('POST', `/v2/${PROJECT}/sync-tasks`, json, syncBody({ src_region: 7 })),
    400,
  );
  assert.equal(
    await send('POST', `/v2/other/sync-tasks`, { ...json, 'X-Auth-Token': good }, syncBody()),
    403,
  );
  const keys = JSON.stringify({ src_ak: AK, src_sk: CONNECTION_STRING, dst_ak: AK, dst_sk: SK });
  assert.equal(await send('POST', `${path}/start`, json, keys), 400);
  assert.equal(await send('POST', `${path}/stop`, { 'X-Auth-Token': good }), 200);
  assert.equal(await send('POST', `${path}/start`, json, keys), 200);
  assert.equal(
    await send('GET', `${path}?query_time=${Date.now()}`, { 'X-Auth-Token': good }),
    200,
  );
  assert.equal(await send('GET', `/v2/${PROJECT}/sync-tasks`, { 'X-Auth-Token': good }), 200);
  // Never in clear in the database either.
  const { rows } = await db.query('SELECT * FROM sync_tasks WHERE id = $1', [id]);
  const stored = JSON.stringify(rows[0]) + rows[0].secrets.toString('latin1');
  for (const value of [AK, SK, CONNECTION_STRING, CDN_KEY]) {
    assert.ok(!stored.includes(value), 'a sync-task secret in clear in the database');
  }
});

test("a worker's lease: the keys reach the worker's answer, and nowhere else", async () => {
  const token = issue();
  const create = JSON.stringify({
    src_node: {
      cloud_type: 'Aliyun',
      region: 'cn-hangzhou',
      ak: AK,
      sk: SK,
      bucket: 'src',
      object_key: ['a.txt'],
    },
    dst_node: { region: 'cn-north-4', ak: AK, sk: SK, bucket: 'dst' },
  });
  const json = { 'X-Auth-Token': token, 'Content-Type': 'application/json' };
  assert.equal(await send('POST', `/v2/${PROJECT}/tasks`, json, create), 200, answers.at(-1));
  await db.query('UPDATE tasks SET status = 2 WHERE project_id = $1 AND status = 1', [PROJECT]);
  const worker = issue({ roles: ['oms_worker'] });
  // The one answer meant to carry keys: not among the answers searched below.
  const res = await fetch(`${base}/v2/workers/secrets-worker/leases`, {
    method: 'POST',
    headers: { 'X-Auth-Token': worker, 'Content-Type': 'application/json' },
    body: JSON.stringify({ max_tasks: 100 }),
    signal: AbortSignal.timeout(10_000),
  });
  const { leases } = (await res.json()) as { leases: { keys: Record<string, string> }[] };
  assert.ok(leases.some((lease) => lease.keys.src_ak === AK && lease.keys.dst_sk === SK));
  // A tenant asking the same is refused, and its answer is searched.
  assert.equal(
    await send('POST', '/v2/workers/secrets-worker/leases', { 'X-Auth-Token': token }, '{}'),
    403,
  );
});

test('none of the secrets is in any log line or any answer', async () => {
  // Log lines are written once per event-loop turn; at exit, all of them.
  service.child.kill('SIGTERM');
  await service.exited;
  const output = service.output();
  assert.match(output, /unexpected fault/, 'the 500 was logged (the search covers error logs)');
  assert.match(output, /unavailable/, 'the 503s were logged');
  for (const [where, text] of [
    ['the logs', output],
    ['the answers', answers.join('\n')],
  ] as const) {
    for (const value of [
      ...tokens,
      AK,
      SK,
      CONNECTION_STRING,
      CDN_KEY,
      DB_PASSWORD,
      TEST_SECRETS_KEY,
    ]) {
      assert.ok(!text.includes(value), `${where} contain a secret (${value.slice(0, 12)}…)`);
    }
  }
  console.log(
    `searched ${output.length} bytes of logs and ${answers.length} answers ` +
      `for ${tokens.length + 4} secrets`,
  );
});
