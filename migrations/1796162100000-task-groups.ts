// Task groups: the `task_groups` table, and an index on tasks.group_id so
// the group's moves, counters and `tasks?group_id=` find its tasks without
// scanning the project's.

import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TaskGroups1796162100000 implements MigrationInterface {
  name = 'TaskGroups1796162100000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "task_groups" (
        "id" character varying(36) NOT NULL,
        "project_id" character varying(1024) NOT NULL,
        "status" smallint NOT NULL,
        "description" character varying(255) NOT NULL DEFAULT '',
        "task_type" character varying(16) NOT NULL,
        "src_node" jsonb NOT NULL,
        "dst_node" jsonb NOT NULL,
        "bandwidth_policy" jsonb NOT NULL DEFAULT '[]',
        "options" jsonb NOT NULL DEFAULT '{}',
        "secrets" bytea,
        "migrate_since" TIMESTAMP WITH TIME ZONE,
        "error_reason" jsonb,
        "last_action" character varying(16) NOT NULL DEFAULT 'create',
        "last_request_id" character varying(128) NOT NULL DEFAULT '',
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "CHK_task_groups_task_type" CHECK ("task_type" IN ('PREFIX', 'LIST', 'URL_LIST')),
        CONSTRAINT "CHK_task_groups_status" CHECK ("status" BETWEEN 0 AND 9),
        CONSTRAINT "PK_task_groups" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(
      `CREATE INDEX "IDX_task_groups_project_created" ON "task_groups" ("project_id", "created_at", "id")`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_tasks_group" ON "tasks" ("group_id")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_tasks_group"`);
    await queryRunner.query(`DROP INDEX "IDX_task_groups_project_created"`);
    await queryRunner.query(`DROP TABLE "task_groups"`);
  }
}
