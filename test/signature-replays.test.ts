// The record of accepted signatures, on the real table: one replica's
// accepted signature is a replay on another, and expired rows are deleted
// in bounded batches, now and then, by the clock the replica is given.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { DataSource } from 'typeorm';
import { Unauthenticated } from '../src/common/oms-errors.js';
import { loadConfig } from '../src/config/config.js';
import { dataSourceOptions } from '../src/database/data-source-options.js';
import { SignatureReplays } from '../src/iam/signature-replays.js';
import { testDatabaseUrl } from './support/test-app.js';
import { waitUntil } from './support/wait-until.js';

const MINUTE = 60_000;
const T0 = Date.parse('2026-12-01T12:00:00Z');

/** A distinct 64-hex-digit signature. */
const sig = (prefix: string, n: number) => `${prefix}${String(n).padStart(63, '0')}`;

describe('accepted signatures', () => {
  let db: DataSource;
  before(async () => {
    db = new DataSource(dataSourceOptions(loadConfig({}), testDatabaseUrl()));
    await db.initialize();
  });
  after(async () => db.destroy());
  beforeEach(async () => db.query('TRUNCATE accepted_signatures'));

  const count = async (where = 'true') =>
    Number((await db.query(`SELECT count(*) FROM accepted_signatures WHERE ${where}`))[0].count);

  /** Until the background sweep has deleted down to `expected` expired rows. */
  async function expiredLeft(expected: number) {
    const expired = () => count(`signed_at < '${new Date(T0 - 20 * MINUTE).toISOString()}'`);
    let left: number | undefined;
    await waitUntil(
      () => `expired rows never came down to ${expected} (${left} left)`,
      async () => (left = await expired()) === expected,
      { everyMs: 0 },
    );
  }

  test('accepted on one replica, a replay on another', async () => {
    const a = new SignatureReplays(db, () => T0);
    const b = new SignatureReplays(db, () => T0);
    await a.accept(sig('a', 1), T0);
    await assert.rejects(b.accept(sig('a', 1), T0), (error: unknown) => {
      assert.ok(error instanceof Unauthenticated);
      assert.match(error.message, /replay/);
      return true;
    });
    await a.forget(sig('a', 1));
    await b.accept(sig('a', 1), T0); // forgotten: a refused write's bytes may act once
    assert.equal(await count(), 1);
  });

  test('expired rows go after 100 accepts, at most 1000 per sweep; rows in the window stay', async () => {
    await db.query(
      `INSERT INTO accepted_signatures (signature, signed_at)
       SELECT 'e' || lpad(to_hex(n), 63, '0'), $1 FROM generate_series(1, 1500) AS n`,
      [new Date(T0 - 30 * MINUTE)],
    );
    await db.query(`INSERT INTO accepted_signatures VALUES ($1, $2)`, [
      sig('b', 0),
      new Date(T0 - 10 * MINUTE),
    ]);
    const replays = new SignatureReplays(db, () => T0);
    for (let i = 1; i < 100; i++) await replays.accept(sig('c', i), T0);
    assert.equal(await count(`signature LIKE 'e%'`), 1500, 'no sweep before the 100th accept');
    await replays.accept(sig('c', 100), T0);
    await expiredLeft(500);
    assert.equal(await count(`signature = '${sig('b', 0)}'`), 1, 'a row in its window stays');
    assert.equal(await count(`signature LIKE 'c%'`), 100);
  });

  test('or after a minute, whatever the number of accepts', async () => {
    await db.query(`INSERT INTO accepted_signatures VALUES ($1, $2)`, [
      sig('e', 0),
      new Date(T0 - 30 * MINUTE),
    ]);
    let now = T0;
    const replays = new SignatureReplays(db, () => now);
    await replays.accept(sig('d', 1), now);
    assert.equal(await count(`signature = '${sig('e', 0)}'`), 1);
    now += MINUTE + 1;
    await replays.accept(sig('d', 2), now);
    await expiredLeft(0);
  });
});
