// While the events relay cannot reach NATS it retries once per retry pause
// (RELAY_RETRY_MS), whatever the API does meanwhile. Each commit wakes the
// relay; a wake used to end the pause too, so during an outage every stop
// started a connection attempt of its own, and under load the API stalled
// (events-faults.test.ts saw it). Here "NATS" is a listener that counts
// connections and closes each at once.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, test } from 'node:test';
import { RELAY_RETRY_MS } from '../src/events/event-relay.js';
import { TaskStatus } from '../src/tasks/task-state.js';
import { stop } from './support/stop-checks.js';
import { insertTask, startTestApp, type TestApp } from './support/test-app.js';
import { waitUntil } from './support/wait-until.js';

const PROJECT = 'events-retry';

let refuser: Server;
let attempts = 0;
let t: TestApp;

before(async () => {
  refuser = createServer((socket) => {
    attempts++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => refuser.listen(0, '127.0.0.1', resolve));
  const { port } = refuser.address() as { port: number };
  t = await startTestApp({
    env: { EVENTS_NATS_URL: `nats://127.0.0.1:${port}`, EVENTS_STREAM_PREFIX: 'RETRY' },
  });
});
after(async () => {
  await t.close();
  await new Promise((resolve) => refuser.close(resolve));
});

test('a burst of stops during an outage costs the relay no extra attempts', async () => {
  await waitUntil('the relay to try NATS', () => attempts > 0);
  const token = t.keystone.issue({ projectId: PROJECT });
  const ids: string[] = [];
  for (let i = 0; i < 60; i++) ids.push(await insertTask(t.db, PROJECT, TaskStatus.Migrating));
  const before = attempts;
  const started = Date.now();
  for (const id of ids) assert.equal((await stop(t, PROJECT, id, token)).status, 200);
  const elapsed = Date.now() - started;
  // One attempt per pause, and one more for a pause under way at the start.
  const allowed = Math.floor(elapsed / RELAY_RETRY_MS) + 2;
  assert.ok(
    attempts - before <= allowed,
    `${attempts - before} connection attempts during ${ids.length} stops in ${elapsed} ms ` +
      `(at most ${allowed} expected)`,
  );
});
