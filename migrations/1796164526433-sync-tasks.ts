// Sync tasks (sync-tasks/sync-task.entity.ts): the tasks with their sealed
// secrets, their own audit trail (string ids and statuses), and the object
// keys clients asked to have synchronized, waiting for a data plane.

import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SyncTasks1796164526433 implements MigrationInterface {
  name = 'SyncTasks1796164526433';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "sync_tasks" ("id" character varying(64) NOT NULL, "project_id" character varying(1024) NOT NULL, "status" character varying(16) NOT NULL, "src_cloud_type" character varying(32) NOT NULL, "src_region" character varying(100) NOT NULL, "src_bucket" character varying(1024) NOT NULL, "dst_region" character varying(100) NOT NULL, "dst_bucket" character varying(1024) NOT NULL, "description" character varying(255) NOT NULL DEFAULT '', "options" jsonb NOT NULL DEFAULT '{}', "secrets" bytea NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_start_time" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "CHK_sync_tasks_status" CHECK ("status" IN ('SYNCHRONIZING', 'STOPPED')), CONSTRAINT "PK_54236c42c5d95b3fa89b9efa926" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_sync_tasks_project_created" ON "sync_tasks"  ("project_id", "created_at", "id") `,
    );
    await queryRunner.query(
      `CREATE TABLE "sync_task_transitions" ("id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL, "sync_task_id" character varying(64) NOT NULL, "project_id" character varying(1024) NOT NULL, "action" character varying(16) NOT NULL, "from_status" character varying(16), "to_status" character varying(16), "user_id" character varying(255) NOT NULL, "request_id" character varying(128) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_1bd4b5be7b9e8f462b9bcbb64f4" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_sync_task_transitions_task" ON "sync_task_transitions"  ("sync_task_id") `,
    );
    await queryRunner.query(
      `CREATE TABLE "sync_task_events" ("id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL, "sync_task_id" character varying(64) NOT NULL, "project_id" character varying(1024) NOT NULL, "object_key" character varying(4096) NOT NULL, "request_id" character varying(128) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_ec937fd4163f2667a4fed8950b8" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_sync_task_events_task" ON "sync_task_events"  ("sync_task_id", "id") `,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."IDX_sync_task_events_task"`);
    await queryRunner.query(`DROP TABLE "sync_task_events"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_sync_task_transitions_task"`);
    await queryRunner.query(`DROP TABLE "sync_task_transitions"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_sync_tasks_project_created"`);
    await queryRunner.query(`DROP TABLE "sync_tasks"`);
  }
}
