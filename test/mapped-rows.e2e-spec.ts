import pg from 'pg';
import { MappedRowsQuery, mapRowsOn, PoolSql } from '@app/database';
import { createTestDatabase, type TestDatabase } from './setup/test-database.js';

/**
 * MappedRowsQuery replaces the row handling of pg's Query (the hot listings
 * use it through `Sql.mapRows`). It relies on the Submittable methods pg
 * calls, so this runs it on a real server: a pg upgrade that changes them
 * fails here, not in production.
 */
describe('mapRows (e2e)', () => {
  let database: TestDatabase;
  let pool: pg.Pool;

  const SERIES = {
    name: 'mapped_rows_series',
    text: `SELECT n, 'row ' || n AS label, n % 2 = 0 AS even, date_part('epoch', to_timestamp(n + 0.5)),
                  CASE WHEN n = 2 THEN NULL ELSE n::text END
           FROM generate_series(1, $1::int) AS n ORDER BY 1`,
  };
  type SeriesRow = [number, string, boolean, number, string | null];
  const asObject = ([n, label, even, seconds, text]: SeriesRow) => ({
    n,
    label,
    even,
    seconds,
    text,
  });

  beforeAll(async () => {
    database = await createTestDatabase();
    // One connection: every call below runs on the same one, after whatever the previous did.
    pool = new pg.Pool({ connectionString: database.url, max: 1 });
  });

  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });

  it.each([true, false])(
    'maps every row with the types pg would parse (prepared statements %s)',
    async (prepared) => {
      const sql = new PoolSql(pool, prepared);

      const rows = await sql.mapRows(SERIES, [3], asObject);
      // Run again: a named statement is now prepared on the connection and only bound.
      const again = await sql.mapRows(SERIES, [2], asObject);

      expect(rows).toEqual([
        { n: 1, label: 'row 1', even: false, seconds: 1.5, text: '1' },
        { n: 2, label: 'row 2', even: true, seconds: 2.5, text: null },
        { n: 3, label: 'row 3', even: false, seconds: 3.5, text: '3' },
      ]);
      expect(again.map((row) => row.n)).toEqual([1, 2]);
      // The same rows as pg's own Query in array mode gives.
      const { rows: viaQuery } = await pool.query<SeriesRow>({
        ...SERIES,
        name: undefined,
        values: [3],
        rowMode: 'array',
      });
      expect(viaQuery.map(asObject)).toEqual(rows);
    },
  );

  it('answers an empty list when there are no rows', async () => {
    await expect(new PoolSql(pool, true).mapRows(SERIES, [0], asObject)).resolves.toEqual([]);
  });

  it("rejects with the server's error, and the next statement is served", async () => {
    const sql = new PoolSql(pool, true);

    await expect(
      sql.mapRows({ name: 'mapped_rows_failing', text: 'SELECT 1 / $1::int' }, [0], (row) => row),
    ).rejects.toMatchObject({ code: '22012' });
    await expect(sql.mapRows(SERIES, [1], asObject)).resolves.toHaveLength(1);
  });

  it('rejects with what the mapper threw, once the server is done, and the next statement is served', async () => {
    const sql = new PoolSql(pool, true);
    let calls = 0;

    await expect(
      sql.mapRows(SERIES, [5], () => {
        calls += 1;
        throw new Error('cannot map this row');
      }),
    ).rejects.toThrow('cannot map this row');
    // The first failure stops the mapping; the other rows are read and dropped.
    expect(calls).toBe(1);
    await expect(sql.mapRows(SERIES, [2], asObject)).resolves.toHaveLength(2);
    expect(pool.totalCount).toBe(1);
    expect(pool.idleCount).toBe(1);
  });

  it('runs on one checked-out connection too (a transaction), between its other statements', async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('CREATE TEMPORARY TABLE mapped_rows_t (n int) ON COMMIT DROP');
      await client.query('INSERT INTO mapped_rows_t SELECT generate_series(1, 4)');

      const rows = await mapRowsOn(
        client,
        true,
        {
          name: 'mapped_rows_in_transaction',
          text: 'SELECT n FROM mapped_rows_t WHERE n > $1 ORDER BY n',
        },
        [2],
        ([n]: [number]) => n,
      );

      expect(rows).toEqual([3, 4]);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  });

  it('is a pg Query, so pg treats it as its own (pipelining, preparation)', () => {
    expect(new MappedRowsQuery({ text: 'SELECT 1' }, [], (row) => row)).toBeInstanceOf(pg.Query);
  });
});
