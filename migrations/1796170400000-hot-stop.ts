// Makes the stop (2 → 3, or 2 → 7 under a live lease) a HOT update: one that
// writes no index page and reuses room on the row's own page (issue 16).
//
// PostgreSQL can update a row in place of its page only when no index
// covers a column the update changes, a partial index's predicate included.
// The stop writes `status` (and `updated_at`), and three indexes covered
// `status`: the per-project status index, the waiting queue (status = 1) and
// the leasable tasks (status IN (2, 6)). So every stop wrote a new entry
// into each of the table's six indexes.
//
// Those indexes now cover `queue` instead: the queue a task was last put in,
// 1 waiting or 2 running (migrating, retrying, pausing). A trigger keeps it
// following `status` on every insert and status write except one into
// paused (3): a task that stops keeps its queue, so its update leaves every
// indexed column as it was. `queue` is therefore a hint, never the truth:
// every reader also checks `status` (task.sql.ts, worker.sql.ts), and the
// scheduler clears a project's stale running entries when it admits
// (ADMIT_TASKS). Rows inserted by hand with id, project_id, name and status
// get their queue from the same trigger.
//
// The trigger's WHEN clause keeps it from being called at all when the
// queue is already right, which is the case for every stop.
//
// A fill factor of 70 leaves each page room for new row versions, without
// which an update cannot stay on its page (it applies to pages written from
// now on; VACUUM FULL or pg_repack applies it to the existing ones).

import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The trigger as this migration makes it; StopTakesNoRowLock's down migration puts it back. */
export const CREATE_QUEUE_TRIGGER = `
      CREATE TRIGGER "tasks_queue_follows_status"
      BEFORE INSERT OR UPDATE OF "status" ON "tasks" FOR EACH ROW
      WHEN (NEW.status <> 3 AND NEW.queue IS DISTINCT FROM
            CASE WHEN NEW.status = 1 THEN 1 WHEN NEW.status IN (2, 6, 7) THEN 2 END)
      EXECUTE FUNCTION "tasks_queue_follows_status"()`;

export class HotStop1796170400000 implements MigrationInterface {
  name = 'HotStop1796170400000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "tasks" ADD "queue" smallint`);
    await queryRunner.query(
      `ALTER TABLE "tasks" ADD CONSTRAINT "CHK_tasks_queue" CHECK ("queue" IN (1, 2))`,
    );
    await queryRunner.query(`
      CREATE FUNCTION "tasks_queue_follows_status"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.queue := CASE WHEN NEW.status = 1 THEN 1 WHEN NEW.status IN (2, 6, 7) THEN 2 END;
        RETURN NEW;
      END $$`);
    await queryRunner.query(CREATE_QUEUE_TRIGGER);
    await queryRunner.query(`
      UPDATE "tasks" SET "queue" = CASE WHEN status = 1 THEN 1 ELSE 2 END
      WHERE status IN (1, 2, 6, 7)`);

    await queryRunner.query(`DROP INDEX "IDX_tasks_project_status"`);
    await queryRunner.query(`DROP INDEX "IDX_tasks_waiting"`);
    await queryRunner.query(`DROP INDEX "IDX_tasks_leasable"`);
    await queryRunner.query(`
      CREATE INDEX "IDX_tasks_waiting" ON "tasks" ("project_id", "task_priority", "created_at", "id")
      WHERE queue = 1`);
    await queryRunner.query(
      `CREATE INDEX "IDX_tasks_running" ON "tasks" ("project_id") WHERE queue = 2`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_tasks_leasable" ON "tasks" ("start_time", "id") WHERE queue = 2`,
    );
    await queryRunner.query(`ALTER TABLE "tasks" SET (fillfactor = 70)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "tasks" RESET (fillfactor)`);
    await queryRunner.query(`DROP INDEX "IDX_tasks_leasable"`);
    await queryRunner.query(`DROP INDEX "IDX_tasks_running"`);
    await queryRunner.query(`DROP INDEX "IDX_tasks_waiting"`);
    await queryRunner.query(
      `CREATE INDEX "IDX_tasks_leasable" ON "tasks" ("start_time", "id") WHERE status IN (2, 6)`,
    );
    await queryRunner.query(`
      CREATE INDEX "IDX_tasks_waiting" ON "tasks" ("project_id", "task_priority", "created_at", "id")
      WHERE status = 1`);
    await queryRunner.query(
      `CREATE INDEX "IDX_tasks_project_status" ON "tasks" ("project_id", "status")`,
    );
    await queryRunner.query(`DROP TRIGGER "tasks_queue_follows_status" ON "tasks"`);
    await queryRunner.query(`DROP FUNCTION "tasks_queue_follows_status"()`);
    await queryRunner.query(`ALTER TABLE "tasks" DROP CONSTRAINT "CHK_tasks_queue"`);
    await queryRunner.query(`ALTER TABLE "tasks" DROP COLUMN "queue"`);
  }
}
