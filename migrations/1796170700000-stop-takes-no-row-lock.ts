// Two costs every stop paid for things it does not write (issue 16).
//
// The row lock. `tasks_queue_follows_status` was a BEFORE UPDATE row
// trigger, and PostgreSQL runs a table's BEFORE UPDATE row triggers on a
// copy of the row it has locked first, whatever their WHEN clause or column
// list says: so every update of `tasks` (a stop, a heartbeat's lease mirror)
// took a row lock before its own write, one more WAL record (pg_waldump
// shows a LOCK before the HOT_UPDATE) and another trip through the buffer.
// No BEFORE UPDATE row trigger is left on `tasks`:
//
// - the service's own statements write `queue` beside `status`, through
//   task_queue(), the one place that says which queue a status belongs in;
// - an update by anyone else that leaves the two apart (an operator's
//   UPDATE tasks SET status = 1) is put right after it, by an AFTER
//   trigger that writes `queue` in a second update; its WHEN clause is
//   false for every write of the service's own;
// - inserts keep a BEFORE INSERT trigger, which takes no lock.
//
// The checks. A table's CHECK constraints are all evaluated on every new
// row version, each one's expression read from the catalog and prepared
// again for every execution of a statement, even when the statement writes
// none of the columns it checks. The checks on `status`, `task_priority`
// and `queue` become domains of the same names, checked only when a value
// is written into such a column (by insert, by update, by anyone). The id
// range stays a table check: an identity column cannot be of a domain.
//
// The column types change to the domains, which rewrites the table and its
// indexes once; on a large table, run it in a maintenance window.

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

/** The WHEN of both queue triggers: the row's queue is not the one its status asks for. */
const QUEUE_IS_WRONG = 'NEW.queue IS DISTINCT FROM task_queue(NEW.status, NEW.queue)';

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
      WHEN (${QUEUE_IS_WRONG}) EXECUTE FUNCTION "tasks_queue_follows_status"()`);

    await queryRunner.query(`
      CREATE FUNCTION "tasks_requeue"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE tasks SET queue = task_queue(NEW.status, NEW.queue) WHERE id = NEW.id;
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER "tasks_requeued_after_update" AFTER UPDATE OF "status" ON "tasks" FOR EACH ROW
      WHEN (${QUEUE_IS_WRONG}) EXECUTE FUNCTION "tasks_requeue"()`);
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

    for (const { column, domain, check, name } of DOMAINS) {
      await queryRunner.query(`ALTER TABLE "tasks" ALTER COLUMN "${column}" TYPE smallint`);
      await queryRunner.query(`DROP DOMAIN "${domain}"`);
      const tableCheck = check.replace('VALUE', `"${column}"`);
      await queryRunner.query(`ALTER TABLE "tasks" ADD CONSTRAINT "${name}" CHECK (${tableCheck})`);
    }

    await queryRunner.query(CREATE_QUEUE_TRIGGER);
  }
}
