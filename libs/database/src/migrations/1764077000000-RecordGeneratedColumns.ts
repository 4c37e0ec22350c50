import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * TypeORM reads a generated column's expression from its own `typeorm_metadata`
 * table, not from the catalog, which words it differently. Our migrations are
 * raw SQL, so that table never existed, and the schema builder (and so
 * `migration:generate`) would drop and re-add `party_low`/`party_high`. This
 * creates the table as TypeORM would and records both expressions exactly as
 * the Message entity spells them. The schema itself does not change.
 * TypeORM itself creates the table before migrating when the data source
 * lists entities with generated columns (the app's does, the CLI's and the
 * tests' do not), hence IF NOT EXISTS.
 */
const GENERATED_COLUMN_ROWS_DELETE = `
  DELETE FROM "typeorm_metadata"
  WHERE "type" = 'GENERATED_COLUMN' AND "table" = 'messages' AND "name" IN ('party_low', 'party_high')
    AND "database" = current_database() AND "schema" = current_schema()`;

export class RecordGeneratedColumns1764077000000 implements MigrationInterface {
  name = 'RecordGeneratedColumns1764077000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE IF NOT EXISTS "typeorm_metadata" (
        "type" varchar NOT NULL,
        "database" varchar,
        "schema" varchar,
        "table" varchar,
        "name" varchar,
        "value" text
      )
    `);
    await queryRunner.query(GENERATED_COLUMN_ROWS_DELETE);
    // TypeORM looks rows up by database and schema name, as it would have stored them.
    await queryRunner.query(`
      INSERT INTO "typeorm_metadata" ("type", "database", "schema", "table", "name", "value")
      VALUES
        ('GENERATED_COLUMN', current_database(), current_schema(), 'messages', 'party_low', 'LEAST("sender_phone", "receiver_phone")'),
        ('GENERATED_COLUMN', current_database(), current_schema(), 'messages', 'party_high', 'GREATEST("sender_phone", "receiver_phone")')
    `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    // The table stays: TypeORM may use it for other metadata.
    await queryRunner.query(GENERATED_COLUMN_ROWS_DELETE);
  }
}
