// Two costs every stop paid for things it does not write (issue 16).
//
// The row lock. `tasks_queue_follows_status` was a BEFORE UPDATE row
// trigger, and PostgreSQL runs a table's BEFORE UPDATE row triggers on a
// copy of the row it has locked first, whatever their WHEN clause or column
// list says: so every update of `tasks` (a stop, a heartbeat's lease mirror)
// took a row lock before its own write, one more WAL record (pg_waldump
// shows a LOCK before the HOT_UPDATE). No BEFORE UPDATE row trigger is left:
//
// - the service's own moves write `queue` beside `status`, through
//   task_queue(), the one place that says which queue a status is in;
// - after any other status write (an operator's UPDATE tasks SET status =
//   1), an AFTER trigger puts the queue right with a second update if the
//   write left it wrong; inserts keep a BEFORE trigger, which takes no lock.
//
// Per-statement preparation. PostgreSQL reads a table's CHECK expressions
// and its triggers' WHEN clauses from the catalog and plans them again for
// every execution of a statement that writes the table, whether or not the
// statement writes the columns they name. Counted with callgrind in a
// backend serving the stop as a named prepared statement, the four checks
// and the old trigger (its condition, its row lock) were over a third of its
// instructions. So:
//
// - the checks on `status`, `task_priority` and `queue` become domains of the
//   same constraint names, applied only when a value is written into such a
//   column;
// - the id range is a domain on `task_details.task_id`: every task has its
//   details row, written by the statement that inserts the task (the
//   service's create, or the trigger tasks_have_details for a row inserted
//   by hand), and the foreign key keeps a task's id from changing under it.
//   An identity column cannot be of a domain itself;
// - the AFTER trigger's condition is the cheapest there is, `NEW.status <>
//   3` (a stop never moves a queue), and the function says whether the
//   queue is wrong; a WHEN clause calling task_queue() would be inlined and
//   planned on every stop. The insert trigger has no condition at all: the
//   service's inserts (into waiting) all need their queue set anyway.
//
// The column types change to the domains, which rewrites `tasks` and
// `task_details` with their indexes once; on a large table, run it in a
// maintenance window.

import type { MigrationInterface, QueryRunner } from 'typeorm';
import { CREATE_QUEUE_TRIGGER } from './1796170400000-hot-stop.js';

const DOMAINS = [
  {
    column: 'status',
    domain: 'task_status_code',
    check: 'VALUE BETWEEN 1 AND 7',
    name: 'CHK_tasks_status',
  },
  {
    column: 'task_priority',
    domain: 'task_priority_level',
    check: 'VALUE BETWEEN 1 AND 3',
    name: 'CHK_tasks_task_priority',
  },
  { column: 'queue', domain: 'task_queue_code', check: 'VALUE IN (1, 2)', name: 'CHK_tasks_queue' },
] as const;

/** The id range, checked where every task's id is written a second time. */
const ID_RANGE = {
  domain: 'task_id_number',
  check: 'VALUE BETWEEN 1 AND 999999999999999',
  name: 'CHK_tasks_id_range',
} as const;

export class StopTakesNoRowLock1796170700000 implements MigrationInterface {
  name = 'StopTakesNoRowLock1796170700000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // A column named in a trigger cannot change its type: the trigger goes first.
    await queryRunner.query(`DROP TRIGGER "tasks_queue_follows_status" ON "tasks"`);

    for (const { column, domain, check, name } of DOMAINS) {
      await queryRunner.query(`ALTER TABLE "tasks" DROP CONSTRAINT "${name}"`);
      await queryRunner.query(
        `CREATE DOMAIN "${domain}" AS smallint CONSTRAINT "${name}" CHECK (${check})`,
      );
      await queryRunner.query(`ALTER TABLE "tasks" ALTER COLUMN "${column}" TYPE "${domain}"`);
    }
    await queryRunner.query(`ALTER TABLE "tasks" DROP CONSTRAINT "${ID_RANGE.name}"`);
    await queryRunner.query(
      `CREATE DOMAIN "${ID_RANGE.domain}" AS bigint CONSTRAINT "${ID_RANGE.name}" CHECK (${ID_RANGE.check})`,
    );
    await queryRunner.query(
      `ALTER TABLE "task_details" ALTER COLUMN "task_id" TYPE "${ID_RANGE.domain}"`,
    );

    // A paused task (3) keeps the queue it had, so that a stop changes no
    // indexed column and stays a HOT update (migrations/…-hot-stop.ts).
    // A SQL-standard body is stored parsed, and the planner inlines it.
    await queryRunner.query(`
      CREATE FUNCTION "task_queue"("status" smallint, "queue" smallint) RETURNS smallint
      LANGUAGE sql IMMUTABLE PARALLEL SAFE
      RETURN CASE WHEN status = 3 THEN queue WHEN status = 1 THEN 1 WHEN status IN (2, 6, 7) THEN 2 END`);

    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION "tasks_queue_follows_status"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.queue := task_queue(NEW.status, NEW.queue);
        RETURN NEW;
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER "tasks_queued_on_insert" BEFORE INSERT ON "tasks" FOR EACH ROW
      EXECUTE FUNCTION "tasks_queue_follows_status"()`);

    await queryRunner.query(`
      CREATE FUNCTION "tasks_requeue"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.queue IS DISTINCT FROM task_queue(NEW.status, NEW.queue) THEN
          UPDATE tasks SET queue = task_queue(NEW.status, NEW.queue) WHERE id = NEW.id;
        END IF;
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER "tasks_requeued_after_update" AFTER UPDATE OF "status" ON "tasks" FOR EACH ROW
      WHEN (NEW.status <> 3) EXECUTE FUNCTION "tasks_requeue"()`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER "tasks_requeued_after_update" ON "tasks"`);
    await queryRunner.query(`DROP FUNCTION "tasks_requeue"()`);
    await queryRunner.query(`DROP TRIGGER "tasks_queued_on_insert" ON "tasks"`);
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION "tasks_queue_follows_status"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.queue := CASE WHEN NEW.status = 1 THEN 1 WHEN NEW.status IN (2, 6, 7) THEN 2 END;
        RETURN NEW;
      END $$`);
    await queryRunner.query(`DROP FUNCTION "task_queue"(smallint, smallint)`);

    await queryRunner.query(`ALTER TABLE "task_details" ALTER COLUMN "task_id" TYPE bigint`);
    await queryRunner.query(`DROP DOMAIN "${ID_RANGE.domain}"`);
    await queryRunner.query(
      `ALTER TABLE "tasks" ADD CONSTRAINT "${ID_RANGE.name}" CHECK (${ID_RANGE.check.replace('VALUE', '"id"')})`,
    );
    for (const { column, domain, check, name } of DOMAINS) {
      await queryRunner.query(`ALTER TABLE "tasks" ALTER COLUMN "${column}" TYPE smallint`);
      await queryRunner.query(`DROP DOMAIN "${domain}"`);
      const tableCheck = check.replace('VALUE', `"${column}"`);
      await queryRunner.query(`ALTER TABLE "tasks" ADD CONSTRAINT "${name}" CHECK (${tableCheck})`);
    }

    await queryRunner.query(CREATE_QUEUE_TRIGGER);
  }
}
