// A stop asks whether a worker holds a live lease on the task: if one does,
// the task goes to pausing and waits for the worker; if not, straight to
// paused. The question was a probe of `task_leases` inside the stop's
// UPDATE, about 20 µs of server CPU on a stop of some 330 (pgbench, issue
// 16). The answer now sits on the row the stop rewrites anyway:
// `tasks.lease_expires_at`, the expiry of the task's lease, NULL without one.
//
// `task_leases` stays the record of who holds a lease; the column is its
// mirror, kept by a trigger on `task_leases` so that no writer of leases
// (the lease, the heartbeat, an outcome, the sweep, a task's deletion, an
// operator by hand) can leave the two apart. The trigger writes `tasks` in
// the lease's own transaction, so a stop that waits on a lease being taken
// re-reads the row when the lock is released and sees the new lease; the
// probe read it from the stop's snapshot and could miss it.
//
// No index covers the column, so a stop, a lease and a heartbeat stay HOT
// updates.

import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TasksKnowTheirLease1796170600000 implements MigrationInterface {
  name = 'TasksKnowTheirLease1796170600000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "tasks" ADD "lease_expires_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`
      UPDATE "tasks" SET "lease_expires_at" = l."expires_at"
      FROM "task_leases" l WHERE l."task_id" = "tasks"."id"`);
    // IS DISTINCT FROM: a write that leaves the expiry as it is (a lease
    // taken over at the same instant, a renewal to the same time) writes no
    // new version of the task's row.
    await queryRunner.query(`
      CREATE FUNCTION "tasks_mirror_lease"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          UPDATE tasks SET lease_expires_at = NULL
          WHERE id = OLD.task_id AND lease_expires_at IS NOT NULL;
        ELSE
          UPDATE tasks SET lease_expires_at = NEW.expires_at
          WHERE id = NEW.task_id AND lease_expires_at IS DISTINCT FROM NEW.expires_at;
        END IF;
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER "tasks_mirror_lease"
      AFTER INSERT OR UPDATE OF "expires_at" OR DELETE ON "task_leases"
      FOR EACH ROW EXECUTE FUNCTION "tasks_mirror_lease"()`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER "tasks_mirror_lease" ON "task_leases"`);
    await queryRunner.query(`DROP FUNCTION "tasks_mirror_lease"()`);
    await queryRunner.query(`ALTER TABLE "tasks" DROP COLUMN "lease_expires_at"`);
  }
}
