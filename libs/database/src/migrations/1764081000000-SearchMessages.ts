import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The search configuration's name with its schema, quoted for a SQL literal.
 * The index's function names it with its schema: ANALYZE, VACUUM and REINDEX
 * run index expressions with a search_path of pg_catalog only (PostgreSQL 17+).
 */
export async function searchConfigurationName(queryRunner: QueryRunner): Promise<string> {
  const [{ schema }] = (await queryRunner.query(`SELECT current_schema() AS schema`)) as Array<{
    schema: string;
  }>;
  return `"${schema.replace(/"/g, '""')}".sms_search`.replace(/'/g, "''");
}

/**
 * The document function as this migration first wrote it, prefixing each
 * lexeme with regexp_replace (26 µs a message; 1764084000000 gives it a body
 * that returns the same document in 11 µs). Kept as the reference the faster
 * body is tested against, and for that migration's down.
 */
export function regexpSearchDocument(name: string, configuration: string): string {
  return `
      CREATE OR REPLACE FUNCTION ${name}(body text, sender varchar, receiver varchar)
        RETURNS tsvector LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL RESTRICTED COST 500
      AS $$
      DECLARE
        words text;
      BEGIN
        -- Only a text this long can hold a word too long to prefix (a lexeme has at most 2047 bytes).
        IF octet_length(body) > 1000 THEN
          body := regexp_replace(body, '\\S{255}\\S+', ' ', 'g');
        END IF;
        words := to_tsvector('${configuration}'::regconfig, body)::text;
        IF sender = receiver THEN
          RETURN regexp_replace(words, '(^| )''', '\\1''' || sender || '|', 'g')::tsvector;
        END IF;
        RETURN (regexp_replace(words, '(^| )''', '\\1''' || sender || '|', 'g') || ' ' ||
                regexp_replace(words, '(^| )''', '\\1''' || receiver || '|', 'g'))::tsvector;
      END
      $$`;
}

/**
 * Full-text search over a number's messages (GET /api/phones/{phone}/search).
 *
 * - `sms_search`: a text search configuration that folds accents (`unaccent`,
 *   so `cafe` finds `Café`) and case, without stemming or stop words: SMS come
 *   in every language, and a stemmer for one mangles the others. Where the
 *   `unaccent` extension cannot be created (a managed server without it, no
 *   privilege), the configuration folds case only and accents must match:
 *   the documented fallback.
 * - `sms_search_document(text, sender, receiver)`: each word of the text once
 *   per party, prefixed with that party (`'+12025550143|tomorrow':3`). One GIN
 *   index over it answers "this number's messages with these words" inside
 *   the number's own entries: a word's, or a prefix's, matches among other
 *   numbers' messages are never read, so a search costs what the number's
 *   matches cost whatever the table's size. Positions are kept, for phrases.
 *   Runs of over 255 non-blank characters in texts over 1000 bytes are left
 *   out rather than fail the insert (a prefixed lexeme must fit in 2047 bytes). PARALLEL RESTRICTED keeps the planner from starting parallel
 *   workers (milliseconds each) for a search that reads a few hundred rows.
 * - `sms_party_query(query, party)`: a tsquery of `sms_search` words turned
 *   into one over that party's entries.
 * - `IDX_messages_search`: the GIN index (fastupdate: inserts go to its
 *   pending list, merged in the background by autovacuum; a smaller list
 *   since SmallSearchPendingList1764085000000).
 */
export class SearchMessages1764081000000 implements MigrationInterface {
  name = 'SearchMessages1764081000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    const configuration = await searchConfigurationName(queryRunner);
    await queryRunner.query(`
      DO $$
      BEGIN
        CREATE EXTENSION IF NOT EXISTS unaccent;
      EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'unaccent is not available (%): search folds case only, accents must match', SQLERRM;
      END
      $$
    `);
    await queryRunner.query(
      `CREATE TEXT SEARCH CONFIGURATION "sms_search" (COPY = pg_catalog.simple)`,
    );
    await queryRunner.query(`
      DO $$
      BEGIN
        IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'unaccent') THEN
          ALTER TEXT SEARCH CONFIGURATION "sms_search"
            ALTER MAPPING FOR word, hword, hword_part, numword, numhword, hword_numpart
            WITH unaccent, simple;
        END IF;
      END
      $$
    `);
    await queryRunner.query(regexpSearchDocument('"sms_search_document"', configuration));
    await queryRunner.query(`
      CREATE FUNCTION "sms_party_query"(query tsquery, party varchar)
        RETURNS tsquery LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        RETURN regexp_replace(query::text, '(^|[ (!])''', '\\1''' || party || '|', 'g')::tsquery
    `);
    await queryRunner.query(`
      CREATE INDEX "IDX_messages_search" ON "messages"
        USING gin ("sms_search_document"("text", "sender_phone", "receiver_phone"))
    `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_messages_search"`);
    await queryRunner.query(`DROP FUNCTION "sms_party_query"(tsquery, varchar)`);
    await queryRunner.query(`DROP FUNCTION "sms_search_document"(text, varchar, varchar)`);
    await queryRunner.query(`DROP TEXT SEARCH CONFIGURATION "sms_search"`);
    // unaccent stays: other schemas' objects may use it.
  }
}
