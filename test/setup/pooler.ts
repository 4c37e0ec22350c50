import { inject } from 'vitest';

/**
 * `TEST_PGBOUNCER_URL` (e.g. postgres://postgres@127.0.0.1:6432, set by
 * deploy/local/with-pgbouncer.ts) runs every in-process app of the e2e suite
 * through PgBouncer in transaction mode, as the app runs behind a pooler in
 * production: DATABASE_URL through it, DATABASE_SESSION_URL direct (migrations,
 * LISTEN) and no named prepared statements. Only URLs of the e2e server itself
 * are rerouted: a test that puts a relay of its own in front of the database
 * keeps it.
 */
export function throughPooler(
  env: Record<string, string | undefined>,
): Record<string, string | undefined> {
  const pooler = process.env.TEST_PGBOUNCER_URL;
  const databaseUrl = env.DATABASE_URL;
  if (!pooler || !databaseUrl) return env;
  const direct = new URL(databaseUrl);
  const server = new URL(inject('databaseServerUrl'));
  if (direct.host !== server.host) return env;
  const pooled = new URL(databaseUrl);
  const bouncer = new URL(pooler);
  pooled.hostname = bouncer.hostname;
  pooled.port = bouncer.port;
  return {
    DATABASE_SESSION_URL: databaseUrl,
    DB_PREPARED_STATEMENTS: 'false',
    ...env,
    DATABASE_URL: pooled.toString(),
  };
}
