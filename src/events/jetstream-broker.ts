// The relay's side of NATS: one connection, the streams it publishes to,
// and publishing a batch so that the stream can never hold it out of order.
// Every message of a batch names, as the message it must follow
// (Nats-Expected-Last-Msg-Id), the one before it; JetStream checks its
// duplicate window first, so a message already stored answers "duplicate"
// and one whose predecessor was lost (a connection dropped mid-batch, the
// rest resent after the reconnect) is refused instead of stored after a
// hole. On any refusal the relay reads where the stream really is and goes
// on from there (event-relay.ts).

import {
  connect,
  Events,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
} from 'nats';
import type { EventsConfig } from '../config/config.js';
import type { OutgoingMessage } from './event-messages.js';

/** JetStream drops a message whose id it saw within this window (brief: 2 min). */
export const DUPLICATE_WINDOW_MS = 120_000;

/** How long a publish waits for its acknowledgement before the batch is retried. */
const PUBLISH_TIMEOUT_MS = 3000;

const nanos = (ms: number) => ms * 1_000_000;

export class JetStreamBroker {
  private connected = true;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    onConnection: (connected: boolean) => void,
  ) {
    onConnection(true);
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type !== Events.Disconnect && status.type !== Events.Reconnect) continue;
        this.connected = status.type === Events.Reconnect;
        onConnection(this.connected);
      }
    })().catch(() => undefined);
  }

  /**
   * Connects once (the relay retries); afterwards the client reconnects by
   * itself, for ever, and tells `onConnection` each time the link goes or comes.
   */
  static async connect(
    config: EventsConfig,
    onConnection: (connected: boolean) => void,
  ): Promise<JetStreamBroker> {
    const nc = await connect({
      servers: [...config.natsServers],
      name: 'oms-events-relay',
      ...(config.natsUser !== undefined && { user: config.natsUser, pass: config.natsPassword }),
      ...(config.natsToken !== undefined && { token: config.natsToken }),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      reconnectJitter: 100,
      // A broker that hangs without closing the socket is noticed in seconds.
      pingInterval: 2000,
      maxPingOut: 2,
      timeout: 2000,
    });
    try {
      return new JetStreamBroker(nc, nc.jetstream(), await nc.jetstreamManager(), onConnection);
    } catch (error) {
      await nc.close().catch(() => undefined);
      throw error;
    }
  }

  /** Whether the connection is up now (publishing while it is down only waits for timeouts). */
  get isConnected(): boolean {
    return this.connected && !this.nc.isClosed();
  }

  /** Creates the stream if it is missing; an existing one keeps its settings but the window. */
  async ensureStream(name: string, subjects: readonly string[]): Promise<void> {
    const wanted = { subjects: [...subjects], duplicate_window: nanos(DUPLICATE_WINDOW_MS) };
    let existing;
    try {
      existing = await this.jsm.streams.info(name);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await this.jsm.streams.add({ name, ...wanted });
      return;
    }
    if (existing.config.duplicate_window !== wanted.duplicate_window) {
      await this.jsm.streams.update(name, { ...existing.config, ...wanted });
    }
  }

  /** The Nats-Msg-Id of the stream's last message, if it has one. */
  async lastMessageId(stream: string): Promise<string | undefined> {
    const { state } = await this.jsm.streams.info(stream);
    if (state.messages === 0) return undefined;
    try {
      const message = await this.jsm.streams.getMessage(stream, { seq: state.last_seq });
      return message.header.get('Nats-Msg-Id') || undefined;
    } catch (error) {
      if (isNotFound(error)) return undefined; // removed in between
      throw error;
    }
  }

  /**
   * Publishes the messages in order, each expected to follow the one before
   * (the first `after`, when given); all are sent at once and their
   * acknowledgements awaited together. Throws the first refusal.
   */
  async publishInOrder(messages: readonly OutgoingMessage[], after?: string): Promise<void> {
    const acks = messages.map((message, index) => {
      const previous = index === 0 ? after : messages[index - 1].messageId;
      return this.js.publish(message.subject, message.payload, {
        msgID: message.messageId,
        timeout: PUBLISH_TIMEOUT_MS,
        ...(previous !== undefined && { expect: { lastMsgID: previous } }),
      });
    });
    await firstFailure(acks);
  }

  /** Publishes messages that need no order among them (notifications), once each by id. */
  async publishEach(messages: readonly OutgoingMessage[]): Promise<void> {
    await firstFailure(
      messages.map((message) =>
        this.js.publish(message.subject, message.payload, {
          msgID: message.messageId,
          timeout: PUBLISH_TIMEOUT_MS,
        }),
      ),
    );
  }

  async close(): Promise<void> {
    await this.nc.close().catch(() => undefined);
  }
}

/** Waits for all (so none is left unhandled), then throws the first failure. */
async function firstFailure(pending: Promise<unknown>[]): Promise<void> {
  const settled = await Promise.allSettled(pending);
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

function isNotFound(error: unknown): boolean {
  const { code, api_error } = error as { code?: string; api_error?: { err_code?: number } };
  // 10059: stream not found; 10037: no message found.
  return code === '404' || api_error?.err_code === 10059 || api_error?.err_code === 10037;
}
