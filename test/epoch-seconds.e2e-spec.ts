import pg from 'pg';
import { epochSeconds } from '@app/database';
import { createTestDatabase, type TestDatabase } from './setup/test-database.js';

/**
 * The answers' timestamps come from epochSeconds (float8 date_part) instead of
 * extract(epoch …)::float8 (numeric, then cast). They must stay the same
 * double for every value a column can hold, on the server the app runs on.
 */
describe('epochSeconds (e2e)', () => {
  let database: TestDatabase;
  let client: pg.Client;

  beforeAll(async () => {
    database = await createTestDatabase();
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
  });

  afterAll(async () => {
    await client?.end();
    await database?.drop();
  });

  it('gives the same double as extract(epoch)::float8, to the microsecond, over 200,000 timestamps', async () => {
    const { rows } = await client.query<{ differing: number; total: number; sample: unknown }>(`
      WITH t(value) AS (
        SELECT to_timestamp(0)
               + (random() * 4e9 - 1e9) * interval '1 second'
               + floor(random() * 1e6) * interval '1 microsecond'
        FROM generate_series(1, 200000)
        UNION ALL VALUES ('infinity'::timestamptz), ('-infinity'), ('1970-01-01T00:00:00.000001Z'),
                         ('1969-12-31T23:59:59.999999Z'), ('2026-12-06T00:00:00Z'), (NULL)
      )
      SELECT count(*) FILTER (WHERE extract(epoch FROM value)::float8
                              IS DISTINCT FROM ${epochSeconds('value')})::int AS differing,
             count(*)::int AS total,
             ${epochSeconds(`'2026-12-06T00:00:00.5Z'::timestamptz`)} AS sample
      FROM t`);

    expect(rows[0].total).toBe(200_006);
    expect(rows[0].differing).toBe(0);
    // float8, so pg hands the app a number, not numeric's string.
    expect(rows[0].sample).toBe(1796515200.5);
  });
});
