import { Client } from 'pg';
import request from 'supertest';
import { readEventStream, type SseEvent, StreamRefused } from '../apps/web/src/sse.js';
import { issuePhoneKey, revokeKey } from './factories/api-key.factory.js';
import { buildSmsEvent, randomPhone, type SmsEventBody } from './factories/sms-event.factory.js';
import { startTestApp, type TestApp } from './setup/test-app.js';

interface LiveMessage {
  uuid: string;
  senderPhone: string;
  receiverPhone: string;
  text: string;
  direction: 'sent' | 'received';
  status: 'sent' | 'received' | 'delivered';
  sentAt: number | null;
  receivedAt: number | null;
  encoding: string;
  segments: number;
}

/** One open event stream, read the way the page reads it (fetch + the page's parser). */
class Listener {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  /** Settles when the stream ends: by the server (true), or by close() (false). */
  readonly ended: Promise<boolean>;
  private readonly abort = new AbortController();
  private readonly waiters = new Set<() => void>();

  private constructor(
    app: TestApp,
    phone: string,
    authorization: string,
    lastEventId: string | undefined,
    opened: { resolve(): void; reject(error: unknown): void },
  ) {
    this.ended = readEventStream(
      {
        url: `${app.baseUrl}/api/phones/${encodeURIComponent(phone)}/events`,
        headers: { Authorization: authorization },
        lastEventId,
        signal: this.abort.signal,
      },
      {
        open: () => opened.resolve(),
        event: (event) => {
          this.events.push(event);
          for (const wake of this.waiters) wake();
        },
        comment: (text) => this.comments.push(text),
      },
    ).then(
      () => true,
      (error: unknown) => {
        opened.reject(error);
        if ((error as Error).name === 'AbortError') return false;
        throw error;
      },
    );
    this.ended.finally(() => this.waiters.forEach((wake) => wake())).catch(() => undefined);
  }

  static open(
    app: TestApp,
    phone: string,
    authorization: string,
    lastEventId?: string,
  ): Promise<Listener> {
    return new Promise((resolve, reject) => {
      const listener: Listener = new Listener(app, phone, authorization, lastEventId, {
        resolve: () => resolve(listener),
        reject,
      });
    });
  }

  /** The stream's last event id, as a client would send it when resuming. */
  get lastEventId(): string | undefined {
    return this.events.at(-1)?.lastEventId;
  }

  /** Message events so far, oldest first. */
  messages(): Array<{ type: string; id: string; message: LiveMessage }> {
    return this.events
      .filter((event) => event.type.startsWith('message.'))
      .map((event) => ({
        type: event.type,
        id: event.lastEventId,
        message: JSON.parse(event.data) as LiveMessage,
      }));
  }

  /** Waits until `predicate` holds for the events received so far. */
  async until(predicate: (listener: Listener) => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new Error(
          `Timed out; events so far: ${JSON.stringify(this.events.map((e) => e.type))}`,
        );
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, remaining);
        this.waiters.add(wake);
      });
    }
  }

  ready(): Promise<void> {
    return this.until((listener) => listener.events.some((event) => event.type === 'ready'));
  }

  hasMessage(uuid: string, status?: LiveMessage['status']): boolean {
    return this.messages().some(
      ({ message }) => message.uuid === uuid && (status === undefined || message.status === status),
    );
  }

  close(): Promise<boolean> {
    this.abort.abort();
    return this.ended;
  }
}

