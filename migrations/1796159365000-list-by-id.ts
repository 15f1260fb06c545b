// Listing pages through a project's tasks oldest first by id (ids of a
// project grow in commit order, so a task created while a client pages
// cannot shift a page it has read); the index that served newest first by
// creation time gives way to one in that order.

import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ListById1796159365000 implements MigrationInterface {
  name = 'ListById1796159365000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_tasks_project_created"`);
    await queryRunner.query(`CREATE INDEX "IDX_tasks_project_id" ON "tasks" ("project_id", "id")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_tasks_project_id"`);
    await queryRunner.query(
      `CREATE INDEX "IDX_tasks_project_created" ON "tasks" ("project_id", "created_at", "id")`,
    );
  }
}
