import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhooks to the users' own systems: every change of a message becomes an
 * event for each webhook that wants it, in the transaction that made the
 * change, so a committed message always has its events and a crash loses none.
 *
 * - `webhooks`: where to post, which events, optionally which numbers; the
 *   signing secret sealed like the gateways' (it signs, so it cannot be hashed).
 *   `failing_since` is the first failed attempt since the last accepted one:
 *   three days of it disable the webhook, with the reason kept.
 * - `webhook_events`: the queue, one row per (webhook, event). `id` orders a
 *   message's events: the change that makes one holds the message's row lock
 *   until it commits, so a later change of the message gets a later id, and
 *   a worker never claims an event while an earlier one of the same message
 *   and webhook is still open. It keeps what changed (the times and the
 *   delivery status as they were then); the rest of the message is read when
 *   it is delivered, so an erased message is never delivered with its text.
 *   No foreign key to `messages`: retention deletes old messages, and the
 *   worker drops their events. `queued_at` starts the 24 hours of retries
 *   (a redelivery starts them again); `occurred_at` is the event's time.
 * - `webhook_deliveries`: every attempt, with status code, latency and error;
 *   the worker keeps each webhook's last 100.
 * - Triggers on `messages` write the events: every path that changes a
 *   message (reports, imports, sends for real and their status, erasure)
 *   goes through them, including any added later. They are statement-level
 *   with transition tables, so an import of 1000 messages fires once, and
 *   they return at once while no webhook is enabled (measured: ~8 µs of
 *   PostgreSQL time per statement).
 */
