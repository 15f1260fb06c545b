// The events relay: publishes every audit row (outboxes.ts) to JetStream,
// exactly once and in id order per outbox, from whichever replica holds the
// EVENT_RELAY advisory lock. docs/events.md gives the guarantees; this
// comment, the reasons.
//
// One relay at a time. The lock is a session lock on a connection of the
// relay's own, not the pool's: it lasts exactly as long as that session, so
// a replica that crashes or is cut off loses it with its connection, and the
// others, which try every second, take over. Every read and cursor write
// runs on that connection, and the lock is checked on it before each batch
// (in the read that finds the batch).
// Should two relays ever overlap (a lock lost between the check and the
// publish), JetStream still stores each event once and in order: the
// message id drops a second copy, and the expected last message id refuses
// one out of order (jetstream-broker.ts).
//
// Where to resume. The cursor table holds the last id done per outbox,
// written after JetStream acknowledged the batch; a crash between the two
// leaves it one batch behind, so on taking over the relay also reads the
// stream's last message and takes its id when larger. After any failure
// to publish it reads both again before going on.
//
// Gaps. Ids come from a sequence, so a transaction holding a smaller id may
// commit after a larger one is visible, and a rolled-back id never appears.
// The relay publishes the contiguous run after its cursor and stops at the
// first missing id k. It keeps the snapshot of the read that first saw the
// gap (S, taken in the same statement as the rows), and skips k only when
//  - every transaction in progress at S has ended: the oldest one running
//    now is not older than S's xmax. k was handed out before a larger id
//    that S sees committed, so k's transaction had begun by S and is one of
//    those; once it has ended, k is visible now or never will be;
//  - k is still missing in a read whose snapshot comes after that (the same
//    statement again: the check and the rows share one snapshot);
//  - and EVENTS_GAP_GRACE_MS have passed since the gap was first seen, for
//    the one case the first rule misses: a transaction that took k from the
//    sequence but had no transaction id yet when S was taken.
// One snapshot covers every id missing below the largest id its read saw,
// so a run of rolled-back ids costs one grace, not one each.
//
// Latency. The relay reads every EVENTS_POLL_MS (an indexed `id > cursor`
// read per outbox, nothing more when idle) and at once when this replica
// commits a move (the transition observers), so a stop's event leaves
// within a round trip of its commit: the read also checks the lock, and the
// cursor is written beside the loop, not in it. The stop's own statement
// does nothing more.

import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { CLOCK, type Clock } from '../common/clock.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig, EventsConfig } from '../config/config.js';
import { TRY_LOCK_EVENT_RELAY } from '../database/advisory-locks.js';
import { execute, valuesOf, type ParamsOf, type Statement } from '../database/statement.js';
import { Metrics } from '../metrics/metrics.js';
import { TransitionObservers } from '../tasks/transition-observer.js';
import {
  eventMessage,
  notificationMessage,
  subjectUnder,
  type AuditRow,
} from './event-messages.js';
import {
  OUTBOX_TABLE_EXISTS,
  READ_RELAY_CURSOR,
  RECORD_SMN_RESULT,
  SAVE_RELAY_CURSOR,
} from './events.sql.js';
import { JetStreamBroker } from './jetstream-broker.js';
import { idOfMessage, NOTIFICATIONS, OUTBOXES, type Outbox } from './outboxes.js';

/** How often a replica that is not the relay tries for the lock, and a failed step is retried. */
export const RELAY_RETRY_MS = 1000;

/** What readiness says of events (it never fails for them: events wait, the API does not). */
export interface EventsStatus {
  status: 'off' | 'up' | 'down';
  /** This replica is the one relaying. */
  leader: boolean;
}

interface Gap {
  /** The snapshot of the read that first saw it. */
  readonly snapshot: string;
  /** Every missing id up to this one was missing in that snapshot. */
  readonly upTo: bigint;
  readonly since: number;
}

interface OutboxState {
  readonly outbox: Outbox;
  /** Its table is there (false: left out until the relay takes over again). */
  present: boolean;
  /** Cursor and stream position read since the last failure. */
  synced: boolean;
  /** The last id published or skipped. */
  cursor: bigint;
  /** The stream's last message id, which the next publish must follow. */
  lastMessageId: string | undefined;
  gap: Gap | undefined;
}

