import { Client } from 'pg';
import { buildSmsEvent, randomPhone } from './factories/sms-event.factory.js';
import { startTestApp, type TestApp } from './setup/test-app.js';
import { createTestDatabase, type TestDatabase } from './setup/test-database.js';
import { TcpRelay } from './setup/tcp-relay.js';

interface ReplicaState {
  name: string;
  serving: boolean;
  lagSeconds?: number;
  reason?: string;
}

/**
 * DATABASE_REPLICA_URLS, with the test database itself as the "replica", reached
 * through a relay the test can cut: the listings read from it, a replica that
 * goes away costs no request an error, and reads return to it once it answers.
 * (A real streaming replica is in test/topology/.)
 */
describe('Read replicas (e2e)', () => {
  let database: TestDatabase;
  let relay: TcpRelay;
  let testApp: TestApp;
  let db: Client;
  const owner = randomPhone();
  const other = randomPhone();

  const headers = () => ({
    Authorization: `Bearer ${testApp.adminKey}`,
    'Content-Type': 'application/json',
  });
  const send = async () => {
    const response = await fetch(`${testApp.baseUrl}/api/send-sms`, {
      method: 'POST',
      headers: headers(),
      body: JSON.stringify(buildSmsEvent({ senderPhone: owner, receiverPhone: other })),
    });
    expect(response.status).toBe(201);
  };
  const readConversation = async () => {
    const response = await fetch(
      `${testApp.baseUrl}/api/get-conversation/${encodeURIComponent(owner)}`,
      { headers: headers() },
    );
    return { status: response.status, body: (await response.json()) as { messages: unknown[] } };
  };
  const replicaStates = async (): Promise<ReplicaState[]> => {
    const response = await fetch(`${testApp.baseUrl}/api/health/ready`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { info: { replicas: { replicas: ReplicaState[] } } };
    return body.info.replicas.replicas;
  };
  /** Connections the app's replica pool holds on the database right now. */
  const replicaSessions = async () =>
    Number(
      (
        await db.query(
          `SELECT count(*) FROM pg_stat_activity
            WHERE datname = current_database() AND application_name = 'sms-service-reads'`,
        )
      ).rows[0].count,
    );

  beforeAll(async () => {
    database = await createTestDatabase();
    const url = new URL(database.url);
    relay = new TcpRelay({ host: url.hostname, port: Number(url.port || 5432) });
    await relay.start();
    testApp = await startTestApp({
      DATABASE_URL: database.url,
      DATABASE_REPLICA_URLS: relay.urlFor(database.url),
    });
    db = new Client({ connectionString: database.url });
    await db.connect();
    for (let index = 0; index < 3; index += 1) await send();
  });

  afterAll(async () => {
    await db?.end();
    await testApp?.close();
    await relay?.cut();
    await database?.drop();
  });

  it('serves the listings from the replica, and readiness lists it with its lag', async () => {
    const before = relay.bytesToServer;
    const { status, body } = await readConversation();

    expect(status).toBe(200);
    expect(body.messages).toHaveLength(3);
    expect(relay.bytesToServer).toBeGreaterThan(before);
    expect(await replicaSessions()).toBeGreaterThan(0);
    expect(await replicaStates()).toEqual([
      {
        name: `127.0.0.1:${new URL(relay.urlFor(database.url)).port}${new URL(database.url).pathname}`,
        serving: true,
        lagSeconds: 0,
      },
    ]);
  });

  it('answers every read from the primary while the replica is gone, without an error', async () => {
    await relay.cut();

    const reads = await Promise.all(Array.from({ length: 20 }, () => readConversation()));

    expect(reads.map((read) => read.status)).toEqual(Array(20).fill(200));
    expect(reads.every((read) => read.body.messages.length === 3)).toBe(true);
    const [state] = await replicaStates();
    expect(state.serving).toBe(false);
    expect(state.reason).toEqual(expect.any(String));
    // Writes never went to the replica.
    await send();
    expect((await readConversation()).body.messages).toHaveLength(4);
  });

  it('reads from the replica again once it answers', async () => {
    await relay.start();
    const deadline = Date.now() + 10_000;
    while (!(await replicaStates())[0].serving) {
      if (Date.now() > deadline) throw new Error('the replica did not serve again within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const before = relay.bytesToServer;

    for (let index = 0; index < 5; index += 1) expect((await readConversation()).status).toBe(200);

    expect(relay.bytesToServer).toBeGreaterThan(before);
  });
});
