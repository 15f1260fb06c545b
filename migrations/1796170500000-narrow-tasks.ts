// Narrows the row a stop rewrites (issue 16). A stop writes `status` and
// `updated_at`, but PostgreSQL writes a whole new version of the row, and a
// task's row carried everything the task object shows: the source and
// destination, the bandwidth policy, the options, the sealed keys and twelve
// data-plane figures, about 220 bytes with nothing filled in. With a million
// tasks the table was 322 MB; the pages a run of stops touches at random did
// not stay in shared buffers, so most stops read a page back and wrote a
// dirty one out. In pgbench (16 clients, 5 interleaved rounds, one run) the
// plain stop on this table made 0.67× the transactions of the same stop on
// a table of id, project and status; on a copy of `tasks` without the
// columns below, 0.93×. BENCHMARKS.md has the service's own figures.
//
// `tasks` keeps what operators insert (id, project_id, name, status), what
// its indexes cover (queue, task_priority, group_id, start_time, created_at)
// and updated_at. Everything else moves to `task_details`, one row per task,
// which only create, start, a failure, the bandwidth edits, the heartbeat
// and the events relay write. Every task has its row: the creates insert it
// in the same statement as the task, and a trigger gives a row inserted by
// hand (with only the four columns) one of defaults.
//
// DROP COLUMN only hides a column; CLUSTER rewrites the table so that the
// rows lose the dropped values (and take the fill factor of 70). It holds
// an ACCESS EXCLUSIVE lock on `tasks` while it runs: about 10 s per million
// tasks on the bench machine (docs/database.md).

import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The columns that move, with their definitions, in the order they had. */
const MOVED = [
  `"description" character varying(255) NOT NULL DEFAULT ''`,
  `"task_type" character varying(16) NOT NULL DEFAULT 'object'`,
  `"src_node" jsonb NOT NULL DEFAULT '{}'`,
  `"dst_node" jsonb NOT NULL DEFAULT '{}'`,
  `"bandwidth_policy" jsonb NOT NULL DEFAULT '[]'`,
  `"options" jsonb NOT NULL DEFAULT '{}'`,
  `"secrets" bytea`,
  `"migrate_since" TIMESTAMP WITH TIME ZONE`,
  `"progress" double precision NOT NULL DEFAULT '0'`,
  `"complete_size" bigint NOT NULL DEFAULT '0'`,
  `"total_size" bigint NOT NULL DEFAULT '0'`,
  `"real_size" bigint NOT NULL DEFAULT '0'`,
  `"migrate_speed" bigint NOT NULL DEFAULT '0'`,
  `"left_time" bigint NOT NULL DEFAULT '0'`,
  `"total_time" bigint NOT NULL DEFAULT '0'`,
  `"total_num" bigint NOT NULL DEFAULT '0'`,
  `"successful_num" bigint NOT NULL DEFAULT '0'`,
  `"failed_num" bigint NOT NULL DEFAULT '0'`,
  `"skipped_num" bigint NOT NULL DEFAULT '0'`,
  `"is_query_over" boolean NOT NULL DEFAULT false`,
  `"error_reason" jsonb`,
];
const MOVED_NAMES = MOVED.map((definition) => definition.split(' ')[0]).join(', ');
const TASK_TYPE_CHECK = `"task_type" IN ('list', 'object', 'prefix', 'url_list')`;

export class NarrowTasks1796170500000 implements MigrationInterface {
  name = 'NarrowTasks1796170500000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "task_details" (
        "task_id" bigint NOT NULL,
        ${MOVED.join(',\n        ')},
        CONSTRAINT "PK_task_details" PRIMARY KEY ("task_id"),
        CONSTRAINT "CHK_task_details_task_type" CHECK (${TASK_TYPE_CHECK}),
        CONSTRAINT "FK_task_details_task" FOREIGN KEY ("task_id")
          REFERENCES "tasks"("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(`
      INSERT INTO "task_details" ("task_id", ${MOVED_NAMES})
      SELECT "id", ${MOVED_NAMES} FROM "tasks"`);
    await queryRunner.query(`ALTER TABLE "tasks" DROP CONSTRAINT "CHK_tasks_task_type"`);
    for (const definition of MOVED) {
      await queryRunner.query(`ALTER TABLE "tasks" DROP COLUMN ${definition.split(' ')[0]}`);
    }
    await queryRunner.query(`
      CREATE FUNCTION "tasks_have_details"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO task_details (task_id) VALUES (NEW.id) ON CONFLICT (task_id) DO NOTHING;
        RETURN NULL;
      END $$`);
    // AFTER: a create's own statement inserts the task's details beside it,
    // and an AFTER trigger runs once that statement is done, so it finds
    // them there and does nothing.
    await queryRunner.query(`
      CREATE TRIGGER "tasks_have_details" AFTER INSERT ON "tasks"
      FOR EACH ROW EXECUTE FUNCTION "tasks_have_details"()`);
    await queryRunner.query(`CLUSTER "tasks" USING "PK_8d12ff38fcc62aaba2cab748772"`);
    await queryRunner.query(`ALTER TABLE "tasks" SET WITHOUT CLUSTER`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER "tasks_have_details" ON "tasks"`);
    await queryRunner.query(`DROP FUNCTION "tasks_have_details"()`);
    for (const definition of MOVED) {
      await queryRunner.query(`ALTER TABLE "tasks" ADD ${definition}`);
    }
    await queryRunner.query(
      `ALTER TABLE "tasks" ADD CONSTRAINT "CHK_tasks_task_type" CHECK (${TASK_TYPE_CHECK})`,
    );
    const assignments = MOVED.map((definition) => definition.split(' ')[0])
      .map((name) => `${name} = d.${name}`)
      .join(', ');
    await queryRunner.query(
      `UPDATE "tasks" SET ${assignments} FROM "task_details" d WHERE d."task_id" = "tasks"."id"`,
    );
    await queryRunner.query(`DROP TABLE "task_details"`);
  }
}
