// The yardstick's own schema (schema `yardstick` in the bench database,
// beside the service's tables and never touched by its migrations), designed
// for one job: stop a migrating task, atomically, with an audit row.
//
// - `yardstick.tasks` is as narrow as the job allows: id, project, status.
//   Nothing indexes `status`, so a stop is a HOT update (no index page is
//   written), and the fill factor leaves room on each page for the new row
//   versions a run's stops make.
// - `yardstick.stops` is the audit trail: who stopped which task, under
//   which request, when. It is only ever appended to here, so it has no
//   index to maintain.
// - STOP is the whole stop as one statement, run as a named (prepared) one:
//   the conditional UPDATE, the audit INSERT of the row it moved, and the
//   task's status as the statement's snapshot saw it, so that a stop that did
//   not move the task is answered without a second round trip (no row: not
//   found; a row: it was not migrating).
//
// bench/pgbench.ts runs the same STOP against the same tables.

import type pg from 'pg';

/** OMS task statuses the stop moves between (OMS v2: 2 migrating, 3 paused). */
export const MIGRATING = 2;
export const PAUSED = 3;

export const YARDSTICK_SCHEMA = `
CREATE SCHEMA yardstick;
CREATE TABLE yardstick.tasks (
  id bigint PRIMARY KEY,
  project_id text NOT NULL,
  status smallint NOT NULL
) WITH (fillfactor = 70);
CREATE TABLE yardstick.stops (
  task_id bigint NOT NULL,
  project_id text NOT NULL,
  user_id text NOT NULL,
  request_id text NOT NULL,
  stopped_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE yardstick.seed (mark text NOT NULL);`;

/** $1 task id, $2 project id, $3 user id, $4 request id. */
export const STOP = {
  name: 'yardstick_stop',
  text: `WITH stopped AS (
  UPDATE yardstick.tasks SET status = ${PAUSED}
  WHERE id = $1 AND project_id = $2 AND status = ${MIGRATING}
  RETURNING id, project_id
), audited AS (
  INSERT INTO yardstick.stops (task_id, project_id, user_id, request_id)
  SELECT id, project_id, $3, $4 FROM stopped
)
SELECT EXISTS (SELECT 1 FROM stopped) AS stopped,
  (SELECT status FROM yardstick.tasks WHERE id = $1 AND project_id = $2) AS status_seen`,
} as const;

export interface StopRow {
  stopped: boolean;
  /** The task's status before this statement; null if there is no such task. */
  status_seen: number | null;
}

/**
 * Makes sure the yardstick's schema holds `tasks` migrating tasks with the
 * same ids and projects the service's tables were seeded with (`projectSql`:
 * the project of task `g`, as SQL). Reused while the schema and the seed are
 * unchanged; made again otherwise.
 */
export async function prepareYardstickSchema(
  client: pg.Client,
  tasks: number,
  projectSql: string,
  log: (line: string) => void,
): Promise<void> {
  const mark = `${tasks} tasks, ${projectSql}; ${YARDSTICK_SCHEMA}`;
  try {
    const { rows } = await client.query('SELECT mark FROM yardstick.seed');
    if (rows[0]?.mark === mark) return;
  } catch {
    // no schema yet
  }
  log(`Seeding the yardstick's schema with ${tasks.toLocaleString('en')} tasks`);
  await client.query('DROP SCHEMA IF EXISTS yardstick CASCADE');
  await client.query(YARDSTICK_SCHEMA);
  await client.query(
    `INSERT INTO yardstick.tasks (id, project_id, status)
     SELECT g, ${projectSql}, ${MIGRATING} FROM generate_series(1, $1::bigint) AS g`,
    [tasks],
  );
  await client.query('VACUUM ANALYZE yardstick.tasks');
  await client.query('INSERT INTO yardstick.seed (mark) VALUES ($1)', [mark]);
}

/** Every task back to migrating, the audit trail emptied. */
export async function resetYardstickSchema(client: pg.Client): Promise<void> {
  await client.query(
    `UPDATE yardstick.tasks SET status = ${MIGRATING} WHERE status <> ${MIGRATING}`,
  );
  await client.query('TRUNCATE yardstick.stops');
  await client.query('VACUUM yardstick.tasks');
}
