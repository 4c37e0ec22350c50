import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type RunningEmbeddedPostgres,
  startEmbeddedPostgres,
} from '../../libs/database/src/embedded/embedded-postgres.launcher.js';
import { type AppProcess, freePort, startAppProcess } from './support/app-process.js';

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
    const port = await freePort();
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
    const lines = app.lines();
    const failures = lines.filter((line) => /ERROR/.test(line));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(
      new RegExp(
        `Database at 127\\.0\\.0\\.1:${port} still unreachable after 2000 ms \\(connect ECONNREFUSED [^)]+\\); giving up`,
      ),
    );
    expect(lines.filter((line) => /^\s+at /.test(line))).toEqual([]);
    // The retries said what they were waiting for; the password never shows.
    expect(lines.some((line) => /not reachable yet .*retrying in \d+ ms/.test(line))).toBe(true);
    expect(lines.join('\n')).not.toContain('secret');
  });

  it('waits for a database that comes up late, then starts normally', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sms-startup-pg-'));
    await chmod(dataDir, 0o755);
    const port = await freePort();
    // Prepared (initdb) and stopped first, so that only its start is late.
    const prepared = await startEmbeddedPostgres({ dataDir, port, logger: quiet });
    const url = prepared.url;
    await prepared.stop();

    const app = await startAppProcess({ DATABASE_URL: url, DB_CONNECT_TIMEOUT_MS: '30000' });
    apps.push(app);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(app.child.exitCode).toBeNull();
    postgres = await startEmbeddedPostgres({ dataDir, port, logger: quiet });
    await app.waitUntilReady(30_000);
    expect(app.lines().join('\n')).toMatch(/not reachable yet \(connect ECONNREFUSED/);
  });
});
