import type { ClientBase, QueryResult, QueryResultRow } from 'pg';
import { mapRowsOn, type RowMapper, type Sql, type Statement } from '@app/database';

/** `Sql` on one connection, for the statements of a transaction; names dropped when the pooler forbids them. */
class ClientSql implements Sql {
  constructor(
    private readonly client: ClientBase,
    private readonly preparedStatements: boolean,
  ) {}

  query<R extends QueryResultRow = QueryResultRow>(
    statement: Statement | string,
    values?: unknown[],
  ): Promise<QueryResult<R>> {
    if (typeof statement === 'string') return this.client.query<R>(statement, values);
    return this.client.query<R>(
      this.preparedStatements ? statement : { ...statement, name: undefined },
      values,
    );
  }

  mapRows<Row extends unknown[], T>(
    statement: Statement,
    values: unknown[],
    mapRow: RowMapper<Row, T>,
  ): Promise<T[]> {
    return mapRowsOn(this.client, this.preparedStatements, statement, values, mapRow);
  }
}

/** A deadlock or a serialization failure: the transaction did nothing and may simply run again. */
function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === '40P01' || code === '40001';
}

const ATTEMPTS = 3;

/**
 * `work` in one transaction on `client`, run again (up to three times) when
 * PostgreSQL aborts it for a deadlock: each batch is idempotent, so a retry
 * is safe.
 */
export async function inTransaction<T>(
  client: ClientBase,
  preparedStatements: boolean,
  work: (sql: Sql) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    await client.query('BEGIN');
    try {
      const result = await work(new ClientSql(client, preparedStatements));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (attempt >= ATTEMPTS || !isRetryable(error)) throw error;
    }
  }
}
