import type { INestApplication } from '@nestjs/common';
import { generateApiKeySecret } from '@app/auth';
import { createApp } from '../../apps/api/src/app.setup.js';
import { throughPooler } from './pooler.js';
import { createTestDatabase } from './test-database.js';

export interface TestApp {
  app: INestApplication;
  /** Base URL of the listening server, e.g. http://127.0.0.1:41234 */
  baseUrl: string;
  databaseUrl: string;
  /** The admin key (ADMIN_API_KEY) this app accepts: `Authorization: Bearer ${adminKey}`. */
  adminKey: string;
  /** Closes the app; drops the database unless `keepDatabase`. */
  close(options?: { keepDatabase?: boolean }): Promise<void>;
}

/**
 * The whole app, configured as in production, listening on a random port over
 * its own copy of the migrated schema (or over `env.DATABASE_URL` when given).
 */
export async function startTestApp(env: Record<string, string | undefined> = {}): Promise<TestApp> {
  const database = env.DATABASE_URL ? undefined : await createTestDatabase();
  const databaseUrl = env.DATABASE_URL ?? database!.url;
  const adminKey = env.ADMIN_API_KEY ?? generateApiKeySecret();
  // @nestjs/config copies the validated variables into process.env; without this, one
  // app's settings (TRUST_PROXY, PUBLIC_BASE_URL, ...) would reach every later app.
  const processEnv = { ...process.env };
  const app = await createApp({
    env: throughPooler({
      NODE_ENV: 'test',
      // Rate limits are the security suite's to test; other suites must not trip over them.
      THROTTLE_LIMIT: '1000000',
      AUTH_FAILURE_LIMIT: '1000000',
      // Webhooks post only in the suites that ask (test/webhooks.e2e-spec.ts, to loopback):
      // another suite's webhook on a public address would otherwise try to reach it.
      WEBHOOK_WORKER: 'false',
      ...env,
      ADMIN_API_KEY: adminKey,
      DATABASE_URL: databaseUrl,
    }),
    logger: false,
  });
  try {
    await app.listen(0, '127.0.0.1');
  } finally {
    for (const name of Object.keys(process.env)) {
      if (!(name in processEnv)) delete process.env[name];
    }
    Object.assign(process.env, processEnv);
  }
  const address = app.getHttpServer().address() as { port: number };
  return {
    app,
    baseUrl: `http://127.0.0.1:${address.port}`,
    databaseUrl,
    adminKey,
    async close(options = {}) {
      await app.close();
      if (!options.keepDatabase) await database?.drop();
    },
  };
}
