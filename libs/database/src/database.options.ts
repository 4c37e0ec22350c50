import type { DataSourceOptions } from 'typeorm';
import { CreateMessages1764072000000 } from './migrations/1764072000000-CreateMessages.js';
import { CreateConversations1764073000000 } from './migrations/1764073000000-CreateConversations.js';
import { CreateApiKeys1764075000000 } from './migrations/1764075000000-CreateApiKeys.js';
import { IndexMessageChanges1764076000000 } from './migrations/1764076000000-IndexMessageChanges.js';
import { RecordGeneratedColumns1764077000000 } from './migrations/1764077000000-RecordGeneratedColumns.js';
import { DropSummaryForeignKey1764078000000 } from './migrations/1764078000000-DropSummaryForeignKey.js';
import { CreateGateways1764079000000 } from './migrations/1764079000000-CreateGateways.js';
import { CreateOutbound1764080000000 } from './migrations/1764080000000-CreateOutbound.js';
import { SearchMessages1764081000000 } from './migrations/1764081000000-SearchMessages.js';
import { CreateErasureAudit1764082000000 } from './migrations/1764082000000-CreateErasureAudit.js';
import { CreateWebhooks1764083000000 } from './migrations/1764083000000-CreateWebhooks.js';
import { FasterSearchDocument1764084000000 } from './migrations/1764084000000-FasterSearchDocument.js';
import { SmallSearchPendingList1764085000000 } from './migrations/1764085000000-SmallSearchPendingList.js';

/** Every migration, in order. Listed explicitly so a build never depends on file globs. */
export const MIGRATIONS = [
  CreateMessages1764072000000,
  CreateConversations1764073000000,
  CreateApiKeys1764075000000,
  IndexMessageChanges1764076000000,
  RecordGeneratedColumns1764077000000,
  DropSummaryForeignKey1764078000000,
  CreateGateways1764079000000,
  CreateOutbound1764080000000,
  SearchMessages1764081000000,
  CreateErasureAudit1764082000000,
  CreateWebhooks1764083000000,
  FasterSearchDocument1764084000000,
  SmallSearchPendingList1764085000000,
];

export interface DatabaseConnectionSettings {
  url: string;
  poolSize: number;
  statementTimeoutMs: number;
  applicationName?: string;
}

/**
 * The one place that turns settings into TypeORM options, shared by the app,
 * the TypeORM CLI data source and the test setup. Schema changes only ever go
 * through MIGRATIONS: `synchronize` stays off everywhere.
 */
export function buildDataSourceOptions(settings: DatabaseConnectionSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url: settings.url,
    synchronize: false,
    migrationsRun: false,
    migrations: MIGRATIONS,
    migrationsTransactionMode: 'each',
    // Few connections on purpose: PostgreSQL slows down with more busy
    // connections than cores, so requests queue in the pool instead.
    poolSize: settings.poolSize,
    applicationName: settings.applicationName ?? 'sms-service',
    extra: {
      statement_timeout: settings.statementTimeoutMs,
      // Fail fast when the server is unreachable so the API can answer 503
      // instead of holding the request.
      connectionTimeoutMillis: 3_000,
      idleTimeoutMillis: 30_000,
    },
  };
}
