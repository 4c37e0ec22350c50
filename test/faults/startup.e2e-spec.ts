import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type RunningEmbeddedPostgres,
  startEmbeddedPostgres,
} from '../../libs/database/src/embedded/embedded-postgres.launcher.js';
import { type AppProcess, stablePort, startAppProcess } from './support/app-process.js';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Starting while the database is not reachable yet (a database container
 * still booting, a failover): the app waits for it, with backoff, up to
 * DB_CONNECT_TIMEOUT_MS, then gives up with one clear line and a non-zero exit.
 */
describe('Start-up before the database is reachable (e2e)', () => {
  const apps: AppProcess[] = [];
  let postgres: RunningEmbeddedPostgres | undefined;
  let dataDir: string | undefined;

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.dispose()));
    await postgres?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    postgres = undefined;
    dataDir = undefined;
  });

  it('gives up after DB_CONNECT_TIMEOUT_MS with one line, no stack, and exit code 1', async () => {
    const port = await stablePort();
    const startedAt = performance.now();
    const app = await startAppProcess({
      DATABASE_URL: `postgres://postgres:secret@127.0.0.1:${port}/sms`,
      DB_CONNECT_TIMEOUT_MS: '2000',
    });
    apps.push(app);
    const exit = await app.exited;
    const exitMs = performance.now() - startedAt;

    expect(exit).toEqual({ code: 1, signal: null });
    expect(exitMs).toBeLessThan(15_000);
    // JSON from the first line of Nest's on: the waits as they happen, then the failure.
    const records = app.records();
    const failures = records.filter(
      (record) => record.level === 'error' || record.level === 'fatal',
    );
    expect(failures).toHaveLength(1);
    expect(failures[0].msg).toMatch(
      new RegExp(
        `^Database at 127\\.0\\.0\\.1:${port} still unreachable after 2000 ms \\(connect ECONNREFUSED [^)]+\\); giving up`,
      ),
    );
    const output = app.lines().join('\n');
    expect(output).not.toMatch(/\n\s+at |\\n\s+at /);
    const waits = records.filter((record) =>
      /not reachable yet .*retrying in \d+ ms/.test(String(record.msg)),
    );
    expect(waits.length).toBeGreaterThanOrEqual(2);
    // The password never shows.
    expect(output).not.toContain('secret');
  });

  it('waits for a database that comes up late, then starts normally', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sms-startup-pg-'));
    await chmod(dataDir, 0o755);
    const port = await stablePort();
    // Prepared (initdb) and stopped first, so that only its start is late.
    const prepared = await startEmbeddedPostgres({ dataDir, port, logger: quiet });
    const url = prepared.url;
    await prepared.stop();

    const app = await startAppProcess({ DATABASE_URL: url, DB_CONNECT_TIMEOUT_MS: '30000' });
    apps.push(app);
    // The database starts only once the app has found it missing twice.
    const waits = () =>
      app
        .records()
        .filter((record) => /not reachable yet \(connect ECONNREFUSED/.test(String(record.msg)));
    await expect.poll(() => waits().length, { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
    expect(app.child.exitCode).toBeNull();
    postgres = await startEmbeddedPostgres({ dataDir, port, logger: quiet });
    await app.waitUntilReady(30_000);
  });
});
