// Where the events relay (src/events/event-relay.ts) has got to in each
// outbox: the id of the last audit row published (or skipped as never to
// appear). Written after JetStream has acknowledged a batch, so it may lag
// the stream by one batch after a crash; the relay then reads the stream's
// last message as well and takes the larger.

import type { MigrationInterface, QueryRunner } from 'typeorm';

export class EventRelay1796170100000 implements MigrationInterface {
  name = 'EventRelay1796170100000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "event_relay_cursors" ("outbox" text NOT NULL, "last_id" bigint NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_event_relay_cursors" PRIMARY KEY ("outbox"))`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "event_relay_cursors"`);
  }
}
