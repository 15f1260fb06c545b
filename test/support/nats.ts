// NATS for the events tests: the machine's broker (127.0.0.1:4222, with
// JetStream) for the plain ones, each test file under stream names and a
// subject prefix of its own; or a private nats-server on a free port with
// its own store directory, for the tests that stop and start the broker.
// Reading a stream back from its first message to its last is how a test
// sees exactly what was stored: every event once, in order.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { waitUntil } from './wait-until.js';

export const MACHINE_NATS_URL = 'nats://127.0.0.1:4222';
const NATS_SERVER = '/usr/sbin/nats-server';

/** Stream names and a subject prefix no other test file (or run) shares. */
export function eventsEnv(natsUrl: string, extra: Record<string, string> = {}) {
  const tag = randomBytes(4).toString('hex');
  return {
    streamPrefix: `T${tag.toUpperCase()}`,
    subjectPrefix: `t${tag}`,
    env: {
      EVENTS_NATS_URL: natsUrl,
      EVENTS_STREAM_PREFIX: `T${tag.toUpperCase()}`,
      EVENTS_SUBJECT_PREFIX: `t${tag}`,
      ...extra,
    } as Record<string, string>,
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** A nats-server of the test's own, which it can stop and start again on the same port and store. */
export class PrivateNats {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly storeDir: string,
  ) {}

  static async start(): Promise<PrivateNats> {
    const nats = new PrivateNats(await freePort(), mkdtempSync(join(tmpdir(), 'oms-nats-')));
    await nats.start();
    return nats;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const args = ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir];
    this.child = spawn(NATS_SERVER, args, { stdio: 'ignore' });
    await waitUntil(`nats-server on port ${this.port}`, () => answers(this.port));
  }

  /** SIGKILL: the broker vanishes as in a crash (what JetStream acknowledged is on disk). */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.child = undefined;
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}

export interface StoredMessage {
  seq: number;
  subject: string;
  msgId: string | undefined;
  data: Record<string, unknown>;
}

/** A client connection for reading streams and subscribing, as a worker would. */
export async function natsClient(url: string): Promise<NatsConnection> {
  return connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
}

/** Every message of the stream, first to last; none if the stream is not there yet. */
export async function streamMessages(nc: NatsConnection, stream: string): Promise<StoredMessage[]> {
  const jsm = await nc.jetstreamManager({ checkAPI: false });
  let last: number;
  try {
    last = (await jsm.streams.info(stream)).state.last_seq;
  } catch {
    return [];
  }
  const messages: StoredMessage[] = [];
  for (let seq = 1; seq <= last; seq++) {
    const message = await jsm.streams.getMessage(stream, { seq });
    messages.push({
      seq,
      subject: message.subject,
      msgId: message.header.get('Nats-Msg-Id') || undefined,
      data: JSON.parse(Buffer.from(message.data).toString('utf8')) as Record<string, unknown>,
    });
  }
  return messages;
}

/**
 * How many messages the stream holds: 0 if it is not there yet, -1 while
 * JetStream does not answer (a broker just restarted is not ready at once).
 */
export async function streamCount(nc: NatsConnection, stream: string): Promise<number> {
  try {
    const jsm = await nc.jetstreamManager({ checkAPI: false });
    return (await jsm.streams.info(stream)).state.messages;
  } catch (error) {
    return (error as { code?: string }).code === '404' ? 0 : -1;
  }
}

/** Removes the test's streams from the shared broker. */
export async function deleteStreams(nc: NatsConnection, prefix: string): Promise<void> {
  const jsm = await nc.jetstreamManager();
  for (const name of ['TASK_EVENTS', 'SYNC_TASK_EVENTS', 'TASK_GROUP_EVENTS', 'NOTIFICATIONS']) {
    await jsm.streams.delete(`${prefix}_${name}`).catch(() => undefined);
  }
}
