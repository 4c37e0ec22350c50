import pg from 'pg';
import { startTestApp, type TestApp } from './setup/test-app.js';

/**
 * How this run reaches the database. .ci/run runs the e2e suite a second time
 * with TEST_PGBOUNCER_URL set (deploy/local/with-pgbouncer.ts): then this proves
 * the app's queries really went through PgBouncer, so that run means what it says.
 */
describe('The e2e apps reach the database as the run asks (e2e)', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await startTestApp();
    const response = await fetch(`${testApp.baseUrl}/api/get-conversation/%2B12025550143`, {
      headers: { Authorization: `Bearer ${testApp.adminKey}` },
    });
    expect(response.status).toBe(200);
  });

  afterAll(async () => {
    await testApp?.close();
  });

  const database = () => new URL(testApp.databaseUrl).pathname.slice(1);

  it(
    process.env.TEST_PGBOUNCER_URL
      ? 'through PgBouncer: it lists the app as its client of this database'
      : 'directly: the app holds sessions of its own on this database',
    async () => {
      const pooler = process.env.TEST_PGBOUNCER_URL;
      if (pooler) {
        // PgBouncer's admin console speaks only the simple protocol: queries without parameters.
        const admin = new pg.Client({ connectionString: `${pooler}/pgbouncer` });
        await admin.connect();
        try {
          const { rows } = await admin.query<{ database: string }>('SHOW CLIENTS');
          expect(rows.filter((row) => row.database === database()).length).toBeGreaterThan(0);
        } finally {
          await admin.end();
        }
      } else {
        const direct = new pg.Client({ connectionString: testApp.databaseUrl });
        await direct.connect();
        try {
          const { rows } = await direct.query<{ count: string }>(
            `SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'sms-service'`,
            [database()],
          );
          expect(Number(rows[0].count)).toBeGreaterThan(0);
        } finally {
          await direct.end();
        }
      }
    },
  );
});
