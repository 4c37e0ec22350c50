import { randomBytes } from 'node:crypto';
import { access, chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../libs/database/src/embedded/embedded-postgres.launcher.js';
import { withClient, withDatabase } from './pg-admin.js';

// The ProvidedContext keys set below are declared in ./test-database.ts.

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** Optional: the e2e project also works before any migration exists. */
const MIGRATE_MODULE = 'libs/database/src/migrate.ts';
/** How long backends of closed connections may take to leave pg_stat_activity. */
const SESSION_DRAIN_MS = 5_000;

interface MigrateModule {
  runMigrations(databaseUrl: string): Promise<void>;
}

/**
 * One PostgreSQL server for the whole e2e run (DATABASE_URL, or an embedded one in a fresh
 * folder), holding one migrated template database that each e2e file clones through
 * createTestDatabase().
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Undone in reverse order: drop databases, then stop the server, then delete its folder.
  const undo: Array<() => Promise<void>> = [];
  const teardown = async (): Promise<void> => {
    for (const step of undo.splice(0).reverse()) {
      await step().catch((error: unknown) => console.error('[e2e teardown]', error));
    }
  };

  try {
    const serverUrl = await provideServer(undo);
    const runId = randomBytes(6).toString('hex');
    const template = `sms_e2e_${runId}`;
    await withClient(serverUrl, (client) =>
      client.query(`CREATE DATABASE ${client.escapeIdentifier(template)}`),
    );
    undo.push(() => dropRunDatabases(serverUrl, template, runId));

    await migrate(withDatabase(serverUrl, template));
    await sealTemplate(serverUrl, template);

    project.provide('databaseServerUrl', serverUrl);
    project.provide('templateDatabase', template);
    return teardown;
  } catch (error) {
    await teardown();
    throw error;
  }
}

async function provideServer(undo: Array<() => Promise<void>>): Promise<string> {
  const external = process.env.DATABASE_URL;
  if (external) return withDatabase(external, 'postgres');

  const dataDir = await mkdtemp(join(tmpdir(), 'sms-e2e-pg-'));
  undo.push(() => rm(dataDir, { recursive: true, force: true }));
  // mkdtemp makes it 0700: as root, the postgres user could not enter it and the launcher
  // would move the cluster to a folder under tmpdir that nothing deletes afterwards.
  await chmod(dataDir, 0o755);
  const server = await startEmbeddedPostgres({
    dataDir,
    logger: {
      log: () => undefined,
      warn: (msg) => console.warn(`[e2e postgres] ${msg}`),
      error: (msg) => console.error(`[e2e postgres] ${msg}`),
    },
  });
  undo.push(() => server.stop());
  return withDatabase(server.url, 'postgres');
}

async function migrate(databaseUrl: string): Promise<void> {
  const modulePath = join(repoRoot, MIGRATE_MODULE);
  try {
    await access(modulePath);
  } catch {
    return;
  }
  const { runMigrations } = (await import(pathToFileURL(modulePath).href)) as MigrateModule;
  await runMigrations(databaseUrl);
}

/**
 * CREATE DATABASE ... TEMPLATE fails while anyone is connected to the template. Wait for the
 * migration's sessions to go (a closed connection's backend lingers a few ms), then forbid new
 * ones so a stray connection in a test cannot break the clones of every other file.
 */
async function sealTemplate(serverUrl: string, template: string): Promise<void> {
  await withClient(serverUrl, async (client) => {
    const deadline = Date.now() + SESSION_DRAIN_MS;
    for (;;) {
      const { rows } = await client.query<{ pid: number; application_name: string }>(
        'SELECT pid, application_name FROM pg_stat_activity WHERE datname = $1',
        [template],
      );
      if (rows.length === 0) break;
      if (Date.now() > deadline) {
        // Terminating them would raise 57P01 in the pool that owns them, crashing this process
        // if it has no 'error' listener; better to name the culprit.
        const sessions = rows.map((row) => `${row.pid} (${row.application_name || 'no name'})`);
        throw new Error(
          `Sessions still connected to the template database ${template} after migrating: ${sessions.join(', ')}. runMigrations() must close its connections before returning.`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await client.query(
      `ALTER DATABASE ${client.escapeIdentifier(template)} ALLOW_CONNECTIONS false`,
    );
  });
}

/** The template and any copy of it a crashed e2e file left behind (see test-database.ts). */
async function dropRunDatabases(serverUrl: string, template: string, runId: string) {
  await withClient(serverUrl, async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE $2`,
      [template, `sms\\_t\\_${runId}\\_%`],
    );
    for (const { datname } of rows) {
      await client.query(
        `DROP DATABASE IF EXISTS ${client.escapeIdentifier(datname)} WITH (FORCE)`,
      );
    }
  });
}
