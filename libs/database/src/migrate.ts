import { DataSource, MigrationExecutor } from 'typeorm';
import { buildDataSourceOptions } from './database.options.js';

/** Any 64-bit constant works; it only has to be the same for every instance of this app. */
const MIGRATION_LOCK_KEY = 7_366_120_451;

/**
 * Runs pending migrations while holding a PostgreSQL advisory lock, so that
 * several instances starting together apply each migration exactly once.
 */
export async function runMigrationsLocked(dataSource: DataSource): Promise<void> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    // Migrate on the connection that holds the lock: a second connection
    // would deadlock a pool of one.
    const executor = new MigrationExecutor(dataSource, runner);
    executor.transaction = 'each';
    await executor.executePendingMigrations();
  } finally {
    await runner
      .query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY])
      .catch(() => undefined);
    await runner.release();
  }
}

/** Migrates the database at `databaseUrl` and disconnects; used by tests and scripts. */
export async function runMigrations(databaseUrl: string): Promise<void> {
  const dataSource = new DataSource(
    buildDataSourceOptions({ url: databaseUrl, poolSize: 1, statementTimeoutMs: 60_000 }),
  );
  await dataSource.initialize();
  try {
    await runMigrationsLocked(dataSource);
  } finally {
    await dataSource.destroy();
  }
}
