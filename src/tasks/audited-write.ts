// Every change of a task (create, the moves, the edits) goes through
// auditedWrite, and each writes its audit row, naming the request, in the
// same transaction as the change. That row also settles what a lost
// connection leaves open: the server may have committed the write and lost
// only the answer, to the statement or to its COMMIT. If the row is there,
// the caller gets the answer the write would have given (and so has no
// reason to retry it into a duplicate); if not, or if nobody can tell, the
// original error stands: 503, "nothing was changed", which is then true.

import type { DataSource, EntityManager } from 'typeorm';
import { mayHaveCommitted } from '../database/database-errors.js';
import { holdConnection, type HeldConnection } from '../database/named-query.js';
import { BEGIN, COMMIT, execute, ROLLBACK } from '../database/statement.js';
import type { AuditAction, TaskStatus } from './task-state.js';
import { AWAIT_TASK_WRITES, LATEST_AUDIT_ROW } from './task.sql.js';

export interface AuditedWrite<T> {
  /** Makes the change and writes its audit row on `connection`; committed once it returns. */
  run(connection: HeldConnection): Promise<T>;
  /**
   * Runs only after a lost answer, in a transaction of its own: waits for the
   * lock the write took (so a write still running on the server has ended),
   * then reads the write's audit row and gives the write's result, or
   * undefined if the row is not there.
   */
  findCommitted(tx: EntityManager): Promise<T | undefined>;
}

export async function auditedWrite<T>(db: DataSource, write: AuditedWrite<T>): Promise<T> {
  const connection = await holdConnection(db); // failing here, nothing was sent
  let lost: unknown;
  try {
    return await write.run(connection);
  } catch (error) {
    if (!mayHaveCommitted(error)) throw error;
    lost = error;
  } finally {
    // Before the look below: under load, holding this connection while
    // waiting for another could drain the pool. One that broke is closed.
    connection.release(lost);
  }
  const committed = await db.transaction((tx) => write.findCommitted(tx)).catch(() => undefined);
  if (committed === undefined) throw lost;
  return committed;
}

/** BEGIN … COMMIT on a held connection; ROLLBACK if `work` throws. */
export async function inTransaction<T>(
  connection: HeldConnection,
  work: () => Promise<T>,
): Promise<T> {
  await connection.query(BEGIN);
  try {
    const result = await work();
    await connection.query(COMMIT);
    return result;
  } catch (error) {
    // A connection that broke cannot roll back; the server does it itself
    // when it sees the connection go, and the pool drops it.
    await connection.query(ROLLBACK).catch(() => undefined);
    throw error;
  }
}

/**
 * findCommitted for a write of an existing task (a move or an edit): the
 * status the write found, if the task's latest audit row is this write's.
 */
export async function findTaskWrite(
  tx: EntityManager,
  write: { taskId: string; projectId: string; action: AuditAction; requestId: string },
): Promise<{ from: TaskStatus | null; to: TaskStatus | null } | undefined> {
  // The lock first, so that the audit row looked up next is final.
  await execute(tx, AWAIT_TASK_WRITES, write);
  const [row] = await execute(tx, LATEST_AUDIT_ROW, write);
  return row && { from: row.from_status, to: row.to_status };
}