class LostLeadership extends Error {}

@Injectable()
export class EventRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Events');
  private readonly config: EventsConfig | undefined;
  private readonly states: OutboxState[];
  private session: pg.Client | undefined;
  private leader = false;
  private broker: JetStreamBroker | undefined;
  private stopped = false;
  private woken = false;
  /**
   * In a retry pause (no lock, no broker, a failed round): work arriving does
   * not cut it short, only the broker coming back does. Otherwise every
   * commit during an outage would start a retry of its own (a query, a
   * publish attempt), and the API would pay for the outage.
   */
  private retrying = false;
  private wakeUp: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private roundWaiters: { remaining: number; resolve: () => void }[] = [];
  private cursorWrites: Promise<void> = Promise.resolve();
  /** The last trouble logged, so an outage is logged once, not every second. */
  private lastTrouble: string | undefined;

  constructor(
    @Inject(APP_CONFIG) appConfig: AppConfig,
    private readonly db: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly metrics: Metrics,
    observers: TransitionObservers,
  ) {
    this.config = appConfig.events;
    this.states = OUTBOXES.map((outbox) => ({
      outbox,
      present: false,
      synced: false,
      cursor: 0n,
      lastMessageId: undefined,
      gap: undefined,
    }));
    if (this.config) observers.add({ transitioned: () => this.wake() });
  }

  onApplicationBootstrap(): void {
    if (this.config === undefined) return; // events off: nothing connects to NATS
    this.loop = this.run(this.config);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.recover();
    await this.loop;
    await this.cursorWrites;
    await this.broker?.close();
    await this.session?.end().catch(() => undefined); // releases the lock
  }

  /** Look for new audit rows now (this replica just committed one). */
  wake(): void {
    this.woken = true;
    if (!this.retrying) this.wakeUp?.();
  }

  /** Ends a retry pause at once: the broker is back (or the relay is stopping). */
  private recover(): void {
    this.retrying = false;
    this.woken = true;
    this.wakeUp?.();
  }

  /**
   * Resolves once the relay has been round its loop `rounds` more times
   * (read and published, or found it could not): what a test waits for to
   * know the relay has looked, as the scheduler's whenIdle().
   */
  afterRounds(rounds: number): Promise<void> {
    return new Promise((resolve) => this.roundWaiters.push({ remaining: rounds, resolve }));
  }

  get status(): EventsStatus {
    if (this.config === undefined) return { status: 'off', leader: false };
    if (this.session === undefined) return { status: 'down', leader: false };
    if (!this.leader) return { status: 'up', leader: false };
    return { status: this.broker?.isConnected ? 'up' : 'down', leader: true };
  }

  private async run(config: EventsConfig): Promise<void> {
    while (!this.stopped) {
      let pause = config.pollMs;
      let retry = false;
      try {
        if (await this.ready(config)) {
          if (await this.relayRound(config)) pause = 0;
          this.trouble(undefined);
        } else {
          pause = RELAY_RETRY_MS;
          retry = true;
        }
      } catch (error) {
        if (error instanceof LostLeadership || this.session === undefined) this.resign();
        for (const state of this.states) state.synced = false;
        this.trouble(describe(error));
        pause = RELAY_RETRY_MS;
        retry = true;
      }
      this.roundDone();
      this.retrying = retry;
      await this.sleep(pause);
      this.retrying = false;
    }
  }

  /** Leads, is connected to the broker and knows where each outbox stands; false: not yet. */
  private async ready(config: EventsConfig): Promise<boolean> {
    if (!this.leader && !(await this.tryToLead())) return false;
    if (this.broker === undefined) {
      this.broker = await JetStreamBroker.connect(config, (connected) => {
        this.metrics.eventsBrokerConnected(connected);
        if (connected) this.recover();
      });
      this.logger.log(`connected to NATS at ${config.natsServers.join(', ')}`);
    }
    if (!this.broker.isConnected) {
      this.trouble('NATS is unreachable; events wait in the audit tables');
      return false;
    }
    for (const state of this.states) {
      if (!state.synced) await this.sync(config, this.broker, state);
    }
    return true;
  }

  private async tryToLead(): Promise<boolean> {
    if (this.session === undefined) {
      const session = new pg.Client({
        connectionString: this.databaseUrl(),
        keepAlive: true,
        statement_timeout: 5000,
        query_timeout: 6000,
        application_name: 'oms-events-relay',
      });
      // A broken session fails its next query too; that is where it is handled.
      session.on('error', () => {
        if (this.session === session) this.resign();
      });
      await session.connect();
      this.session = session;
    }
    const [{ locked }] = await this.sql(TRY_LOCK_EVENT_RELAY);
    if (!locked) return false;
    this.leader = true;
    this.metrics.eventsLeader(true);
    this.logger.log('this replica relays the events now');
    for (const state of this.states) state.synced = false;
    return true;
  }

  /** Gives up the lead: the session goes, and the lock with it. */
  private resign(): void {
    const session = this.session;
    this.session = undefined;
    void session?.end().catch(() => undefined);
    if (this.leader) this.logger.warn('this replica no longer relays the events');
    this.leader = false;
    this.metrics.eventsLeader(false);
    // Only the relay talks to NATS; the next leader connects afresh.
    void this.broker?.close();
    this.broker = undefined;
    this.metrics.eventsBrokerConnected(false);
  }

  /** Where the outbox stands: the larger of its cursor and the stream's last message. */
  private async sync(config: EventsConfig, broker: JetStreamBroker, state: OutboxState) {
    const { outbox } = state;
    const [{ exists }] = await this.sql(OUTBOX_TABLE_EXISTS, { table: outbox.name });
    state.present = exists;
    if (!exists) {
      state.synced = true;
      return;
    }
    const stream = `${config.streamPrefix}_${outbox.stream}`;
    await broker.ensureStream(stream, [
      subjectUnder(config.subjectPrefix, `${outbox.subjectRoot}.>`),
    ]);
    if (outbox.notifies) {
      await broker.ensureStream(`${config.streamPrefix}_${NOTIFICATIONS.stream}`, [
        subjectUnder(config.subjectPrefix, `${NOTIFICATIONS.subjectRoot}.>`),
      ]);
    }
    await this.cursorWrites;
    const [saved] = await this.sql(READ_RELAY_CURSOR, { outbox: outbox.name });
    const lastMessageId = await broker.lastMessageId(stream);
    const published = idOfMessage(outbox, lastMessageId);
    const cursor = BigInt(saved?.last_id ?? '0');
    state.cursor =
      published !== undefined && BigInt(published) > cursor ? BigInt(published) : cursor;
    // The next publish must follow the stream's last message, if it is one of ours.
    state.lastMessageId = published !== undefined ? lastMessageId : undefined;
    state.gap = undefined;
    state.synced = true;
    if (state.cursor !== cursor) {
      await this.sql(SAVE_RELAY_CURSOR, { outbox: outbox.name, lastId: String(state.cursor) });
    }
  }

  /** One read and publish per outbox; true if some outbox may have more waiting. */
  private async relayRound(config: EventsConfig): Promise<boolean> {
    this.woken = false;
    let more = false;
    for (const state of this.states) {
      if (state.present && (await this.relayOutbox(config, this.broker!, state))) more = true;
    }
    return more;
  }

  private async relayOutbox(
    config: EventsConfig,
    broker: JetStreamBroker,
    state: OutboxState,
  ): Promise<boolean> {
    const { outbox } = state;
    const read = await this.sql(outbox.read, {
      after: String(state.cursor),
      limit: config.batchSize,
      gapSnapshot: state.gap?.snapshot ?? null,
    });
    const head = read[0];
    const rows = read.filter((row): row is AuditRow => row.id !== null);
    this.metrics.eventsLag(
      outbox.name,
      head.max_id === null ? 0 : Number(BigInt(head.max_id) - state.cursor),
    );

    const now = this.clock.now();
    const gap = state.gap;
    const maySkip = (id: bigint) =>
      gap !== undefined &&
      id <= gap.upTo &&
      head.gap_settled === true &&
      now - gap.since >= config.gapGraceMs;
    const publish: AuditRow[] = [];
    let next = state.cursor + 1n;
    let skipped = 0;
    let blockedAt: bigint | undefined;
    for (const row of rows) {
      const id = BigInt(row.id);
      while (id > next && maySkip(next)) {
        next++;
        skipped++;
      }
      if (id > next) {
        blockedAt = next;
        break;
      }
      publish.push(row);
      next++;
    }
    if (blockedAt === undefined) {
      state.gap = undefined;
    } else if (gap === undefined || blockedAt > gap.upTo) {
      const upTo = BigInt(rows[rows.length - 1].id);
      state.gap = { snapshot: head.snapshot, upTo, since: now };
    }
    if (publish.length === 0 && skipped === 0) return false;

    // The read looked at the lock too, since rows were waiting.
    if (head.lock_held !== true) throw new LostLeadership('the relay lock is no longer held');
    if (outbox.notifies) await this.notify(config, broker, publish);
    const messages = publish.map((row) => eventMessage(outbox, row, config.subjectPrefix));
    if (messages.length > 0) {
      await broker.publishInOrder(messages, state.lastMessageId);
      state.lastMessageId = messages[messages.length - 1].messageId;
    }
    state.cursor = next - 1n;
    this.saveCursor(outbox, state.cursor);
    this.metrics.eventsPublished(outbox.name, messages.length, skipped);
    if (skipped > 0) {
      this.logger.log(`${outbox.name}: skipped ${skipped} id(s) that will never appear`);
    }
    return rows.length === config.batchSize;
  }

  /**
   * Before the batch's events: a crash in between republishes the
   * notifications (dropped as duplicates within the window) and then the
   * events, rather than leaving a published event without its notification.
   */
  private async notify(config: EventsConfig, broker: JetStreamBroker, rows: AuditRow[]) {
    const due = rows.flatMap((row) => {
      const message = notificationMessage(row, config.subjectPrefix);
      return message ? [{ row, message }] : [];
    });
    if (due.length === 0) return;
    await broker.publishEach(due.map(({ message }) => message));
    for (const { row } of due) {
      await this.sql(RECORD_SMN_RESULT, {
        taskId: row.resource_id,
        projectId: row.project_id,
        result: { notified: true, error: null },
      });
    }
    this.metrics.notificationsPublished(due.length);
  }

  /**
   * Records the cursor on the pool, one write after another, while the
   * relay reads on: the write is off the path from a commit to its event.
   * A cursor lost in a crash costs nothing, since a new relay also reads
   * the stream's last message (and the write never moves a cursor back).
   */
  private saveCursor(outbox: Outbox, cursor: bigint): void {
    const params = { outbox: outbox.name, lastId: String(cursor) };
    this.cursorWrites = this.cursorWrites
      .then(() => execute(this.db, SAVE_RELAY_CURSOR, params))
      .then(
        () => undefined,
        (error: unknown) =>
          this.logger.warn(`${outbox.name}: cursor not saved: ${describe(error)}`),
      );
  }

  /** Runs a statement on the relay's own session (named: parsed once per session). */
  private async sql<P, R>(statement: Statement<P, R>, ...params: ParamsOf<P>): Promise<R[]> {
    const session = this.session;
    if (session === undefined) throw new LostLeadership('the relay session is gone');
    try {
      const { name, text } = statement;
      const result = await session.query<R & object>({
        name,
        text,
        values: valuesOf(statement, params),
      });
      return result.rows;
    } catch (error) {
      // The session broke: whatever it held (the lock) is gone with it.
      if (isConnectionError(error)) {
        if (this.session === session) this.session = undefined;
        throw new LostLeadership(`the relay session broke: ${describe(error)}`);
      }
      throw error;
    }
  }

  private databaseUrl(): string {
    const { url } = this.db.options as { url?: string };
    if (url === undefined) throw new Error('the events relay needs the database URL');
    return url;
  }

  private trouble(what: string | undefined): void {
    if (what === this.lastTrouble) return;
    if (what === undefined) this.logger.log('events are being relayed again');
    else this.logger.warn(`events delayed: ${what}`);
    this.lastTrouble = what;
  }

  private roundDone(): void {
    this.roundWaiters = this.roundWaiters.filter((waiter) => {
      waiter.remaining--;
      if (waiter.remaining > 0) return true;
      waiter.resolve();
      return false;
    });
  }

  private sleep(ms: number): Promise<void> {
    if ((this.woken && !this.retrying) || this.stopped || ms === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = undefined;
        done();
      };
    });
  }
}

/** A pg error with a SQLSTATE came from the server; one without, from the connection. */
function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code) || /^(08|57P)/.test(code);
}

/** An error in a few words for the log: never a URL with credentials (there are none in ours). */
function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
