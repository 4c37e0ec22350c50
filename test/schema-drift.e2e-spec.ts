import { DataSource } from 'typeorm';
import { inject } from 'vitest';
// Not part of @app/auth's public face, which only the auth module's own code needs.
import { ApiKey } from '@app/auth/api-key.entity.js';
import { buildDataSourceOptions } from '@app/database';
import { Gateway, GatewaySender, OutboundRateWindow } from '@app/gateways';
import { Conversation, Message } from '@app/messaging';
import { KeptDeliveryReport, OutboundMessage } from '@app/outbound';
import { ErasureAudit } from '@app/privacy';
import { Webhook, WebhookDelivery, WebhookEvent } from '@app/webhooks';
import { createTestDatabase, type TestDatabase } from './setup/test-database.js';

/** Every entity of the app: each must describe exactly what the migrations create. */
const ENTITIES = [
  Message,
  Conversation,
  ApiKey,
  Gateway,
  GatewaySender,
  OutboundRateWindow,
  OutboundMessage,
  KeptDeliveryReport,
  ErasureAudit,
  Webhook,
  WebhookEvent,
  WebhookDelivery,
];

/** What TypeORM's schema builder (and so `migration:generate`) would run to match the entities. */
async function pendingSchemaChanges(dataSource: DataSource): Promise<string[]> {
  const sql = await dataSource.driver.createSchemaBuilder().log();
  return sql.upQueries.map((query) => query.query);
}

/** The entities against a freshly migrated database, through TypeORM's own schema diff. */
describe('Schema drift (e2e)', () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeEach(async () => {
    database = await createTestDatabase();
    dataSource = await new DataSource({
      ...buildDataSourceOptions({ url: database.url, poolSize: 1, statementTimeoutMs: 10_000 }),
      entities: ENTITIES,
    }).initialize();
    // TypeORM finds generated-column expressions by database name, and this clone was
    // renamed from the template the migrations ran in.
    await dataSource.query(
      `UPDATE "typeorm_metadata" SET "database" = current_database() WHERE "database" = $1`,
      [inject('templateDatabase')],
    );
  });

  afterEach(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('finds nothing to change: the entities match the migrations', async () => {
    const changes = await pendingSchemaChanges(dataSource);
    expect(
      changes,
      `The entities differ from the migrated schema; TypeORM would run:\n${changes.join(';\n')}`,
    ).toEqual([]);
  });

  it('notices a difference: a check the entities declare and the database lacks', async () => {
    await dataSource.query(`ALTER TABLE "messages" DROP CONSTRAINT "CHK_messages_encoding"`);

    expect(await pendingSchemaChanges(dataSource)).toEqual([
      `ALTER TABLE "messages" ADD CONSTRAINT "CHK_messages_encoding" CHECK ("encoding" IN ('GSM-7', 'UCS-2'))`,
    ]);
  });

  it('covers every table the migrations create', async () => {
    const rows: Array<{ table_name: string }> = await dataSource.query(
      `SELECT table_name FROM information_schema.tables
       WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> ALL ($1)`,
      [['migrations', dataSource.metadataTableName]],
    );
    const entityTables = dataSource.entityMetadatas.map((metadata) => metadata.tableName);

    expect(rows.map((row) => row.table_name).sort()).toEqual(entityTables.sort());
  });
});
