// The data plane's leases (src/worker/): which worker is moving a task's
// data, until when. One row per task at most; a lease that is not renewed
// expires, and another worker may take the task over. Deleting a task
// deletes its lease, so its worker's next heartbeat is told to abort.
// Written with raw statements only (src/worker/worker.sql.ts): no entity
// maps this table.
//
// The tasks a worker may lease (migrating or retrying) are found through a
// partial index, across projects, oldest admission first.

import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TaskLeases1796170200000 implements MigrationInterface {
  name = 'TaskLeases1796170200000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "task_leases" (
        "task_id" bigint NOT NULL,
        "project_id" character varying(1024) NOT NULL,
        "worker_id" character varying(128) NOT NULL,
        "lease_id" uuid NOT NULL,
        "leased_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "PK_task_leases" PRIMARY KEY ("task_id"),
        CONSTRAINT "FK_task_leases_task" FOREIGN KEY ("task_id")
          REFERENCES "tasks" ("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "IDX_task_leases_lease" ON "task_leases" ("lease_id")`,
    );
    // The sweep looks for expired leases.
    await queryRunner.query(
      `CREATE INDEX "IDX_task_leases_expires" ON "task_leases" ("expires_at")`,
    );
    await queryRunner.query(`
      CREATE INDEX "IDX_tasks_leasable" ON "tasks" ("start_time", "id") WHERE status IN (2, 6)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_tasks_leasable"`);
    await queryRunner.query(`DROP TABLE "task_leases"`);
  }
}
