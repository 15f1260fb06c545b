// Runs a statement as a named prepared statement on the pool TypeORM holds.
// TypeORM's DataSource.query sends every statement unnamed, so PostgreSQL
// parses and plans it on each call; a named one is parsed once per
// connection (pg remembers which connections have it) and then only bound
// and executed, which saves PostgreSQL's CPU more than Node's. In
// `npm run bench` it took the stop's success path from about 0.6× to 0.8–1.0×
// of the requests/s of a framework-free yardstick (BENCHMARKS.md).
//
// Only for hot, fixed statements: a name must always stand for one text.

import type { Pool, PoolClient } from 'pg';
import type { DataSource, QueryRunner } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';

export async function namedQuery<Row>(
  db: DataSource,
  name: string,
  text: string,
  values: readonly unknown[],
): Promise<Row[]> {
  const pool =
    db.options.type === 'postgres'
      ? ((db.driver as PostgresDriver).master as Pool | undefined)
      : undefined;
  if (pool === undefined) {
    // Not PostgreSQL, or not connected: TypeORM says why, the slow way.
    return db.query(text, [...values]);
  }
  const result = await pool.query<Row & object>({ name, text, values: [...values] });
  return result.rows;
}

/** The same, on the connection a query runner holds (for work that must stay on it). */
export async function namedQueryOn<Row>(
  runner: QueryRunner,
  name: string,
  text: string,
  values: readonly unknown[],
): Promise<Row[]> {
  const client = (runner as { databaseConnection?: PoolClient }).databaseConnection;
  if (runner.connection.options.type !== 'postgres' || client === undefined) {
    return runner.query(text, [...values]);
  }
  const result = await client.query<Row & object>({ name, text, values: [...values] });
  return result.rows;
}
