// What the whole task life cycle needs: the task object's fields, secrets
// encrypted at rest, the scheduler's queue index, and an audit trail that
// also records creation (from NULL) and deletion (to NULL).
//
// Rows inserted by hand with only id, project_id, name and status still
// work: every new column has a default.

import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TaskLifeCycle1764612000000 implements MigrationInterface {
  name = 'TaskLifeCycle1764612000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE "tasks"
        ADD "task_type" character varying(16) NOT NULL DEFAULT 'object',
        ADD "group_id" character varying(100),
        ADD "task_priority" smallint NOT NULL DEFAULT 2,
        ADD "src_node" jsonb NOT NULL DEFAULT '{}',
        ADD "dst_node" jsonb NOT NULL DEFAULT '{}',
        ADD "bandwidth_policy" jsonb NOT NULL DEFAULT '[]',
        ADD "options" jsonb NOT NULL DEFAULT '{}',
        ADD "secrets" bytea,
        ADD "migrate_since" TIMESTAMP WITH TIME ZONE,
        ADD "start_time" TIMESTAMP WITH TIME ZONE,
        ADD "progress" double precision NOT NULL DEFAULT 0,
        ADD "complete_size" bigint NOT NULL DEFAULT 0,
        ADD "total_size" bigint NOT NULL DEFAULT 0,
        ADD "real_size" bigint NOT NULL DEFAULT 0,
        ADD "migrate_speed" bigint NOT NULL DEFAULT 0,
        ADD "left_time" bigint NOT NULL DEFAULT 0,
        ADD "total_time" bigint NOT NULL DEFAULT 0,
        ADD "total_num" bigint NOT NULL DEFAULT 0,
        ADD "successful_num" bigint NOT NULL DEFAULT 0,
        ADD "failed_num" bigint NOT NULL DEFAULT 0,
        ADD "skipped_num" bigint NOT NULL DEFAULT 0,
        ADD "is_query_over" boolean NOT NULL DEFAULT false,
        ADD "error_reason" jsonb,
        ADD CONSTRAINT "CHK_tasks_task_type"
          CHECK ("task_type" IN ('list', 'object', 'prefix', 'url_list')),
        ADD CONSTRAINT "CHK_tasks_task_priority" CHECK ("task_priority" BETWEEN 1 AND 3)`);
    // The scheduler's queue: waiting tasks of a project, best first.
    await queryRunner.query(`
      CREATE INDEX "IDX_tasks_waiting" ON "tasks" ("project_id", "task_priority", "created_at", "id")
      WHERE status = 1`);
    // Listing pages through a project's tasks newest first.
    await queryRunner.query(
      `CREATE INDEX "IDX_tasks_project_created" ON "tasks" ("project_id", "created_at", "id")`,
    );
    await queryRunner.query(`ALTER TABLE "task_transitions" ADD "action" character varying(16)`);
    // Until now only stop wrote audit rows.
    await queryRunner.query(`UPDATE "task_transitions" SET "action" = 'stop'`);
    await queryRunner.query(`
      ALTER TABLE "task_transitions"
        ALTER COLUMN "action" SET NOT NULL,
        ALTER COLUMN "from_status" DROP NOT NULL,
        ALTER COLUMN "to_status" DROP NOT NULL`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    // The earlier schema cannot say "created" or "deleted"; those rows go.
    await queryRunner.query(
      `DELETE FROM "task_transitions" WHERE "from_status" IS NULL OR "to_status" IS NULL`,
    );
    await queryRunner.query(`
      ALTER TABLE "task_transitions"
        ALTER COLUMN "from_status" SET NOT NULL,
        ALTER COLUMN "to_status" SET NOT NULL,
        DROP COLUMN "action"`);
    await queryRunner.query(`DROP INDEX "IDX_tasks_project_created"`);
    await queryRunner.query(`DROP INDEX "IDX_tasks_waiting"`);
    await queryRunner.query(`
      ALTER TABLE "tasks"
        DROP CONSTRAINT "CHK_tasks_task_priority",
        DROP CONSTRAINT "CHK_tasks_task_type",
        DROP COLUMN "error_reason", DROP COLUMN "is_query_over", DROP COLUMN "skipped_num",
        DROP COLUMN "failed_num", DROP COLUMN "successful_num", DROP COLUMN "total_num",
        DROP COLUMN "total_time", DROP COLUMN "left_time", DROP COLUMN "migrate_speed",
        DROP COLUMN "real_size", DROP COLUMN "total_size", DROP COLUMN "complete_size",
        DROP COLUMN "progress", DROP COLUMN "start_time", DROP COLUMN "migrate_since",
        DROP COLUMN "secrets", DROP COLUMN "options", DROP COLUMN "bandwidth_policy",
        DROP COLUMN "dst_node", DROP COLUMN "src_node", DROP COLUMN "task_priority",
        DROP COLUMN "group_id", DROP COLUMN "task_type"`);
  }
}
