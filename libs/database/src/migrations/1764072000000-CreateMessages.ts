import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One row per message, keyed by the client's uuid. `send-sms` and
 * `receive-sms` are two events of the same message, so each fills its own
 * timestamp column. `occurred_at` is the message's place in a conversation:
 * the time of the first event reported, never changed afterwards, so that a
 * cursor into a conversation stays valid while the other event arrives.
 */
export class CreateMessages1764072000000 implements MigrationInterface {
  name = 'CreateMessages1764072000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "messages" (
        "uuid" uuid PRIMARY KEY,
        "sender_phone" varchar(32) NOT NULL,
        "receiver_phone" varchar(32) NOT NULL,
        "text" text NOT NULL,
        "encoding" varchar(5) NOT NULL,
        "segments" smallint NOT NULL,
        "sent_at" timestamptz,
        "received_at" timestamptz,
        "occurred_at" timestamptz NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "CHK_messages_has_event" CHECK ("sent_at" IS NOT NULL OR "received_at" IS NOT NULL),
        CONSTRAINT "CHK_messages_encoding" CHECK ("encoding" IN ('GSM-7', 'UCS-2')),
        CONSTRAINT "CHK_messages_text_length" CHECK (char_length("text") BETWEEN 1 AND 1600)
      )
    `);
    // A conversation is every message where the number is either party, newest
    // first: one range scan per side, merged (see MessagesRepository).
    await queryRunner.query(
      `CREATE INDEX "IDX_messages_sender_time" ON "messages" ("sender_phone", "occurred_at", "uuid")`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_messages_receiver_time" ON "messages" ("receiver_phone", "occurred_at", "uuid")`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "messages"`);
  }
}
