import type { Pool, QueryConfig, QueryResult, QueryResultRow } from 'pg';

/** A statement as the repositories write it: named for preparation, rows as objects or arrays. */
export type Statement = QueryConfig & { rowMode?: 'array' };

/** Where a repository runs its statements: the primary, or the reads' replicas. */
export interface Sql {
  query<R extends QueryResultRow = QueryResultRow>(
    statement: Statement | string,
    values?: unknown[],
  ): Promise<QueryResult<R>>;
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
}
