import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type RunningEmbeddedPostgres,
  startEmbeddedPostgres,
} from '../../libs/database/src/embedded/embedded-postgres.launcher.js';
import { type AppProcess, stablePort, startAppProcess } from './support/app-process.js';
import { readStored, SendLoad, type SentRequest } from './support/send-load.js';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const percentile = (values: number[], p: number) =>
  values.toSorted((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))];

/**
 * Fault 3: the database goes away under load, on a throwaway PostgreSQL this
 * test stops and starts itself. Requests must get a quick 503 with
 * Retry-After (no hang, no crash), readiness must turn red, and once the
 * database is back the app must serve again by itself.
 */
describe('Database outage under load (e2e)', () => {
  let dataDir: string;
  let postgres: RunningEmbeddedPostgres | undefined;
  let app: AppProcess | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sms-outage-pg-'));
    await chmod(dataDir, 0o755);
  });

  afterAll(async () => {
    await app?.dispose();
    await postgres?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers 503 with Retry-After while it is down, reports not ready, and recovers without a restart', async () => {
    const port = await stablePort();
    postgres = await startEmbeddedPostgres({ dataDir, port, logger: quiet });
    const databaseUrl = postgres.url;
    app = await startAppProcess({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'fatal' });
    await app.waitUntilReady();

    const requests: SentRequest[] = [];
    const load = new SendLoad(app, {
      concurrency: 8,
      onRequest: (request) => requests.push(request),
    }).start();
    await load.acknowledgedAtLeast(200);

    const stoppedAt = performance.now();
    await postgres.stop();
    postgres = undefined;
    const { baseUrl } = app;
    await expect
      .poll(
        async () => {
          const response = await fetch(`${baseUrl}/api/health/ready`);
          await response.arrayBuffer();
          return response.status;
        },
        { timeout: 10_000 },
      )
      .toBe(503);

    const ready = await fetch(`${app.baseUrl}/api/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({
      statusCode: 503,
      details: [{ field: 'database', problem: expect.stringMatching(/^is down: /) }],
    });
    expect((await fetch(`${app.baseUrl}/api/health/live`)).status).toBe(200);
    // The outage lasts 3 s under load, every request of it answered 503.
    await sleep(3_000 - (performance.now() - stoppedAt));

    postgres = await startEmbeddedPostgres({ dataDir, port, logger: quiet });
    const restartedAt = performance.now();
    const backAt = await firstSuccessAfter(requests, restartedAt);
    await waitForReadiness(app.baseUrl);
    const readyAt = performance.now();
    await load.acknowledgedAtLeast(load.acknowledged.size + 100);
    await load.stop();

    // Never a crash, never a hang: answered 201, or 503 with Retry-After.
    expect(app.child.exitCode).toBeNull();
    expect([...load.outcomes.keys()].sort()).toEqual([201, 503]);
    const refused = requests.filter((request) => request.outcome === 503);
    expect(refused.every((request) => request.retryAfter === '5')).toBe(true);
    const refusalMs = refused.map((request) => request.endedAt - request.startedAt);
    expect(Math.max(...refusalMs)).toBeLessThan(3_500);

    expect(backAt - restartedAt).toBeLessThan(10_000);
    const acknowledged = [...load.acknowledged.keys()];
    const stored = await readStored(databaseUrl, acknowledged, [
      ...load.senders,
      ...load.receivers,
    ]);
    expect(acknowledged.filter((uuid) => stored.rows.get(uuid) !== 1)).toEqual([]);
    expect(stored.miscountedThreads).toEqual([]);

    console.info(
      `[outage] database down ${Math.round(restartedAt - stoppedAt)} ms; ${refused.length} requests answered 503 ` +
        `(median ${Math.round(percentile(refusalMs, 0.5))} ms, max ${Math.round(Math.max(...refusalMs))} ms), ` +
        `0 errors of any other kind; first 2xx ${Math.round(backAt - restartedAt)} ms after the database accepted ` +
        `connections again, ready ${Math.round(readyAt - restartedAt)} ms after; acknowledged ${acknowledged.length}, lost 0`,
    );
  });
});

/** When the first request that started after `since` succeeded. */
async function firstSuccessAfter(requests: SentRequest[], since: number): Promise<number> {
  for (const deadline = performance.now() + 30_000; performance.now() < deadline;) {
    const first = requests.find((request) => request.startedAt >= since && request.outcome === 201);
    if (first) return first.endedAt;
    await sleep(10);
  }
  throw new Error('the app did not serve again within 30 s of the database coming back');
}

async function waitForReadiness(baseUrl: string): Promise<void> {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(50)) {
    const response = await fetch(`${baseUrl}/api/health/ready`);
    await response.arrayBuffer();
    if (response.status === 200) return;
  }
  throw new Error('not ready again within 30 s of the database coming back');
}
