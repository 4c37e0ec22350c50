import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * API keys bound to phone numbers. Only the SHA-256 of a secret is stored; the
 * unique index on it is how a request's key is found. Revoked keys stay, with
 * their revocation time, so the key list keeps its history.
 */
export class CreateApiKeys1764075000000 implements MigrationInterface {
  name = 'CreateApiKeys1764075000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "api_keys" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "label" varchar(100) NOT NULL,
        "key_hash" bytea NOT NULL,
        "key_prefix" varchar(16) NOT NULL,
        "phones" text[] NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "revoked_at" timestamptz,
        CONSTRAINT "UQ_api_keys_key_hash" UNIQUE ("key_hash"),
        CONSTRAINT "CHK_api_keys_key_hash_length" CHECK (octet_length("key_hash") = 32),
        CONSTRAINT "CHK_api_keys_has_phones" CHECK (cardinality("phones") >= 1)
      )
    `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "api_keys"`);
  }
}
