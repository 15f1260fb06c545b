// Every PostgreSQL advisory lock the service takes, by name, and the
// statements that take them. Replicas agree on what they serialise only
// through these numbers, so the values never change: during a rolling
// upgrade old and new replicas run side by side and must take the same
// locks. A new lock gets a new key, distinct from every one below
// (test/statements.unit.test.ts checks that).
//
// Two forms, which PostgreSQL keeps apart (pg_locks.objsubid 1 and 2):
// one bigint key, or two int keys, where the first names the lock and the
// second is hashtext() of the project id, so each project has its own.

import type { Statement } from './statement.js';

export const ADVISORY_LOCKS = {
  /**
   * Serialises migration runs: replicas that start together would race in
   * TypeORM's runner, which takes no lock. One bigint key (as text: beyond
   * a Number's exact range), held by the migrating session until it is done.
   */
  MIGRATIONS: '5713878855045203026',
  /**
   * Serialises the creates of one project, so the count against the quota
   * stays true until the create commits (and a project's ids grow in commit
   * order). Per project, until the transaction ends.
   */
  TASK_QUOTA: 0x0_0a_77,
  /**
   * Serialises the scheduler's admissions in one project, so the count of
   * running tasks it reads stays true until it commits. Per project, until
   * the transaction ends.
   */
  SCHEDULER: 0x0_5c_ed,
  /**
   * Serialises the sync-task creates of one project, so the count against
   * MAX_SYNC_TASKS_PER_PROJECT stays true until the create commits. Its own
   * key: sync-task creates never wait for task creates. Per project, until
   * the transaction ends.
   */
  SYNC_TASK_QUOTA: 0x0_5c_a7,
  /**
   * Makes one replica at a time the events relay (src/events/event-relay.ts).
   * One bigint key, held by the relay's own session for as long as it lives:
   * when that connection dies, the lock goes with it and another replica
   * takes over.
   */
  EVENT_RELAY: '5713878855045203027',
} as const;

export type AdvisoryLockName = keyof typeof ADVISORY_LOCKS;

/** The locks taken per project, with two keys. */
export type ProjectLockName = 'TASK_QUOTA' | 'SCHEDULER' | 'SYNC_TASK_QUOTA';

/** Held until the transaction ends; waits for whoever holds it. */
export const LOCK_PROJECT: Statement<{ lock: ProjectLockName; projectId: string }, unknown> = {
  name: 'advisory-lock-project',
  text: 'SELECT pg_advisory_xact_lock($1, hashtext($2))',
  values: ({ lock, projectId }) => [ADVISORY_LOCKS[lock], projectId],
};

/** Held by the session until UNLOCK_MIGRATIONS (or the connection ends). */
export const LOCK_MIGRATIONS: Statement<void, unknown> = {
  name: 'advisory-lock-migrations',
  text: 'SELECT pg_advisory_lock($1)',
  values: () => [ADVISORY_LOCKS.MIGRATIONS],
};

export const UNLOCK_MIGRATIONS: Statement<void, unknown> = {
  name: 'advisory-unlock-migrations',
  text: 'SELECT pg_advisory_unlock($1)',
  values: () => [ADVISORY_LOCKS.MIGRATIONS],
};

/** Whether this session now holds the relay's lock; never waits. */
export const TRY_LOCK_EVENT_RELAY: Statement<void, { locked: boolean }> = {
  name: 'advisory-try-lock-event-relay',
  text: 'SELECT pg_try_advisory_lock($1) AS locked',
  values: () => [ADVISORY_LOCKS.EVENT_RELAY],
};