export class CreateWebhooks1764083000000 implements MigrationInterface {
  name = 'CreateWebhooks1764083000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "webhooks" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "url" varchar(2048) NOT NULL,
        "events" varchar(32)[] NOT NULL,
        "phones" varchar(32)[],
        "secret_key_id" varchar(16) NOT NULL,
        "secret_sealed" bytea NOT NULL,
        "created_by" varchar(64) NOT NULL,
        "enabled" boolean NOT NULL DEFAULT true,
        "disabled_at" timestamptz,
        "disabled_reason" varchar(500),
        "failing_since" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "CHK_webhooks_events" CHECK (cardinality("events") > 0 AND "events" <@ ARRAY['message.created', 'message.updated', 'message.erased']::varchar[]),
        CONSTRAINT "CHK_webhooks_disabled" CHECK ("enabled" = ("disabled_at" IS NULL))
      )
    `);
    await queryRunner.query(`
      CREATE TABLE "webhook_events" (
        "id" bigserial PRIMARY KEY,
        "event_id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "webhook_id" uuid NOT NULL,
        "type" varchar(32) NOT NULL,
        "message_uuid" uuid NOT NULL,
        "viewer" varchar(32) NOT NULL,
        "sent_at" timestamptz,
        "received_at" timestamptz,
        "delivery_status" varchar(10),
        "occurred_at" timestamptz NOT NULL DEFAULT now(),
        "queued_at" timestamptz NOT NULL DEFAULT now(),
        "state" varchar(10) NOT NULL DEFAULT 'pending',
        "attempts" smallint NOT NULL DEFAULT 0,
        "next_attempt_at" timestamptz NOT NULL DEFAULT now(),
        "lease_until" timestamptz,
        "finished_at" timestamptz,
        CONSTRAINT "CHK_webhook_events_state" CHECK ("state" IN ('pending', 'delivering', 'delivered', 'failed')),
        CONSTRAINT "FK_webhook_events_webhook" FOREIGN KEY ("webhook_id") REFERENCES "webhooks" ("id") ON DELETE CASCADE
      )
    `);
    await queryRunner.query(
      `CREATE INDEX "IDX_webhook_events_due" ON "webhook_events" ("webhook_id", "next_attempt_at", "id") WHERE "state" = 'pending'`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_webhook_events_open" ON "webhook_events" ("webhook_id", "message_uuid", "id") WHERE "state" IN ('pending', 'delivering')`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_webhook_events_leased" ON "webhook_events" ("lease_until") WHERE "state" = 'delivering'`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_webhook_events_finished" ON "webhook_events" ("finished_at") WHERE "state" IN ('delivered', 'failed')`,
    );
    await queryRunner.query(`
      CREATE TABLE "webhook_deliveries" (
        "id" bigserial PRIMARY KEY,
        "webhook_id" uuid NOT NULL,
        "event_row" bigint NOT NULL,
        "event_id" uuid NOT NULL,
        "type" varchar(32) NOT NULL,
        "message_uuid" uuid NOT NULL,
        "attempted_at" timestamptz NOT NULL DEFAULT now(),
        "status_code" smallint,
        "latency_ms" integer NOT NULL,
        "error" varchar(500),
        "accepted" boolean NOT NULL,
        CONSTRAINT "FK_webhook_deliveries_webhook" FOREIGN KEY ("webhook_id") REFERENCES "webhooks" ("id") ON DELETE CASCADE
      )
    `);
    await queryRunner.query(
      `CREATE INDEX "IDX_webhook_deliveries_webhook" ON "webhook_deliveries" ("webhook_id", "id")`,
    );
    await queryRunner.query(`
      CREATE FUNCTION webhook_events_of_inserts() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NOT EXISTS (SELECT 1 FROM webhooks WHERE enabled) THEN RETURN NULL; END IF;
        INSERT INTO webhook_events
          (webhook_id, type, message_uuid, viewer, sent_at, received_at, delivery_status)
        SELECT w.id, 'message.created', n.uuid,
               CASE WHEN w.phones IS NULL OR n.sender_phone = ANY (w.phones)
                    THEN n.sender_phone ELSE n.receiver_phone END,
               n.sent_at, n.received_at, n.delivery_status
        FROM inserted_messages AS n
        JOIN webhooks AS w ON w.enabled AND 'message.created' = ANY (w.events)
          AND (w.phones IS NULL OR w.phones && ARRAY[n.sender_phone, n.receiver_phone]);
        RETURN NULL;
      END $$
    `);
    // A change of party is an erasure (nothing else changes one); a change of the
    // times or the delivery status is an update; anything else (updated_at alone) is none.
    // Webhooks are matched by the parties before the change, so an erased
    // number's webhooks hear of its erasure; they see the message as it is now.
    await queryRunner.query(`
      CREATE FUNCTION webhook_events_of_updates() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NOT EXISTS (SELECT 1 FROM webhooks WHERE enabled) THEN RETURN NULL; END IF;
        INSERT INTO webhook_events
          (webhook_id, type, message_uuid, viewer, sent_at, received_at, delivery_status)
        SELECT w.id, c.type, n.uuid,
               CASE WHEN w.phones IS NULL OR o.sender_phone = ANY (w.phones)
                    THEN n.sender_phone ELSE n.receiver_phone END,
               n.sent_at, n.received_at, n.delivery_status
        FROM updated_messages AS n
        JOIN messages_before AS o ON o.uuid = n.uuid
        CROSS JOIN LATERAL (SELECT CASE
          WHEN (n.sender_phone, n.receiver_phone) IS DISTINCT FROM (o.sender_phone, o.receiver_phone)
            THEN 'message.erased'
          WHEN (n.sent_at, n.received_at, n.delivery_status) IS DISTINCT FROM (o.sent_at, o.received_at, o.delivery_status)
            THEN 'message.updated'
        END AS type) AS c
        JOIN webhooks AS w ON w.enabled AND c.type = ANY (w.events)
          AND (w.phones IS NULL OR w.phones && ARRAY[o.sender_phone, o.receiver_phone]);
        RETURN NULL;
      END $$
    `);
    await queryRunner.query(`
      CREATE TRIGGER "TRG_messages_webhook_inserts" AFTER INSERT ON "messages"
        REFERENCING NEW TABLE AS inserted_messages
        FOR EACH STATEMENT EXECUTE FUNCTION webhook_events_of_inserts()
    `);
    await queryRunner.query(`
      CREATE TRIGGER "TRG_messages_webhook_updates" AFTER UPDATE ON "messages"
        REFERENCING OLD TABLE AS messages_before NEW TABLE AS updated_messages
        FOR EACH STATEMENT EXECUTE FUNCTION webhook_events_of_updates()
    `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER "TRG_messages_webhook_updates" ON "messages"`);
    await queryRunner.query(`DROP TRIGGER "TRG_messages_webhook_inserts" ON "messages"`);
    await queryRunner.query(`DROP FUNCTION webhook_events_of_updates()`);
    await queryRunner.query(`DROP FUNCTION webhook_events_of_inserts()`);
    await queryRunner.query(`DROP TABLE "webhook_deliveries"`);
    await queryRunner.query(`DROP TABLE "webhook_events"`);
    await queryRunner.query(`DROP TABLE "webhooks"`);
  }
}
