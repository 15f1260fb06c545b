// Signatures of signed writes already acted on, so that a replay of the same
// signed bytes is refused on every replica (src/iam/signature-replays.ts).
// Written and swept with raw statements only: no entity maps this table.

import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AcceptedSignatures1764800000000 implements MigrationInterface {
  name = 'AcceptedSignatures1764800000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "accepted_signatures" (
        "signature" character(64) NOT NULL,
        "signed_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "PK_accepted_signatures" PRIMARY KEY ("signature")
      )`);
    // The sweep deletes the oldest rows.
    await queryRunner.query(
      `CREATE INDEX "IDX_accepted_signatures_signed_at" ON "accepted_signatures" ("signed_at")`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "accepted_signatures"`);
  }
}
