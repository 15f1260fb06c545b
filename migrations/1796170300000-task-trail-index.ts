// The audit trail is read a page at a time, oldest first by id, for one task
// (GET .../tasks/{task_id}/transitions); the lost-answer look-ups read a
// task's latest row. An index on (task_id, id) serves both in order, where
// the one on task_id alone made each sort all of the task's rows; it covers
// every look-up by task_id, so it takes that index's place.

import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TaskTrailIndex1796170300000 implements MigrationInterface {
  name = 'TaskTrailIndex1796170300000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "IDX_task_transitions_task_id" ON "task_transitions" ("task_id", "id")`,
    );
    await queryRunner.query(`DROP INDEX "IDX_task_transitions_task"`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "IDX_task_transitions_task" ON "task_transitions" ("task_id")`,
    );
    await queryRunner.query(`DROP INDEX "IDX_task_transitions_task_id"`);
  }
}
