import pg from 'pg';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions, poolOf } from '@app/database';
import { createTestDatabase, type TestDatabase } from './setup/test-database.js';

/** PG_POOL reaches into TypeORM's driver; these fail first if an upgrade moves the pool. */
describe('poolOf (e2e)', () => {
  let database: TestDatabase;
  const options = () =>
    buildDataSourceOptions({ url: database.url, poolSize: 3, statementTimeoutMs: 10_000 });

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('returns the pg Pool of an initialized DataSource, sized as configured', async () => {
    const dataSource = await new DataSource(options()).initialize();
    try {
      const pool = poolOf(dataSource);

      expect(pool).toBeInstanceOf(pg.Pool);
      expect(pool.options.max).toBe(3);
      const { rows } = await pool.query<{ one: number }>('SELECT 1 AS one');
      expect(rows).toEqual([{ one: 1 }]);
    } finally {
      await dataSource.destroy();
    }
  });

  it('throws, naming what it expected, when the driver holds no pool', () => {
    // Before initialize() the driver has no pool yet, just as after an upgrade that moved it.
    const dataSource = new DataSource(options());

    expect(() => poolOf(dataSource)).toThrow(
      /^Expected a pg Pool at driver\.master .*\(TypeORM \d+\.\d+\.\d+\), found undefined\./,
    );
  });

  it('throws when driver.master is something other than a pool', () => {
    const client = new pg.Client();
    const dataSource = { driver: { master: client } } as unknown as DataSource;

    expect(() => poolOf(dataSource)).toThrow(/found a Client\./);
  });
});
