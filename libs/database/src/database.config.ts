import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { AppVariables, configNamespace } from '@app/common';

export class DatabaseVariables extends AppVariables {
  /** Unset: the app starts an embedded PostgreSQL under DATA_DIR (never in production). */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL?: string;

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
  ],
  values: (env) => ({
    url: env.DATABASE_URL,
    dataDir: env.DATA_DIR,
    poolSize: env.DB_POOL_SIZE,
    statementTimeoutMs: env.DB_STATEMENT_TIMEOUT_MS,
    connectTimeoutMs: env.DB_CONNECT_TIMEOUT_MS,
  }),
});
