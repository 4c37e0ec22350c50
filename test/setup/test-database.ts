import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { withClient, withDatabase } from './pg-admin.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the e2e PostgreSQL server, database `postgres`; see global-setup.ts. */
    databaseServerUrl: string;
    /** Name of the migrated database that every e2e file clones. */
    templateDatabase: string;
  }
}

export interface TestDatabase {
  url: string;
  /** Drops the database, closing any session still connected. Idempotent. */
  drop(): Promise<void>;
}

/**
 * A private copy of the migrated schema for one e2e file, so files can run in parallel and
 * leave whatever rows they like behind. Cloning a template takes milliseconds, where running
 * the migrations again would take seconds.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = inject('databaseServerUrl');
  const template = inject('templateDatabase');
  if (!serverUrl || !template) {
    throw new Error(
      'createTestDatabase() needs test/setup/global-setup.ts: run it in the e2e project',
    );
  }
  // Reusing the run id of the template lets the global teardown drop the copies a crashed
  // file left behind, and only those of this run on a shared server.
  const runId = /^sms_e2e_([a-z0-9]+)$/.exec(template)?.[1];
  const name = ['sms_t', runId, randomBytes(6).toString('hex')].filter(Boolean).join('_');

  await withClient(serverUrl, (client) =>
    client.query(
      `CREATE DATABASE ${client.escapeIdentifier(name)} TEMPLATE ${client.escapeIdentifier(template)}`,
    ),
  );

  let dropping: Promise<void> | undefined;
  return {
    url: withDatabase(serverUrl, name),
    drop: () =>
      (dropping ??= withClient(serverUrl, async (client) => {
        await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
      })),
  };
}
