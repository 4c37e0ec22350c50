import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Frozen here as it was when this migration ran; OPT_OUT_KEYWORD_PREDICATE in @app/messaging must stay equal. */
const OPT_OUT_KEYWORD_PREDICATE = `upper(btrim("text")) IN ('STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'START', 'UNSTOP')`;

/**
 * Sending for real: connections gain an outbound side, and accepted messages
 * wait in an outbox in the same database, so that the message and its
 * delivery job commit together and an acknowledged message is never lost.
 *
 * - `gateways`: `smpp` joins the providers; SMPP has no webhook, so it has no
 *   signing secret. `outbound` holds the public settings (shown by the API);
 *   its credentials are sealed apart, like the signing secret.
 * - `gateway_senders`: the numbers a connection sends from, one connection per
 *   number (the primary key), gone with their connection.
 * - `outbound_rate_windows`: each connection's sends in the current second,
 *   shared by every instance, so ratePerSecond holds across them.
 * - `messages.delivery_status`: where a sent-for-real message stands, next to
 *   the message, so threads and the live stream read it without a join.
 * - `outbound_messages`: the outbox, one job per message. Workers claim due
 *   jobs with FOR UPDATE SKIP LOCKED; `sending` carries a lease, so a job whose
 *   instance died is found again. The provider's id is unique per connection:
 *   status reports find their message by it. No foreign key to `gateways`: a
 *   deleted connection fails its queued messages with a reason instead of
 *   erasing them.
 * - `delivery_reports`: reports that arrived before the submit's answer was
 *   stored; applied when it is. An SMPP receipt also keeps the message's
 *   addresses and first characters, by which it can find a message whose
 *   answer was never stored (a crash): see RECOGNIZE_UNKNOWN_OUTCOMES.
 * - `IDX_messages_opt_out_keywords`: the received STOP/START keywords, a tiny
 *   partial index. A counterpart's opt-out is its latest keyword message to
 *   the number, read from the messages themselves: no second record to keep
 *   in step, and erasing a number's messages erases its opt-outs with them.
 */
