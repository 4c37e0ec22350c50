import { Global, Logger, Module } from '@nestjs/common';
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
        poolOf(dataSource).on('error', (error) => logger.warn(`Idle database connection lost: ${error.message}`));
        await runMigrationsLocked(dataSource);
        return dataSource;
      },
    }),
  ],
  providers: [{ provide: PG_POOL, inject: [DataSource], useFactory: poolOf }],
  exports: [PG_POOL],
})
export class DatabaseModule {}

function poolOf(dataSource: DataSource): Pool {
  return (dataSource.driver as unknown as { master: Pool }).master;
}
