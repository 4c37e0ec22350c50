import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../setup/test-database.js';
import { type AppProcess, startAppProcess } from './support/app-process.js';
import { readStored, send, SendLoad } from './support/send-load.js';

/**
 * Fault 1: kill -9 the app while phones are sending. A 2xx must mean the
 * message is stored (the row is committed before the answer), and a phone
 * retrying what got no answer must not create anything twice.
 */
describe('Crash: kill -9 under load (e2e)', () => {
  let database: TestDatabase;
  const apps: AppProcess[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.dispose()));
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('keeps every acknowledged message exactly once, and a retry of the rest duplicates nothing', async () => {
    const env = { DATABASE_URL: database.url, LOG_LEVEL: 'warn' };
    const first = await startAppProcess(env);
    apps.push(first);
    await first.waitUntilReady();

    const load = new SendLoad(first, { concurrency: 16 }).start();
    await load.acknowledgedAtLeast(500);
    first.child.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    await load.stop();

    const acknowledged = [...load.acknowledged.keys()];
    const unacknowledged = [...load.unacknowledged.values()];
    const parties = [...load.senders, ...load.receivers];

    // The same database, a new process, as a supervisor would restart it.
    const second = await startAppProcess({ ...env, ADMIN_API_KEY: first.env.ADMIN_API_KEY });
    apps.push(second);
    await second.waitUntilReady();

    const afterCrash = await readStored(database.url, acknowledged, parties);
    const lost = acknowledged.filter((uuid) => afterCrash.rows.get(uuid) !== 1);
    expect(lost).toEqual([]);
    expect(afterCrash.miscountedThreads).toEqual([]);

    // The phones resend what got no answer: stored ones are replays (200), the rest new (201).
    const storedUnanswered = (
      await readStored(
        database.url,
        unacknowledged.map(({ event }) => event.uuid),
        [],
      )
    ).rows;
    const retried = await Promise.all(
      unacknowledged.map(async ({ event }) => ({
        wasStored: storedUnanswered.has(event.uuid),
        outcome: (await send(second, '/api/send-sms', event)).outcome,
      })),
    );
    for (const { wasStored, outcome } of retried) expect(outcome).toBe(wasStored ? 200 : 201);

    const everything = [...acknowledged, ...unacknowledged.map(({ event }) => event.uuid)];
    const afterRetry = await readStored(database.url, everything, parties);
    const notOnce = everything.filter((uuid) => afterRetry.rows.get(uuid) !== 1);
    expect(notOnce).toEqual([]);
    expect(afterRetry.miscountedThreads).toEqual([]);

    console.info(
      `[crash] acknowledged ${acknowledged.length}, lost 0; unanswered at the kill ${unacknowledged.length}` +
        ` (${retried.filter((r) => r.wasStored).length} already stored, replayed as 200), duplicated 0`,
    );
  });

  it('restarts over the embedded PostgreSQL its killed predecessor left running, with every acknowledged message', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sms-crash-embedded-'));
    // As root, the `postgres` user must be able to enter it (mkdtemp makes it 0700).
    await chmod(dataDir, 0o755);
    try {
      // Development: production refuses to run without DATABASE_URL, so never on the embedded server.
      const env = { NODE_ENV: 'development', DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
      const first = await startAppProcess(env);
      apps.push(first);
      await first.waitUntilReady(90_000);
      const load = new SendLoad(first, { concurrency: 8 }).start();
      await load.acknowledgedAtLeast(200);
      first.child.kill('SIGKILL');
      await first.exited;
      await load.stop();

      // kill -9 leaves the server it started running, holding the cluster.
      const postmasterPid = await runningPostmaster(dataDir);
      expect(postmasterPid).toBeDefined();

      const second = await startAppProcess({ ...env, ADMIN_API_KEY: first.env.ADMIN_API_KEY });
      apps.push(second);
      await second.waitUntilReady(90_000);
      expect(second.lines().join('\n')).toContain(`PostgreSQL (pid ${postmasterPid}) outlived`);

      const missing: string[] = [];
      for (const uuid of load.acknowledged.keys()) {
        const response = await fetch(`${second.baseUrl}/api/messages/${uuid}`, {
          headers: { Authorization: second.authorization },
        });
        await response.arrayBuffer();
        if (response.status !== 200) missing.push(uuid);
      }
      expect(missing).toEqual([]);

      // A clean stop this time: exit 0, and the server goes with the app.
      second.child.kill('SIGTERM');
      expect(await second.exited).toEqual({ code: 0, signal: null });
      expect(await runningPostmaster(dataDir)).toBeUndefined();
      console.info(
        `[crash, embedded] acknowledged ${load.acknowledged.size}, lost 0; orphaned postmaster stopped on restart`,
      );
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

/** The pid in the cluster's postmaster.pid when that process is alive. */
async function runningPostmaster(dataDir: string): Promise<number | undefined> {
  try {
    const pid = Number(
      (await readFile(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8')).split('\n', 1)[0],
    );
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}
