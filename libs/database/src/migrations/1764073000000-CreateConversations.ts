import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Thread summaries: one row per (owner, counterpart) pair, i.e. two rows per
 * two-party thread, maintained in the same statement as every message write.
 * The thread list then reads a page of this table instead of grouping all of
 * a number's messages. `party_low`/`party_high` give each two-party thread
 * one key, so a thread is a single index range scan of `messages`.
 */
export class CreateConversations1764073000000 implements MigrationInterface {
  name = 'CreateConversations1764073000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE "messages"
        ADD COLUMN "party_low" varchar(32) GENERATED ALWAYS AS (LEAST("sender_phone", "receiver_phone")) STORED,
        ADD COLUMN "party_high" varchar(32) GENERATED ALWAYS AS (GREATEST("sender_phone", "receiver_phone")) STORED
    `);
    await queryRunner.query(
      `CREATE INDEX "IDX_messages_thread_time" ON "messages" ("party_low", "party_high", "occurred_at", "uuid")`,
    );
    await queryRunner.query(`
      CREATE TABLE "conversations" (
        "owner_phone" varchar(32) NOT NULL,
        "counterpart_phone" varchar(32) NOT NULL,
        "last_message_uuid" uuid NOT NULL REFERENCES "messages" ("uuid"),
        "last_occurred_at" timestamptz NOT NULL,
        "message_count" integer NOT NULL,
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY ("owner_phone", "counterpart_phone"),
        CONSTRAINT "CHK_conversations_count" CHECK ("message_count" > 0)
      )
    `);
    await queryRunner.query(
      `CREATE INDEX "IDX_conversations_owner_activity" ON "conversations" ("owner_phone", "last_occurred_at", "counterpart_phone")`,
    );
    // Existing messages: both parties' view of every pair.
    await queryRunner.query(`
      INSERT INTO "conversations" ("owner_phone", "counterpart_phone", "last_message_uuid", "last_occurred_at", "message_count")
      SELECT owner, counterpart,
             (array_agg(uuid ORDER BY occurred_at DESC, uuid DESC))[1],
             max(occurred_at), count(*)
      FROM (
        SELECT sender_phone AS owner, receiver_phone AS counterpart, uuid, occurred_at FROM "messages"
        UNION
        SELECT receiver_phone, sender_phone, uuid, occurred_at FROM "messages"
      ) AS sides
      GROUP BY owner, counterpart
    `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "conversations"`);
    await queryRunner.query(
      `ALTER TABLE "messages" DROP COLUMN "party_high", DROP COLUMN "party_low"`,
    );
  }
}
