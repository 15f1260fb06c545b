// The groups' audit trail (task-groups/task-group-transition.entity.ts). It
// also settles a lost answer to a group write, which the group row's
// last_action / last_request_id did until now: one mechanism, so those two
// columns go. down() brings them back (filled from the latest audit row of
// each group) and drops the trail.

import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TaskGroupAudit1796170000000 implements MigrationInterface {
  name = 'TaskGroupAudit1796170000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "task_group_transitions" ("id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL, "group_id" character varying(36) NOT NULL, "project_id" character varying(1024) NOT NULL, "action" character varying(16) NOT NULL, "from_status" smallint, "to_status" smallint, "user_id" character varying(255) NOT NULL, "request_id" character varying(128) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_task_group_transitions" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_task_group_transitions_group" ON "task_group_transitions" ("group_id", "id") `,
    );
    // The groups that exist get the row their last move would have written,
    // so a trail starts for each (its user is not known).
    await queryRunner.query(
      `INSERT INTO "task_group_transitions" ("group_id", "project_id", "action", "from_status", "to_status", "user_id", "request_id")
       SELECT "id", "project_id", "last_action", NULL, "status", '', "last_request_id" FROM "task_groups" ORDER BY "created_at", "id"`,
    );
    await queryRunner.query(`ALTER TABLE "task_groups" DROP COLUMN "last_action"`);
    await queryRunner.query(`ALTER TABLE "task_groups" DROP COLUMN "last_request_id"`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "task_groups" ADD "last_request_id" character varying(128) NOT NULL DEFAULT ''`,
    );
    await queryRunner.query(
      `ALTER TABLE "task_groups" ADD "last_action" character varying(16) NOT NULL DEFAULT 'create'`,
    );
    await queryRunner.query(
      `UPDATE "task_groups" g SET "last_action" = t."action", "last_request_id" = t."request_id"
       FROM (SELECT DISTINCT ON ("group_id") "group_id", "action", "request_id" FROM "task_group_transitions"
             ORDER BY "group_id", "id" DESC) t
       WHERE t."group_id" = g."id"`,
    );
    await queryRunner.query(`DROP INDEX "public"."IDX_task_group_transitions_group"`);
    await queryRunner.query(`DROP TABLE "task_group_transitions"`);
  }
}
