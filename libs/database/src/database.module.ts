import { inspect } from 'node:util';
import {
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import pg, { type ClientConfig, type Pool } from 'pg';
import { DataSource } from 'typeorm';
import { isDatabaseUnavailable } from '@app/common';
import { databaseConfig } from './database.config.js';
import { DatabaseServer } from './database-server.js';
import { buildDataSourceOptions } from './database.options.js';
import { runMigrations } from './migrate.js';
import { poolOf } from './pg-pool.js';
import { ReplicaReads } from './replica-reads.js';
import { PoolSql, type Sql } from './sql.js';

/** The `pg` pool behind TypeORM, for its gauges and its connection settings. */
export const PG_POOL = Symbol('PG_POOL');
/**
 * The primary again, through a small pool of its own, for background work
 * (the delivery workers): request traffic queueing in the request pool must
 * not stall it, nor it the requests.
 */
export const BACKGROUND_SQL = Symbol('BACKGROUND_SQL');
const BACKGROUND_POOL_SIZE = 2;

/** `Sql` on the primary: writes, and the reads that must see them. */
export const PRIMARY_SQL = Symbol('PRIMARY_SQL');

/**
 * `Sql` for the listing reads, which may be a little behind: the replicas
 * (DATABASE_REPLICA_URLS) when there are any, else the primary. A ReplicaReads.
 */
export const READ_SQL = Symbol('READ_SQL');

/**
 * How to open a session of one's own on the primary (LISTEN): DATABASE_SESSION_URL,
 * which bypasses a transaction-mode pooler, else the pool's own settings.
 */
export const SESSION_CONNECTION = Symbol('SESSION_CONNECTION');

const logger = new Logger('Database');

/**
 * Closes the pool before stopping an embedded server. Nest gives no order
 * between two modules' shutdown hooks, so one hook does both, in order.
 */
@Injectable()
class DatabaseShutdown implements OnApplicationShutdown {
  constructor(
    private readonly dataSource: DataSource,
    private readonly server: DatabaseServer,
    @Inject(READ_SQL) private readonly reads: ReplicaReads,
    @Inject(BACKGROUND_SQL) private readonly background: PoolSql,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.reads.close();
    await this.background.pool.end();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    await this.server.stop();
  }
}

@Module({
  providers: [
    {
      provide: DatabaseServer,
      inject: [databaseConfig.KEY],
      useFactory: (config: ConfigType<typeof databaseConfig>) =>
        DatabaseServer.resolve({ databaseUrl: config.url, dataDir: config.dataDir }),
    },
  ],
  exports: [DatabaseServer],
})
class DatabaseServerModule {}

@Global()
@Module({
  imports: [
    DatabaseServerModule,
    TypeOrmModule.forRootAsync({
      imports: [DatabaseServerModule],
      inject: [databaseConfig.KEY, DatabaseServer],
      useFactory: async (config: ConfigType<typeof databaseConfig>, server: DatabaseServer) => {
        await waitForDatabase(server.url, config.connectTimeoutMs);
        // Migrations run on every start, under an advisory lock, before any request is
        // served. The lock belongs to a session, so behind a transaction-mode pooler
        // they go over the direct connection; on a connection of their own either way.
        if (config.sessionUrl) await waitForDatabase(config.sessionUrl, config.connectTimeoutMs);
        await runMigrations(config.sessionUrl ?? server.url);
        return {
          ...buildDataSourceOptions({
            url: server.url,
            poolSize: config.poolSize,
            statementTimeoutMs: config.statementTimeoutMs,
          }),
          autoLoadEntities: true,
          // waitForDatabase() did the waiting; other failures (a wrong password, a
          // failed migration) would only fail again, so @nestjs/typeorm's retries are off.
          toRetry: () => false,
        };
      },
      dataSourceFactory: async (options) => {
        const dataSource = await new DataSource(options!).initialize();
        // An idle pooled client whose server goes away (restart, failover)
        // emits 'error' on the pool; unhandled, that would crash the process.
        poolOf(dataSource).on('error', (error) =>
          logger.warn(`Idle database connection lost: ${error.message}`),
        );
        return dataSource;
      },
    }),
  ],
  providers: [
    { provide: PG_POOL, inject: [DataSource], useFactory: poolOf },
    {
      provide: PRIMARY_SQL,
      inject: [PG_POOL, databaseConfig.KEY],
      useFactory: (pool: Pool, config: ConfigType<typeof databaseConfig>): Sql =>
        new PoolSql(pool, config.preparedStatements),
    },
    {
      provide: READ_SQL,
      inject: [PRIMARY_SQL, databaseConfig.KEY],
      useFactory: (primary: Sql, config: ConfigType<typeof databaseConfig>) =>
        new ReplicaReads(
          primary,
          config.replicaUrls.map((url) => ({
            url,
            poolSize: config.poolSize,
            statementTimeoutMs: config.statementTimeoutMs,
            preparedStatements: config.preparedStatements,
          })),
        ),
    },
    {
      provide: BACKGROUND_SQL,
      inject: [PG_POOL, databaseConfig.KEY],
      useFactory: (pool: Pool, config: ConfigType<typeof databaseConfig>): PoolSql => {
        const background = new pg.Pool({
          ...pool.options,
          max: BACKGROUND_POOL_SIZE,
          application_name: 'sms-service-background',
        });
        background.on('error', (error) =>
          logger.warn(`Idle background database connection lost: ${error.message}`),
        );
        return new PoolSql(background, config.preparedStatements);
      },
    },
    {
      provide: SESSION_CONNECTION,
      inject: [PG_POOL, databaseConfig.KEY],
      useFactory: (pool: Pool, config: ConfigType<typeof databaseConfig>): ClientConfig =>
        config.sessionUrl ? { ...pool.options, connectionString: config.sessionUrl } : pool.options,
    },
    DatabaseShutdown,
  ],
  exports: [PG_POOL, PRIMARY_SQL, READ_SQL, BACKGROUND_SQL, SESSION_CONNECTION],
})
export class DatabaseModule {}

/**
 * Start-up gave up on the database. The message says all there is to say, so
 * the error that fails Nest's bootstrap is one line without a stack, however
 * it is logged: as JSON (`stack`) or by Nest's console logger (`inspect()`).
 */
class DatabaseUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.stack = `${this.name}: ${message}`;
  }

  override get name(): string {
    return 'DatabaseUnreachableError';
  }

  [inspect.custom](): string {
    return this.stack ?? this.message;
  }
}

/**
 * Waits for the database to accept a connection, retrying with backoff while
 * it is unreachable (not started yet, restarting, a DNS name not there yet),
 * for at most `timeoutMs`. Any other failure returns at once, for TypeORM to
 * report.
 */
async function waitForDatabase(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const { host } = new URL(url);
  for (let delayMs = 250; ; delayMs = Math.min(delayMs * 2, 5_000)) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (!isDatabaseUnavailable(error)) return;
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) {
        throw new DatabaseUnreachableError(
          `Database at ${host} still unreachable after ${timeoutMs} ms (${describeConnectError(error)}); giving up. Is PostgreSQL running, and DATABASE_URL right?`,
        );
      }
      const waitMs = Math.min(delayMs, remainingMs);
      logger.warn(
        `Database at ${host} not reachable yet (${describeConnectError(error)}); retrying in ${waitMs} ms`,
      );
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}

/** A refused connection to `localhost` is an AggregateError (IPv6 and IPv4) with no message. */
function describeConnectError(error: unknown): string {
  const first = error instanceof AggregateError ? (error.errors[0] as unknown) : error;
  return first instanceof Error && first.message ? first.message : String(first);
}
