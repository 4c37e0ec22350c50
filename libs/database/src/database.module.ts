import { Global, Injectable, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { DatabaseServer } from './database-server.js';
import { buildDataSourceOptions } from './database.options.js';
import { runMigrationsLocked } from './migrate.js';

/** The `pg` pool behind TypeORM, for repositories that run named prepared statements. */
export const PG_POOL = Symbol('PG_POOL');

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
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    await this.server.stop();
  }
}

@Module({
  imports: [ConfigModule],
  providers: [
    {
      provide: DatabaseServer,
      inject: [ConfigService],
      useFactory: (config: ConfigService) =>
        DatabaseServer.resolve({
          databaseUrl: config.get<string>('DATABASE_URL'),
          dataDir: config.get<string>('DATA_DIR') ?? './.data',
        }),
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
      inject: [ConfigService, DatabaseServer],
      useFactory: (config: ConfigService, server: DatabaseServer) => ({
        ...buildDataSourceOptions({
          url: server.url,
          poolSize: config.get<number>('DB_POOL_SIZE') ?? 4,
          statementTimeoutMs: config.get<number>('DB_STATEMENT_TIMEOUT_MS') ?? 10_000,
        }),
        autoLoadEntities: true,
      }),
      // Migrations run on every start, under a lock, before any request is served.
      dataSourceFactory: async (options) => {
        const dataSource = await new DataSource(options!).initialize();
        // An idle pooled client whose server goes away (restart, failover)
        // emits 'error' on the pool; unhandled, that would crash the process.
        poolOf(dataSource).on('error', (error) =>
          logger.warn(`Idle database connection lost: ${error.message}`),
        );
        await runMigrationsLocked(dataSource);
        return dataSource;
      },
    }),
  ],
  providers: [{ provide: PG_POOL, inject: [DataSource], useFactory: poolOf }, DatabaseShutdown],
  exports: [PG_POOL],
})
export class DatabaseModule {}

function poolOf(dataSource: DataSource): Pool {
  return (dataSource.driver as unknown as { master: Pool }).master;
}
