import { Client } from 'pg';
import { regexpSearchDocument } from '@app/database/migrations/1764081000000-SearchMessages.js';
import { replaceSearchDocument } from '@app/database/migrations/1764084000000-FasterSearchDocument.js';
import { createTestDatabase, type TestDatabase } from './setup/test-database.js';

/** Texts whose tsvector has quotes, escapes, odd tokens, many scripts, or no words at all. */
const HOSTILE_TEXTS = [
  'See you tomorrow at the café',
  "it's Bob's 'quoted' word, don't",
  "a ''b '' c ' ' d'",
  "http://example.com/a'b?c=d'e",
  'mail me: first.last@example.org or x@y.z',
  '12.5% of 3,000 is 375; 0x1F; 1e10',
  'C:\\path\\to\\file.txt and /usr/local/bin',
  "back\\slash \\\\ and \\' quote",
  'Ünïcödé ÀÉÎÕÜ ß œ Æ',
  'Привет, как дела? 你好世界 こんにちは مرحبا שלום',
  'emoji 😀🎉 in 👍🏽 text',
  '!!! ??? ... ---',
  '   ',
  'STOP',
  "'",
  "''",
  'word:1 other:2 "quoted" <-> & | ! ( )',
  `long ${'x'.repeat(300)} word in a long text ${'lorem ipsum '.repeat(90)}`,
  `${'ab'.repeat(600)} ${"'y".repeat(200)}`,
];

/** Random texts over a pool of characters a tsvector's text form treats specially. */
function randomTexts(count: number, seed: number): string[] {
  const pool = [..."ab c'd\\e:f 1 2.3 é ü Ω 中 😀 - _ / @ . , ! ? & | ( ) < > \" ' '' x"];
  let state = seed;
  const next = () => (state = (state * 1_103_515_245 + 12_345) % 2_147_483_648);
  return Array.from({ length: count }, () =>
    Array.from({ length: 1 + (next() % 60) }, () => pool[next() % pool.length]).join(''),
  );
}

/**
 * FasterSearchDocument1764084000000 replaced the search document function's
 * body without rebuilding IDX_messages_search: that is only sound if the new
 * body returns, for every text and pair of parties, exactly what the first one
 * did. Both bodies run side by side here, on a real PostgreSQL.
 */
describe('The search document function (e2e)', () => {
  let database: TestDatabase;
  let db: Client;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = new Client({ connectionString: database.url });
    await db.connect();
    const configuration = `"public".sms_search`;
    await db.query(regexpSearchDocument('pg_temp.regexp_document', configuration));
    await db.query(replaceSearchDocument('pg_temp.replace_document', configuration));
  });

  afterAll(async () => {
    await db?.end();
    await database?.drop();
  });

  const differences = async (texts: string[], sender: string, receiver: string) =>
    (
      await db.query<{ text: string; before: string; after: string }>(
        `SELECT body AS text, before::text, after::text FROM (
           SELECT body, pg_temp.regexp_document(body, $2, $3) AS before,
                  pg_temp.replace_document(body, $2, $3) AS after
           FROM unnest($1::text[]) AS body) compared
         WHERE before IS DISTINCT FROM after`,
        [texts, sender, receiver],
      )
    ).rows;

  it('is the one the migrations leave on the index', async () => {
    const { rows } = await db.query<{ same: boolean }>(
      `SELECT sms_search_document($1, '+12025550143', '+12025550199')::text =
              pg_temp.replace_document($1, '+12025550143', '+12025550199')::text AS same`,
      ["it's the café's menu"],
    );
    expect(rows).toEqual([{ same: true }]);
  });

  it('gives the index a small pending list, so no insert merges 4 MB of it', async () => {
    const { rows } = await db.query<{ options: string[] }>(
      `SELECT reloptions AS options FROM pg_class WHERE relname = 'IDX_messages_search'`,
    );
    expect(rows).toEqual([{ options: ['gin_pending_list_limit=256'] }]);
  });

  it('prefixes every lexeme with each party, positions kept', async () => {
    const { rows } = await db.query<{ document: string }>(
      `SELECT pg_temp.replace_document('See you, see', '+1', '+2')::text AS document`,
    );
    expect(rows[0].document).toBe("'+1|see':1,3 '+1|you':2 '+2|see':1,3 '+2|you':2");
  });

  it.each([
    ['two parties', '+12025550143', '+12025550199'],
    ['a message to oneself', '+12025550143', '+12025550143'],
    ['a pseudonym and an alphanumeric sender', 'ERASED0A1B2', 'MyBank'],
  ])('returns what the first body did, for hostile texts (%s)', async (_, sender, receiver) => {
    expect(await differences(HOSTILE_TEXTS, sender, receiver)).toEqual([]);
  });

  it('returns what the first body did, for 5000 random texts', async () => {
    expect(await differences(randomTexts(5000, 42), '+12025550143', '+12025550199')).toEqual([]);
  });
});
