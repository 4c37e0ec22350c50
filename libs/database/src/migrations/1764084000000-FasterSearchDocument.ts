import type { MigrationInterface, QueryRunner } from 'typeorm';
import { regexpSearchDocument, searchConfigurationName } from './1764081000000-SearchMessages.js';

/**
 * The search index's document function, with a body that returns the same
 * document in 11 µs a message instead of 26 (PostgreSQL 15, a 50-byte text):
 * every write of a message computes it, so it was most of what the search
 * index added to a send and to an import.
 *
 * It prefixes each lexeme of the text's tsvector with the party by plain
 * `replace()` of the lexemes' opening quotes, where the first body ran two
 * `regexp_replace()` over the same string. In a tsvector's text a lexeme opens
 * with `'` at the start or after a space, and a quote inside a lexeme is
 * doubled and follows a character of the lexeme, so both find the same
 * places. The index stays valid without a rebuild because the output is the
 * same for every input (test/search-document.e2e-spec.ts compares the two
 * bodies over a corpus of hostile texts).
 */
export class FasterSearchDocument1764084000000 implements MigrationInterface {
  name = 'FasterSearchDocument1764084000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      replaceSearchDocument('"sms_search_document"', await searchConfigurationName(queryRunner)),
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      regexpSearchDocument('"sms_search_document"', await searchConfigurationName(queryRunner)),
    );
  }
}

/** The function's body since this migration; `name` lets a test create it under another name. */
export function replaceSearchDocument(name: string, configuration: string): string {
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
        -- 'word':1 'other':2 ...; without its first quote, so that each party's copy
        -- is its own opening quote and prefix, then the rest with every " '" prefixed.
        words := substr(to_tsvector('${configuration}'::regconfig, body)::text, 2);
        IF words = '' THEN
          RETURN ''::tsvector;
        END IF;
        IF sender = receiver THEN
          RETURN ('''' || sender || '|' || replace(words, ' ''', ' ''' || sender || '|'))::tsvector;
        END IF;
        RETURN ('''' || sender || '|' || replace(words, ' ''', ' ''' || sender || '|') || ' ''' ||
                receiver || '|' || replace(words, ' ''', ' ''' || receiver || '|'))::tsvector;
      END
      $$`;
}
