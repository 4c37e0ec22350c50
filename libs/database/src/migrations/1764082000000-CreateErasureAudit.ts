import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The record of every erasure (DELETE /api/phones/{phone}/messages) and every
 * retention run: who asked, when, for which number (an HMAC of it, never the
 * number) and how many rows changed, never any content. A row is written when
 * the work starts and its counts grow in the same transaction as each batch,
 * so it stays exact when a run is cut short; `finished_at` tells a finished one.
 * No foreign key to `api_keys`: the record outlives anything it names.
 */
export class CreateErasureAudit1764082000000 implements MigrationInterface {
  name = 'CreateErasureAudit1764082000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "erasure_audit" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "action" varchar(16) NOT NULL,
        "actor" varchar(16) NOT NULL,
        "key_id" uuid,
        "phone_hash" varchar(64),
        "messages_changed" integer NOT NULL DEFAULT 0,
        "summaries_changed" integer NOT NULL DEFAULT 0,
        "started_at" timestamptz NOT NULL DEFAULT now(),
        "finished_at" timestamptz,
        CONSTRAINT "CHK_erasure_audit_action" CHECK ("action" IN ('erase', 'retention')),
        CONSTRAINT "CHK_erasure_audit_actor" CHECK ("actor" IN ('admin', 'key', 'retention')),
        CONSTRAINT "CHK_erasure_audit_subject" CHECK (("action" = 'erase') = ("phone_hash" IS NOT NULL))
      )
    `);
    // The listing, newest first: one backward range scan.
    await queryRunner.query(
      `CREATE INDEX "IDX_erasure_audit_started" ON "erasure_audit" ("started_at", "id")`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "erasure_audit"`);
  }
}
