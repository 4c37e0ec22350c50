import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Connections to SMS gateways (Twilio, SMS Gateway for Android, textbee).
 * Each holds the provider's signing secret sealed with AES-256-GCM under
 * SECRETS_KEY, and the id of the key that sealed it, so a rotation can tell
 * which rows still need resealing. Deleting a connection deletes the row:
 * its webhook answers 404 from then on, and its messages stay.
 */
export class CreateGateways1764079000000 implements MigrationInterface {
  name = 'CreateGateways1764079000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "gateways" (
        "id" uuid PRIMARY KEY,
        "provider" varchar(32) NOT NULL,
        "label" varchar(100) NOT NULL,
        "phones" text[] NOT NULL,
        "secret_key_id" varchar(16) NOT NULL,
        "secret_sealed" bytea NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "CHK_gateways_provider" CHECK ("provider" IN ('twilio', 'android-sms-gateway', 'textbee')),
        CONSTRAINT "CHK_gateways_has_phones" CHECK (cardinality("phones") >= 1)
      )
    `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "gateways"`);
  }
}
