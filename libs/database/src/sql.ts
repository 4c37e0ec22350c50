import type { ClientBase, Pool, QueryConfig, QueryResult, QueryResultRow } from 'pg';
import { MappedRowsQuery, type RowMapper } from './mapped-rows.js';

/** A statement as the repositories write it: named for preparation, rows as objects or arrays. */
export type Statement = QueryConfig & { rowMode?: 'array' };

/** Where a repository runs its statements: the primary, or the reads' replicas. */
export interface Sql {
  query<R extends QueryResultRow = QueryResultRow>(
    statement: Statement | string,
    values?: unknown[],
  ): Promise<QueryResult<R>>;

  /**
   * A named statement's rows, each turned by `mapRow` into what the caller
   * keeps as it arrives, with no pg result object in between: for the hot
   * listings (MappedRowsQuery; measured in bench/README.md).
   */
  mapRows<Row extends unknown[], T>(
    statement: Statement,
    values: unknown[],
    mapRow: RowMapper<Row, T>,
  ): Promise<T[]>;
}

/**
 * `mapRows` on a pool or on one connection: a MappedRowsQuery through pg's
 * callback API (the one in which a pool releases its client), the name
 * dropped unless statements are prepared.
 */
export function mapRowsOn<Row extends unknown[], T>(
  target: Pool | ClientBase,
  preparedStatements: boolean,
  statement: Statement,
  values: unknown[],
  mapRow: RowMapper<Row, T>,
): Promise<T[]> {
  const name = preparedStatements ? statement.name : undefined;
  const query = new MappedRowsQuery({ text: statement.text, name }, values, mapRow);
  return new Promise<T[]>((resolve, reject) => {
    // @types/pg declares no callback for a Submittable; pg and pg-pool take one.
    (
      target.query as (query: unknown, callback: (error: Error | null, rows?: T[]) => void) => void
    ).call(target, query, (error, rows) => (error ? reject(error) : resolve(rows ?? [])));
  });
}

/**
 * Statements on one `pg` pool. Named statements are prepared once per
 * connection, which saves PostgreSQL a parse and a plan per call; without
 * `preparedStatements` the names are dropped, for poolers that hand one
 * client's statements to several server connections (PgBouncer before 1.21
 * in transaction mode) or pin a session that prepares (RDS Proxy).
 */
export class PoolSql implements Sql {
  constructor(
    readonly pool: Pool,
    private readonly preparedStatements: boolean,
  ) {}

  query<R extends QueryResultRow = QueryResultRow>(
    statement: Statement | string,
    values?: unknown[],
  ): Promise<QueryResult<R>> {
    if (this.preparedStatements || typeof statement === 'string' || !statement.name) {
      return this.pool.query<R>(statement as QueryConfig, values);
    }
    return this.pool.query<R>({ ...statement, name: undefined } as QueryConfig, values);
  }

  mapRows<Row extends unknown[], T>(
    statement: Statement,
    values: unknown[],
    mapRow: RowMapper<Row, T>,
  ): Promise<T[]> {
    return mapRowsOn(this.pool, this.preparedStatements, statement, values, mapRow);
  }
}

/**
 * A timestamptz as unix seconds (float8), for the statements' answers.
 * `date_part` computes it in float8 directly; `extract(epoch FROM …)` has
 * returned numeric since PostgreSQL 14, and its arbitrary-precision value
 * cast to float8 cost get-conversation's statement about 15% of its time at
 * 40 rows. Both give the same double. Positions that must be exact integers
 * of microseconds keep `extract`.
 */
export function epochSeconds(timestamp: string): string {
  return `date_part('epoch', ${timestamp})`;
}
