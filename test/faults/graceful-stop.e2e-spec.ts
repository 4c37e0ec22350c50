import { request as httpRequest } from 'node:http';
import pg from 'pg';
import { buildSmsEvent } from '../factories/sms-event.factory.js';
import { createTestDatabase, type TestDatabase } from '../setup/test-database.js';
import { type AppProcess, startAppProcess } from './support/app-process.js';
import { readStored, SendLoad } from './support/send-load.js';

const SHUTDOWN_TIMEOUT_MS = 10_000;

/**
 * A request whose body is only half sent when the app gets SIGTERM: it is in
 * flight, so it must still be answered. `finish()` sends the rest.
 */
function halfSentRequest(app: AppProcess) {
  const event = buildSmsEvent();
  const body = JSON.stringify(event);
  const { port } = new URL(app.baseUrl);
  let request!: ReturnType<typeof httpRequest>;
  const answer = new Promise<number | string>((resolve) => {
    request = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/api/send-sms',
        headers: {
          Authorization: app.authorization,
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
        },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    request.write(body.slice(0, 20));
  });
  // Connected, or failed (then `answer` says how).
  const connected = new Promise<void>((resolve) => {
    request.once('socket', (socket) =>
      socket.connecting ? socket.once('connect', () => resolve()) : resolve(),
    );
    request.once('error', () => resolve());
  });
  return { event, answer, connected, finish: () => request.end(body.slice(20)) };
}

/**
 * Fault 2: SIGTERM while phones are sending. Whatever got an answer is kept,
 * the requests in flight are finished, no client sees its connection reset,
 * and the process exits 0 within SHUTDOWN_TIMEOUT_MS, its pool closed.
 */
describe.each(['express', 'fastify'])(
  'Graceful stop on %s: SIGTERM under load (e2e)',
  (platform) => {
    let database: TestDatabase;
    let app: AppProcess | undefined;

    beforeAll(async () => {
      database = await createTestDatabase();
    });

    afterAll(async () => {
      await app?.dispose();
      await database?.drop();
    });

    it('answers every request it accepted, resets none, and exits 0 in time', async () => {
      app = await startAppProcess({
        DATABASE_URL: database.url,
        HTTP_ADAPTER: platform,
        SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      });
      await app.waitUntilReady();

      // Connected before the load starts, so that the app has surely accepted
      // them by the time it answers the load (the kernel's accept queue is first
      // in, first out): a connection still in that queue when the listening
      // socket closes is reset by the kernel, and no server can answer it.
      const slow = [halfSentRequest(app), halfSentRequest(app), halfSentRequest(app)];
      await Promise.all(slow.map((request) => request.connected));

      // Each client stops at its first refused connection: the app no longer accepts.
      const load = new SendLoad(app, {
        concurrency: 16,
        stopOn: (outcome) => outcome === 'ECONNREFUSED',
      }).start();
      await load.acknowledgedAtLeast(300);

      const signalledAt = performance.now();
      app.child.kill('SIGTERM');
      // Their bodies arrive while the app drains.
      setTimeout(() => slow.forEach((request) => request.finish()), 500);
      const exit = await app.exited;
      const exitMs = performance.now() - signalledAt;
      await load.stop();

      expect(exit).toEqual({ code: 0, signal: null });
      expect(exitMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS);

      // Every request the app received was answered in full: what its log says.
      const received = new Map(
        app
          .records()
          .filter((record) => typeof record.requestId === 'string' && 'status' in record)
          .map((record) => [record.requestId as string, record]),
      );
      expect(
        [...received.values()].filter(
          (record) => record.status !== 201 && record.route !== '/api/health/ready',
        ),
      ).toEqual([]);
      expect([...received.values()].filter((record) => record.aborted)).toEqual([]);
      // The clients got those answers (201), or were refused once it stopped
      // accepting. A connection the kernel completed but the app had not yet
      // accepted when the listening socket closed is reset by the kernel: such a
      // request never reached the app (its id is not in the log), stored nothing,
      // and is as safe to resend as a refused one.
      const failed = [...load.unacknowledged.values()];
      const resetBeforeAccept = failed.filter(({ outcome }) => outcome !== 'ECONNREFUSED');
      expect(failed.every(({ outcome }) => typeof outcome === 'string')).toBe(true);
      expect(resetBeforeAccept.filter(({ event }) => received.has(event.uuid))).toEqual([]);
      expect(resetBeforeAccept.length).toBeLessThanOrEqual(2);
      expect(await Promise.all(slow.map((request) => request.answer))).toEqual([201, 201, 201]);

      const acknowledged = [
        ...load.acknowledged.keys(),
        ...slow.map((request) => request.event.uuid),
      ];
      const stored = await readStored(database.url, acknowledged, [
        ...load.senders,
        ...load.receivers,
      ]);
      expect(acknowledged.filter((uuid) => stored.rows.get(uuid) !== 1)).toEqual([]);
      expect(stored.miscountedThreads).toEqual([]);

      // The pool was closed, not dropped with the process.
      expect(await sessionsOn(database.url)).toBe(0);
      const messages = app.records().map((record) => record.msg);
      expect(messages).toEqual(
        expect.arrayContaining([
          expect.stringMatching(
            /^SIGTERM: no new connections; finishing \d+ request\(s\) in flight/,
          ),
          expect.stringMatching(/^Every request answered; HTTP server closed in \d+ ms$/),
          'Shutdown complete',
        ]),
      );
      console.info(
        `[graceful stop, ${platform}] acknowledged ${acknowledged.length} (3 of them half-sent at SIGTERM), lost 0,` +
          ` refused after the signal ${load.count((o) => o === 'ECONNREFUSED')}, reset before being accepted ` +
          `${resetBeforeAccept.length}, reset after being accepted 0; exit 0 after ${Math.round(exitMs)} ms`,
      );
    });
  },
);

/** Sessions the app left on its database. */
async function sessionsOn(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = 'sms-service'`,
    );
    return Number(rows[0].n);
  } finally {
    await client.end();
  }
}
