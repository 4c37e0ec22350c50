import type { Pool } from 'pg';
import { PoolSql } from './sql.js';

describe('PoolSql', () => {
  const statement = { name: 'find_one', text: 'SELECT $1::int AS one', values: [1] };
  const poolSeeing = () => {
    const seen: unknown[] = [];
    const pool = {
      query: (config: unknown) => {
        seen.push(config);
        return Promise.resolve({ rows: [] });
      },
    } as unknown as Pool;
    return { pool, seen };
  };

  it('sends named statements as they are when prepared statements are on', async () => {
    const { pool, seen } = poolSeeing();

    await new PoolSql(pool, true).query(statement);

    expect(seen).toEqual([statement]);
  });

  it('drops the name, and only the name, when they are off (PgBouncer in transaction mode)', async () => {
    const { pool, seen } = poolSeeing();

    await new PoolSql(pool, false).query({ ...statement, rowMode: 'array' });

    expect(seen).toEqual([{ ...statement, rowMode: 'array', name: undefined }]);
    expect(statement.name).toBe('find_one');
  });
});
