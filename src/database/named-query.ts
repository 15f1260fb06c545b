// Runs a statement as a named prepared statement on the pool TypeORM holds.
// TypeORM's DataSource.query sends every statement unnamed, so PostgreSQL
// parses and plans it on each call; a named one is parsed once per
// connection (pg remembers which connections have it) and then only bound
// and executed, which saves PostgreSQL's CPU more than Node's. In
// `npm run bench` it took the stop's success path from about 0.6× to 0.8–1.0×
// of the requests/s of a framework-free yardstick (BENCHMARKS.md). The hot
// path also takes its connection from pg directly, without the per-statement
// set-up and tear-down of a TypeORM QueryRunner.
//
// Only for hot statements: a name must always stand for one text, which a
// Statement (statement.ts) guarantees by carrying both.

import pg, { type Pool, type PoolClient, type QueryResult } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import { DatabaseNotConnected } from './database-errors.js';
import { valuesOf, type ParamsOf, type Statement } from './statement.js';

/** pg's Pool, which TypeORM's postgres driver keeps as `master`. */
function poolOf(db: DataSource): Pool {
  const pool =
    db.options.type === 'postgres'
      ? ((db.driver as PostgresDriver).master as Pool | undefined)
      : undefined;
  // Before the DataSource connects or after it is destroyed (shutting down).
  if (pool === undefined) throw new DatabaseNotConnected();
  return pool;
}

/**
 * What the pool and a client both do with a pg Query and a callback (each
 * sets the callback on the query; the pool releases its connection first).
 * pg's types list only the forms with a config object.
 */
interface SendsQueries {
  query(query: pg.Query, callback: (error: Error | null, result: QueryResult) => void): unknown;
}

/** The one way a named statement is sent, on the pool or on a held connection. */
function sendNamed<P, R>(
  on: Pool | PoolClient,
  statement: Statement<P, R>,
  params: ParamsOf<P>,
): Promise<R[]> {
  // The Query is made from the text and then given its name, rather than
  // from a { name, text, values } object: pg copies a config object through
  // its property descriptors before reading it (cloneQueryConfig), the
  // busiest function of pg in a CPU profile of the stop's success path.
  // Measured alone, making a Query so takes 2.8 µs, from a text 0.1 µs. pg
  // reads the name only when it sends the query (test/named-query.test.ts).
  const query: pg.Query & { name?: string } = new pg.Query(
    statement.text,
    valuesOf(statement, params),
  );
  query.name = statement.name;
  return new Promise((resolve, reject) => {
    (on as SendsQueries).query(query, (error, result) =>
      error ? reject(error) : resolve(result.rows as R[]),
    );
  });
}

export function namedQuery<P, R>(
  db: DataSource,
  statement: Statement<P, R>,
  ...params: ParamsOf<P>
): Promise<R[]> {
  return sendNamed(poolOf(db), statement, params);
}

/** A connection taken from the pool for a statement that must know whether it was sent. */
export interface HeldConnection {
  namedQuery<P, R>(statement: Statement<P, R>, ...params: ParamsOf<P>): Promise<R[]>;
  /** An unnamed statement, parsed on each call: for what is not hot. */
  query<P, R>(statement: Statement<P, R>, ...params: ParamsOf<P>): Promise<R[]>;
  /** Back to the pool; `error` (the statement's) if the connection broke, so it is closed. */
  release(error?: unknown): void;
}

export async function holdConnection(db: DataSource): Promise<HeldConnection> {
  const client = await poolOf(db).connect();
  // While a connection is held, pg hands its 'error' events to the holder,
  // and one nobody listens to would crash the process. The statement in
  // flight fails with the same error, and that is what the holder acts on.
  const ignore = () => undefined;
  client.on('error', ignore);
  return {
    namedQuery: <P, R>(statement: Statement<P, R>, ...params: ParamsOf<P>) =>
      sendNamed(client, statement, params),
    async query<P, R>(statement: Statement<P, R>, ...params: ParamsOf<P>) {
      const values = valuesOf(statement, params);
      return (await client.query<R & object>(statement.text, values)).rows;
    },
    release(error?: unknown) {
      client.removeListener('error', ignore);
      client.release(error instanceof Error ? error : undefined);
    },
  };
}
