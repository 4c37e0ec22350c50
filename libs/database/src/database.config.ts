import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { AppVariables, configNamespace, toBoolean } from '@app/common';

const POSTGRES_URL = /^postgres(ql)?:\/\/.+/;

export class DatabaseVariables extends AppVariables {
  /** Unset: the app starts an embedded PostgreSQL under DATA_DIR (never in production). */
  @IsOptional()
  @Matches(POSTGRES_URL, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL?: string;

  /**
   * Read replicas, comma-separated postgres:// URLs. The listing reads go to
   * them; a replica that fails sends its reads to the primary until it answers again.
   */
  @IsOptional()
  @Matches(/^\s*postgres(ql)?:\/\/[^\s,]+\s*(,\s*postgres(ql)?:\/\/[^\s,]+\s*)*$/, {
    message: 'DATABASE_REPLICA_URLS must be comma-separated postgres:// URLs',
  })
  DATABASE_REPLICA_URLS?: string;

  /**
   * A direct connection to the primary for what needs a session of its own
   * (migrations under an advisory lock, the live stream's LISTEN) when
   * DATABASE_URL goes through a transaction-mode pooler. Unset: DATABASE_URL.
   */
  @IsOptional()
  @Matches(POSTGRES_URL, { message: 'DATABASE_SESSION_URL must be a postgres:// URL' })
  DATABASE_SESSION_URL?: string;

  /**
   * Named prepared statements (parsed and planned once per connection). Off
   * for poolers that hand a session's statements to other connections:
   * PgBouncer before 1.21 in transaction mode, and RDS Proxy (which pins them).
   */
  @IsBoolean({ message: 'DB_PREPARED_STATEMENTS must be true or false' })
  @Transform(toBoolean)
  DB_PREPARED_STATEMENTS: boolean = true;

  @IsInt()
  @Min(1)
  @Max(100)
  DB_POOL_SIZE: number = 4;

  @IsInt()
  @Min(100)
  DB_STATEMENT_TIMEOUT_MS: number = 10_000;

  /** At start-up, how long to keep retrying an unreachable database before giving up. */
  @IsInt()
  @Min(0)
  DB_CONNECT_TIMEOUT_MS: number = 30_000;
}

export const databaseConfig = configNamespace('database', DatabaseVariables, {
  rules: (env) => [
    // The embedded server is for development and tests: one process, its data on local disk.
    env.NODE_ENV === 'production' &&
      !env.DATABASE_URL &&
      'DATABASE_URL must be set in production (the embedded PostgreSQL is for development only)',
    // A session URL only makes sense next to the pooled URL it stands in for.
    !!env.DATABASE_SESSION_URL &&
      !env.DATABASE_URL &&
      'DATABASE_SESSION_URL needs DATABASE_URL (it is the direct path to the same primary)',
  ],
  values: (env) => ({
    url: env.DATABASE_URL,
    sessionUrl: env.DATABASE_SESSION_URL,
    replicaUrls: (env.DATABASE_REPLICA_URLS ?? '')
      .split(',')
      .map((url) => url.trim())
      .filter((url) => url !== ''),
    preparedStatements: env.DB_PREPARED_STATEMENTS,
    dataDir: env.DATA_DIR,
    poolSize: env.DB_POOL_SIZE,
    statementTimeoutMs: env.DB_STATEMENT_TIMEOUT_MS,
    connectTimeoutMs: env.DB_CONNECT_TIMEOUT_MS,
  }),
});