/** Live updates over two app instances on one database: Express (A) and Fastify (B). */
describe('Live updates (e2e)', () => {
  let a: TestApp;
  let b: TestApp;
  let admin: string;
  const open: Listener[] = [];

  const listen = async (
    app: TestApp,
    phone: string,
    authorization: string,
    lastEventId?: string,
  ) => {
    const listener = await Listener.open(app, phone, authorization, lastEventId);
    open.push(listener);
    await listener.ready();
    return listener;
  };

  const send = (app: TestApp, event: SmsEventBody) =>
    request(app.baseUrl).post('/api/send-sms').set('Authorization', admin).send(event).expect(201);
  const receive = (app: TestApp, event: SmsEventBody) =>
    request(app.baseUrl)
      .post('/api/receive-sms')
      .set('Authorization', admin)
      .send(event)
      .expect(201);

  beforeAll(async () => {
    a = await startTestApp();
    admin = `Bearer ${a.adminKey}`;
    b = await startTestApp({
      DATABASE_URL: a.databaseUrl,
      ADMIN_API_KEY: a.adminKey,
      HTTP_ADAPTER: 'fastify',
      LIVE_HEARTBEAT_MS: '200',
    });
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((listener) => listener.close().catch(() => false)));
  });

  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('brings a message written through one instance to listeners on both', async () => {
    const me = randomPhone();
    const other = randomPhone();
    const myKey = await issuePhoneKey(a, [me]);
    const mine = await listen(b, me, myKey.authorization);
    const theirs = await listen(a, other, admin);

    const event = buildSmsEvent({
      senderPhone: me,
      receiverPhone: other,
      messageText: 'On my way',
    });
    await send(a, event);
    await mine.until((l) => l.hasMessage(event.uuid));
    await theirs.until((l) => l.hasMessage(event.uuid));

    const [created] = mine.messages();
    expect(created.type).toBe('message.created');
    expect(created.id).toMatch(/^\d+$/);
    // The thread endpoint's message shape, seen from each listener's number.
    const thread = await request(a.baseUrl)
      .get(
        `/api/phones/${encodeURIComponent(me)}/conversations/${encodeURIComponent(other)}/messages`,
      )
      .set('Authorization', admin)
      .expect(200);
    expect(created.message).toEqual(thread.body.messages[0]);
    expect(created.message).toMatchObject({ direction: 'sent', status: 'sent', text: 'On my way' });
    expect(theirs.messages()[0].message).toMatchObject({ direction: 'received', uuid: event.uuid });

    // The receiver's report, through the other instance, completes the message.
    await receive(b, { ...event, timestamp: event.timestamp + 4 });
    await mine.until((l) => l.hasMessage(event.uuid, 'delivered'));
    await theirs.until((l) => l.hasMessage(event.uuid, 'delivered'));
    const updated = mine.messages()[1];
    expect(updated.type).toBe('message.updated');
    expect(updated.message).toMatchObject({
      status: 'delivered',
      receivedAt: event.timestamp + 4,
    });
    expect(BigInt(updated.id)).toBeGreaterThan(BigInt(created.id));

    // A replay changes nothing and says nothing.
    await request(a.baseUrl)
      .post('/api/send-sms')
      .set('Authorization', admin)
      .send(event)
      .expect(200);
    const later = buildSmsEvent({ senderPhone: other, receiverPhone: me });
    await send(b, later);
    await mine.until((l) => l.hasMessage(later.uuid));
    expect(mine.messages().map((m) => m.type)).toEqual([
      'message.created',
      'message.updated',
      'message.created',
    ]);
  });

  it('replays what a client missed when it resumes with Last-Event-ID, on either instance', async () => {
    const me = randomPhone();
    const other = randomPhone();
    const first = await listen(b, me, admin);
    const before = buildSmsEvent({ senderPhone: me, receiverPhone: other });
    await send(a, before);
    await first.until((l) => l.hasMessage(before.uuid));
    const resumeFrom = first.lastEventId!;
    await first.close();

    // While nobody listens: new messages both ways, and an older one delivered.
    const missed = [
      buildSmsEvent({ senderPhone: me, receiverPhone: other }),
      buildSmsEvent({ senderPhone: other, receiverPhone: me }),
      buildSmsEvent({ senderPhone: randomPhone(), receiverPhone: me }),
    ];
    for (const event of missed) await send(a, event);
    await receive(b, { ...before, timestamp: before.timestamp + 2 });
    const unrelated = buildSmsEvent({ senderPhone: other, receiverPhone: randomPhone() });
    await send(a, unrelated);

    const resumed = await listen(a, me, admin, resumeFrom);
    for (const event of missed) expect(resumed.hasMessage(event.uuid)).toBe(true);
    expect(resumed.hasMessage(before.uuid, 'delivered')).toBe(true);
    expect(resumed.hasMessage(unrelated.uuid)).toBe(false);
    // The replay comes before `ready`, and says what is new to the client.
    const types = resumed.events.map((event) => event.type);
    expect(types.at(-1)).toBe('ready');
    expect(JSON.parse(resumed.events.at(-1)!.data)).toMatchObject({ phone: me, resumed: true });
    const byUuid = new Map(resumed.messages().map((m) => [m.message.uuid, m.type]));
    expect(missed.map((event) => byUuid.get(event.uuid))).toEqual(Array(3).fill('message.created'));
    expect(byUuid.get(before.uuid)).toBe('message.updated');

    // And from there the stream is live again.
    const after = buildSmsEvent({ senderPhone: other, receiverPhone: me });
    await send(b, after);
    await resumed.until((l) => l.hasMessage(after.uuid));
  });

  it('misses no message while a client keeps reconnecting during a stream of writes', async () => {
    const me = randomPhone();
    const sent: string[] = [];
    let writing = true;
    const writer = (async () => {
      for (let index = 0; writing && index < 400; index += 1) {
        const event = buildSmsEvent({
          senderPhone: index % 2 ? me : randomPhone(),
          receiverPhone: index % 2 ? randomPhone() : me,
        });
        await send(index % 3 ? a : b, event);
        sent.push(event.uuid);
      }
    })();

    const seen = new Set<string>();
    let lastEventId: string | undefined;
    for (let round = 0; round < 8; round += 1) {
      const listener = await listen(round % 2 ? a : b, me, admin, lastEventId);
      // Open a little longer each round, so it closes at a different point of the writes.
      await new Promise((resolve) => setTimeout(resolve, 50 + round * 20));
      await listener.close();
      for (const { message } of listener.messages()) seen.add(message.uuid);
      lastEventId = listener.lastEventId;
    }
    writing = false;
    await writer;
    // A last reconnection collects what was written after the last one.
    const last = await listen(a, me, admin, lastEventId);
    for (const { message } of last.messages()) seen.add(message.uuid);

    expect(sent.length).toBeGreaterThan(20);
    expect(sent.filter((uuid) => !seen.has(uuid))).toEqual([]);
  });

  it('coalesces a burst of writes into a few NOTIFYs under the 8000-byte limit', async () => {
    const me = randomPhone();
    const listener = await listen(b, me, admin);
    const db = new Client({ connectionString: a.databaseUrl });
    await db.connect();
    const payloads: string[] = [];
    db.on('notification', (message) => payloads.push(message.payload ?? ''));
    await db.query('LISTEN sms_message_changes');
    try {
      const events = Array.from({ length: 300 }, () =>
        buildSmsEvent({ senderPhone: randomPhone(), receiverPhone: me }),
      );
      await request(a.baseUrl)
        .post('/api/messages/import')
        .set('Authorization', admin)
        .send({ events: events.map((event) => ({ type: 'received', ...event })) })
        .expect(200);
      await listener.until((l) => events.every((event) => l.hasMessage(event.uuid)));
      expect(listener.messages()).toHaveLength(300);
      expect(payloads.length).toBeGreaterThan(1);
      expect(payloads.length).toBeLessThan(30);
      for (const payload of payloads) expect(Buffer.byteLength(payload)).toBeLessThan(8000);
    } finally {
      await db.end();
    }
  });

  it('sends heartbeat comments while nothing happens', async () => {
    const listener = await listen(b, randomPhone(), admin);
    await vi.waitFor(
      () =>
        expect(
          listener.comments.filter((comment) => comment === 'heartbeat').length,
        ).toBeGreaterThan(1),
      { timeout: 5_000 },
    );
  });

  it('asks for a key that acts for the number', async () => {
    const me = randomPhone();
    const stranger = await issuePhoneKey(a, [randomPhone()]);
    const refusal = async (app: TestApp, headers: Record<string, string>) => {
      const error = await readEventStream(
        { url: `${app.baseUrl}/api/phones/${encodeURIComponent(me)}/events`, headers },
        { event: () => undefined },
      ).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(StreamRefused);
      return error as StreamRefused;
    };
    for (const app of [a, b]) {
      expect((await refusal(app, {})).status).toBe(401);
      expect((await refusal(app, { Authorization: 'Bearer sms_nope' })).status).toBe(401);
      const forbidden = await refusal(app, { Authorization: stranger.authorization });
      expect(forbidden.status).toBe(403);
      expect(forbidden.body).toMatchObject({ statusCode: 403, error: 'Forbidden' });
      const badId = await refusal(app, { Authorization: admin, 'Last-Event-ID': 'yesterday' });
      expect(badId.status).toBe(400);
      expect(badId.body).toMatchObject({ details: [{ field: 'Last-Event-ID' }] });
    }
    // Any format of the number works, as everywhere else.
    const national = me.replace(/^\+1/, '');
    const key = await issuePhoneKey(a, [me]);
    await listen(
      b,
      `(${national.slice(0, 3)}) ${national.slice(3, 6)}-${national.slice(6)}`,
      key.authorization,
    );
  });

  it('ends a stream within 5 s of its key being revoked, on every instance', async () => {
    const me = randomPhone();
    const key = await issuePhoneKey(a, [me]);
    const onA = await listen(a, me, key.authorization);
    const onB = await listen(b, me, key.authorization);
    await revokeKey(a, key.id);
    const revokedAt = Date.now();
    await expect(onA.ended).resolves.toBe(true);
    await expect(onB.ended).resolves.toBe(true);
    expect(Date.now() - revokedAt).toBeLessThan(5_000);
    const again = await Listener.open(b, me, key.authorization, onB.lastEventId).catch(
      (error: unknown) => error,
    );
    expect(again).toMatchObject({ status: 401 });
  });

  it('tells the page what the key in use may see', async () => {
    const phones = [randomPhone(), randomPhone()];
    const key = await issuePhoneKey(a, phones);
    const response = await request(b.baseUrl)
      .get('/api/session')
      .set('Authorization', key.authorization)
      .expect(200);
    expect(response.body).toEqual({ isAdmin: false, phones });
    await request(a.baseUrl)
      .get('/api/session')
      .set('Authorization', admin)
      .expect(200, { isAdmin: true, phones: [] });
    await request(a.baseUrl).get('/api/session').expect(401);
  });

  it('ends its streams when it loses the database, and the clients resume without a gap', async () => {
    const me = randomPhone();
    const listener = await listen(b, me, admin);
    const db = new Client({ connectionString: a.databaseUrl });
    await db.connect();
    try {
      await db.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE application_name = 'sms-service-live' AND datname = current_database()`,
      );
      await expect(listener.ended).resolves.toBe(true);
      const meanwhile = buildSmsEvent({ senderPhone: randomPhone(), receiverPhone: me });
      await send(a, meanwhile);

      // The instance answers 503 until it listens again; the client retries.
      let resumed: Listener | undefined;
      for (let attempt = 0; !resumed && attempt < 100; attempt += 1) {
        resumed = await listen(b, me, admin, listener.lastEventId).catch((error: unknown) => {
          if (!(error instanceof StreamRefused) || error.status !== 503) throw error;
          return new Promise<undefined>((resolve) => setTimeout(resolve, 100));
        });
      }
      expect(resumed?.hasMessage(meanwhile.uuid)).toBe(true);
      const after = buildSmsEvent({ senderPhone: me, receiverPhone: randomPhone() });
      await send(a, after);
      await resumed!.until((l) => l.hasMessage(after.uuid));
    } finally {
      await db.end();
    }
  });

  it('ends open streams when the app shuts down, so it can', async () => {
    const c = await startTestApp({ DATABASE_URL: a.databaseUrl, ADMIN_API_KEY: a.adminKey });
    const listener = await listen(c, randomPhone(), admin);
    const started = Date.now();
    await c.close();
    await expect(listener.ended).resolves.toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
