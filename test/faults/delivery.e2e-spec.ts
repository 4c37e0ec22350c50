import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { randomPhone } from '../factories/sms-event.factory.js';
import { createTestDatabase, type TestDatabase } from '../setup/test-database.js';
import { type Smsc, startSmsc } from '../support/smsc.js';
import { type AppProcess, startAppProcess } from './support/app-process.js';

/** What the outbox holds for these messages, by status, and which failed with which code. */
interface Settled {
  byStatus: Map<string, number>;
  /** `status/error_code` counts, for the failure message. */
  byOutcome: Map<string, number>;
  unknownOutcome: string[];
  pending: number;
}

/**
 * Faults on the way out: a crash with messages queued and in flight, the SMSC
 * away, the SMSC throttling, and two instances on one queue. Counted at the
 * SMSC (a real SMPP server on loopback, from the `smpp` package): nothing
 * accepted is lost, and nothing goes out twice.
 */
describe('Delivery faults (e2e)', () => {
  let database: TestDatabase;
  let smsc: Smsc;
  let db: pg.Client;
  const apps: AppProcess[] = [];

  beforeEach(async () => {
    database = await createTestDatabase();
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
    smsc = await startSmsc({ systemId: 'faults', password: 'pw' });
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.dispose()));
    await db?.end();
    await smsc?.close();
    await database?.drop();
  });

  const start = async (overrides: Record<string, string> = {}, like?: AppProcess) => {
    const app = await startAppProcess({
      DATABASE_URL: database.url,
      LOG_LEVEL: 'warn',
      OUTBOUND_POLL_MS: '50',
      OUTBOUND_RETRY_BASE_MS: '100',
      OUTBOUND_RETRY_MAX_MS: '1000',
      OUTBOUND_MAX_ATTEMPTS: '50',
      ...(like ? { ADMIN_API_KEY: like.env.ADMIN_API_KEY, SECRETS_KEY: like.env.SECRETS_KEY } : {}),
      ...overrides,
    });
    apps.push(app);
    await app.waitUntilReady();
    return app;
  };

  const connectSmpp = async (app: AppProcess, ratePerSecond: number) => {
    const phone = randomPhone();
    const response = await fetch(`${app.baseUrl}/api/gateways`, {
      method: 'POST',
      headers: { Authorization: app.authorization, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        provider: 'smpp',
        label: 'faults',
        phones: [phone],
        outbound: { url: smsc.url, ratePerSecond },
      }),
    });
    expect(response.status, await response.clone().text()).toBe(201);
    return phone;
  };

  /** Queues `count` messages with uuids of our own, 16 at a time; returns text by uuid. */
  const enqueue = async (app: AppProcess, from: string, count: number, tag: string) => {
    const texts = new Map<string, string>();
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const index = next++;
        const uuid = randomUUID();
        const text = `${tag} ${index} ${uuid}`;
        const response = await fetch(`${app.baseUrl}/api/messages`, {
          method: 'POST',
          headers: { Authorization: app.authorization, 'Content-Type': 'application/json' },
          body: JSON.stringify({ from, to: randomPhone(), text, uuid }),
        });
        expect(response.status).toBe(202);
        texts.set(uuid, text);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    return texts;
  };

  const settled = async (uuids: string[]): Promise<Settled> => {
    const result = await db.query<{ status: string; error_code: string | null; uuid: string }>(
      `SELECT message_uuid::text AS uuid, status, error_code FROM outbound_messages WHERE message_uuid = ANY($1::uuid[])`,
      [uuids],
    );
    const byStatus = new Map<string, number>();
    const byOutcome = new Map<string, number>();
    for (const row of result.rows) {
      byStatus.set(row.status, (byStatus.get(row.status) ?? 0) + 1);
      const outcome = `${row.status}/${row.error_code ?? '-'}`;
      byOutcome.set(outcome, (byOutcome.get(outcome) ?? 0) + 1);
    }
    return {
      byStatus,
      byOutcome,
      unknownOutcome: result.rows
        .filter((row) => row.error_code === 'UNKNOWN_OUTCOME')
        .map((row) => row.uuid),
      pending: result.rows.filter((row) => ['queued', 'sending', 'sent'].includes(row.status))
        .length,
    };
  };

  /** Waits until none of these is queued, sending or waiting for its receipt. */
  const drained = async (uuids: string[], timeoutMs = 50_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await settled(uuids);
      if (state.pending === 0) return state;
      if (Date.now() > deadline) {
        throw new Error(`not drained: ${JSON.stringify([...state.byOutcome])}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  /** Submits per text at the SMSC; none may be above one. */
  const countAtSmsc = (texts: Map<string, string>) => {
    const counts = new Map<string, number>();
    const byText = new Map([...texts].map(([uuid, text]) => [text, uuid]));
    for (const submit of smsc.submits) {
      const uuid = byText.get(submit.text);
      if (uuid) counts.set(uuid, (counts.get(uuid) ?? 0) + 1);
    }
    return counts;
  };

  it('kill -9 with 1,000 queued and more in flight: after restarts, each at most once, none lost', async () => {
    // Accepted by an instance that does not send: 1,000 queued when it is killed.
    const acceptor = await start({ OUTBOUND_WORKER: 'false' });
    // Fast enough that the kill finds hand-overs under way, not a spent rate budget.
    const from = await connectSmpp(acceptor, 10_000);
    const texts = await enqueue(acceptor, from, 1_000, 'crash');
    acceptor.child.kill('SIGKILL');
    await acceptor.exited;
    const uuids = [...texts.keys()];
    expect((await settled(uuids)).byStatus.get('queued')).toBe(1_000);

    // A sending instance, killed while it drains them.
    const sender = await start({ OUTBOUND_LEASE_MS: '9000' }, acceptor);
    const deadline = Date.now() + 30_000;
    while (smsc.submits.length < 300 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    sender.child.kill('SIGKILL');
    await sender.exited;
    const atKill = smsc.submits.length;

    // A third takes over: it finds the interrupted hand-overs when their leases run out, and
    // the SMSC's receipts for those it did take, which recognize them.
    const successor = await start({ OUTBOUND_LEASE_MS: '9000' }, acceptor);
    // Settled: nothing queued or being handed over, every message at the SMSC delivered, and
    // every interrupted hand-over the SMSC took recognized by its receipt. The hard guarantees
    // (below) hold whether or not the receipts have all come back in time.
    const deadline2 = Date.now() + 90_000;
    let final = await settled(uuids);
    let counts = countAtSmsc(texts);
    const isSettled = () =>
      (final.byStatus.get('queued') ?? 0) + (final.byStatus.get('sending') ?? 0) === 0 &&
      (final.byStatus.get('sent') ?? 0) === 0 &&
      final.unknownOutcome.every((uuid) => !counts.get(uuid));
    while (!isSettled() && Date.now() < deadline2) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      final = await settled(uuids);
      counts = countAtSmsc(texts);
    }
    expect((final.byStatus.get('queued') ?? 0) + (final.byStatus.get('sending') ?? 0)).toBe(0);

    const statusOf = new Map(
      (
        await db.query<{ uuid: string; status: string }>(
          `SELECT message_uuid::text AS uuid, status FROM outbound_messages WHERE message_uuid = ANY($1::uuid[])`,
          [uuids],
        )
      ).rows.map((row) => [row.uuid, row.status]),
    );
    // At most once: nothing reached the SMSC twice.
    expect(uuids.filter((uuid) => (counts.get(uuid) ?? 0) > 1)).toEqual([]);
    // None lost: what is delivered or sent reached the SMSC exactly once, and the rest is
    // flagged UNKNOWN_OUTCOME (at most one window), never silently dropped.
    const handedOver = uuids.filter((uuid) => ['delivered', 'sent'].includes(statusOf.get(uuid)!));
    expect(handedOver.filter((uuid) => counts.get(uuid) !== 1)).toEqual([]);
    expect(final.unknownOutcome.length).toBeLessThanOrEqual(10);
    expect(handedOver.length + final.unknownOutcome.length).toBe(1_000);

    const interrupted = successor
      .records()
      .filter((record) => String(record.msg).includes('its hand-over was interrupted')).length;
    const stillUnknownAtSmsc = final.unknownOutcome.filter((uuid) => counts.get(uuid) === 1).length;
    console.info(
      `[delivery crash] 1000 accepted; ${atKill} submitted before the kill; ${interrupted} hand-overs interrupted,` +
        ` ${interrupted - final.unknownOutcome.length} of them recognized by their SMSC receipts;` +
        ` delivered ${final.byStatus.get('delivered') ?? 0}, sent awaiting a receipt ${final.byStatus.get('sent') ?? 0},` +
        ` unknown outcome ${final.unknownOutcome.length} (${stillUnknownAtSmsc} of them at the SMSC);` +
        ` duplicated 0; lost 0; settled ${isSettled()}`,
    );
  }, 180_000);

  it('holds messages while the SMSC is down for 10 s, then delivers every one once', async () => {
    const app = await start();
    const from = await connectSmpp(app, 1_000);
    await smsc.stop();
    const texts = await enqueue(app, from, 100, 'outage');
    const uuids = [...texts.keys()];
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    expect((await settled(uuids)).byStatus.get('delivered') ?? 0).toBe(0);
    await smsc.start();

    const final = await drained(uuids);
    expect(final.byStatus.get('delivered')).toBe(100);
    const counts = countAtSmsc(texts);
    expect(uuids.filter((uuid) => counts.get(uuid) !== 1)).toEqual([]);
  });

  it('backs off while the SMSC throttles, then delivers every one once', async () => {
    const app = await start();
    const from = await connectSmpp(app, 1_000);
    smsc.mode = 'throttle';
    const texts = await enqueue(app, from, 200, 'throttle');
    const uuids = [...texts.keys()];
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const refusedWhileThrottling = smsc.received;
    expect(refusedWhileThrottling).toBeGreaterThan(0);
    smsc.mode = 'accept';

    const final = await drained(uuids);
    expect(final.byStatus.get('delivered')).toBe(200);
    const counts = countAtSmsc(texts);
    expect(uuids.filter((uuid) => counts.get(uuid) !== 1)).toEqual([]);
    const retried = await db.query(
      `SELECT count(*)::int AS n FROM outbound_messages WHERE attempts > 1 AND message_uuid = ANY($1::uuid[])`,
      [uuids],
    );
    expect(retried.rows[0].n).toBeGreaterThan(0);
  });

  it('shares one queue between two instances without sending anything twice', async () => {
    const first = await start();
    const second = await start({}, first);
    const from = await connectSmpp(first, 10_000);
    const [a, b] = await Promise.all([
      enqueue(first, from, 500, 'shared-a'),
      enqueue(second, from, 500, 'shared-b'),
    ]);
    const texts = new Map([...a, ...b]);
    const uuids = [...texts.keys()];

    const final = await drained(uuids);
    expect(final.byStatus.get('delivered')).toBe(1_000);
    const counts = countAtSmsc(texts);
    expect(uuids.filter((uuid) => counts.get(uuid) !== 1)).toEqual([]);
    // Both did part of the work.
    const accepted = await Promise.all(
      [first, second].map(async (app) => {
        const metrics = await (await fetch(`${app.baseUrl}/metrics`)).text();
        const line = /sms_outbound_sends_total\{provider="smpp",outcome="accepted"\} (\d+)/.exec(
          metrics,
        );
        return Number(line?.[1] ?? 0);
      }),
    );
    expect(accepted[0] + accepted[1]).toBe(1_000);
    expect(Math.min(...accepted)).toBeGreaterThan(0);
  });
});