export class CreateOutbound1764080000000 implements MigrationInterface {
  name = 'CreateOutbound1764080000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE "gateways"
        DROP CONSTRAINT "CHK_gateways_provider",
        ADD CONSTRAINT "CHK_gateways_provider" CHECK ("provider" IN ('twilio', 'android-sms-gateway', 'textbee', 'smpp')),
        ALTER COLUMN "secret_key_id" DROP NOT NULL,
        ALTER COLUMN "secret_sealed" DROP NOT NULL,
        ADD COLUMN "outbound" jsonb,
        ADD COLUMN "outbound_key_id" varchar(16),
        ADD COLUMN "outbound_sealed" bytea,
        ADD CONSTRAINT "CHK_gateways_secret" CHECK (("secret_sealed" IS NULL) = ("secret_key_id" IS NULL) AND ("secret_sealed" IS NOT NULL OR "provider" = 'smpp')),
        ADD CONSTRAINT "CHK_gateways_outbound" CHECK (("outbound_sealed" IS NULL) = ("outbound_key_id" IS NULL) AND ("outbound" IS NOT NULL OR "provider" <> 'smpp'))
    `);
    await queryRunner.query(`
      CREATE TABLE "gateway_senders" (
        "phone" varchar(32) PRIMARY KEY,
        "gateway_id" uuid NOT NULL,
        CONSTRAINT "FK_gateway_senders_gateway" FOREIGN KEY ("gateway_id") REFERENCES "gateways" ("id") ON DELETE CASCADE
      )
    `);
    await queryRunner.query(
      `CREATE INDEX "IDX_gateway_senders_gateway" ON "gateway_senders" ("gateway_id")`,
    );
    await queryRunner.query(`
      CREATE TABLE "outbound_rate_windows" (
        "gateway_id" uuid PRIMARY KEY,
        "window_start" timestamptz NOT NULL,
        "used" integer NOT NULL,
        CONSTRAINT "FK_outbound_rate_windows_gateway" FOREIGN KEY ("gateway_id") REFERENCES "gateways" ("id") ON DELETE CASCADE
      )
    `);
    await queryRunner.query(`
      ALTER TABLE "messages"
        ADD COLUMN "delivery_status" varchar(10),
        ADD CONSTRAINT "CHK_messages_delivery_status" CHECK ("delivery_status" IN ('queued', 'sending', 'sent', 'delivered', 'failed'))
    `);
    await queryRunner.query(`
      CREATE TABLE "outbound_messages" (
        "message_uuid" uuid PRIMARY KEY,
        "gateway_id" uuid NOT NULL,
        "status" varchar(10) NOT NULL,
        "attempts" smallint NOT NULL DEFAULT 0,
        "next_attempt_at" timestamptz NOT NULL DEFAULT now(),
        "lease_until" timestamptz,
        "provider_message_id" varchar(128),
        "error_code" varchar(64),
        "error_reason" varchar(500),
        "queued_at" timestamptz NOT NULL DEFAULT now(),
        "sent_at" timestamptz,
        "delivered_at" timestamptz,
        "failed_at" timestamptz,
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "CHK_outbound_messages_status" CHECK ("status" IN ('queued', 'sending', 'sent', 'delivered', 'failed')),
        CONSTRAINT "FK_outbound_messages_message" FOREIGN KEY ("message_uuid") REFERENCES "messages" ("uuid") ON DELETE CASCADE
      )
    `);
    await queryRunner.query(
      `CREATE INDEX "IDX_outbound_messages_due" ON "outbound_messages" ("gateway_id", "next_attempt_at") WHERE "status" = 'queued'`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_outbound_messages_leased" ON "outbound_messages" ("lease_until") WHERE "status" = 'sending'`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "IDX_outbound_messages_provider_id" ON "outbound_messages" ("gateway_id", "provider_message_id") WHERE "provider_message_id" IS NOT NULL`,
    );
    await queryRunner.query(`
      CREATE TABLE "delivery_reports" (
        "gateway_id" uuid NOT NULL,
        "provider_message_id" varchar(128) NOT NULL,
        "status" varchar(10) NOT NULL,
        "error_code" varchar(64),
        "error_reason" varchar(500),
        "sender_address" varchar(32),
        "receiver_address" varchar(32),
        "text_start" varchar(160),
        "reported_at" timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY ("gateway_id", "provider_message_id", "status"),
        CONSTRAINT "CHK_delivery_reports_status" CHECK ("status" IN ('sent', 'delivered', 'failed'))
      )
    `);
    await queryRunner.query(
      `CREATE INDEX "IDX_messages_opt_out_keywords" ON "messages" ("receiver_phone", "sender_phone", "occurred_at") WHERE ${OPT_OUT_KEYWORD_PREDICATE}`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_messages_opt_out_keywords"`);
    await queryRunner.query(`DROP TABLE "delivery_reports"`);
    await queryRunner.query(`DROP TABLE "outbound_messages"`);
    await queryRunner.query(
      `ALTER TABLE "messages" DROP CONSTRAINT "CHK_messages_delivery_status", DROP COLUMN "delivery_status"`,
    );
    await queryRunner.query(`DROP TABLE "outbound_rate_windows"`);
    await queryRunner.query(`DROP TABLE "gateway_senders"`);
    await queryRunner.query(`DELETE FROM "gateways" WHERE "provider" = 'smpp'`);
    await queryRunner.query(`
      ALTER TABLE "gateways"
        DROP CONSTRAINT "CHK_gateways_outbound",
        DROP CONSTRAINT "CHK_gateways_secret",
        DROP COLUMN "outbound_sealed",
        DROP COLUMN "outbound_key_id",
        DROP COLUMN "outbound",
        ALTER COLUMN "secret_sealed" SET NOT NULL,
        ALTER COLUMN "secret_key_id" SET NOT NULL,
        DROP CONSTRAINT "CHK_gateways_provider",
        ADD CONSTRAINT "CHK_gateways_provider" CHECK ("provider" IN ('twilio', 'android-sms-gateway', 'textbee'))
    `);
  }
}
