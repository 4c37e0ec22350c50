import { Client } from 'pg';
import request from 'supertest';
import {
  ERASED_TEXT,
  ErasureRepository,
  PartyPseudonyms,
  PSEUDONYM,
  RetentionService,
} from '@app/privacy';
import { issuePhoneKey } from './factories/api-key.factory.js';
import { buildSmsEvent, randomPhone, type SmsEventBody } from './factories/sms-event.factory.js';
import { startTestApp, type TestApp } from './setup/test-app.js';

interface ThreadSummary {
  counterpart: string;
  messageCount: number;
  lastMessage: { uuid: string; text: string };
}

/** The same constant as RetentionRepository's: the test holds it to play a second instance. */
const RETENTION_LOCK_KEY = 7_366_120_452;
const DAY = 86_400;

/**
 * Every summary against the messages it summarizes: count and newest message
 * of each (owner, counterpart), and no pair with messages left without one
 * (pseudonyms own no summaries). Empty when they all agree.
 */
async function summaryDrift(db: Client): Promise<unknown[]> {
  const { rows } = await db.query(`
    WITH sides AS (
      SELECT sender_phone AS owner, receiver_phone AS counterpart, uuid, occurred_at FROM messages
      UNION
      SELECT receiver_phone, sender_phone, uuid, occurred_at FROM messages
    ),
    expected AS (
      SELECT owner, counterpart, count(*)::int AS n,
             (array_agg(uuid ORDER BY occurred_at DESC, uuid DESC))[1] AS last
      FROM sides WHERE owner !~ '^ERASED[0-9A-Z]{5}$' GROUP BY owner, counterpart
    )
    SELECT e.owner, e.counterpart, e.n, e.last, c.owner_phone, c.counterpart_phone,
           c.message_count, c.last_message_uuid
    FROM expected AS e
    FULL JOIN conversations AS c ON c.owner_phone = e.owner AND c.counterpart_phone = e.counterpart
    WHERE e.n IS DISTINCT FROM c.message_count OR e.last IS DISTINCT FROM c.last_message_uuid`);
  return rows;
}

/** Messages and summaries in which `phone` still appears. */
async function traces(db: Client, phone: string): Promise<{ messages: number; summaries: number }> {
  const messages = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM messages WHERE sender_phone = $1 OR receiver_phone = $1',
    [phone],
  );
  const summaries = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM conversations WHERE owner_phone = $1 OR counterpart_phone = $1',
    [phone],
  );
  return { messages: messages.rows[0].n, summaries: summaries.rows[0].n };
}

/** Erasure, the audit and retention, over HTTP on a real PostgreSQL. */
describe('Erasure and retention (e2e)', () => {
  let testApp: TestApp;
  let db: Client;
  const admin = () => `Bearer ${testApp.adminKey}`;
  const path = (phone: string) => encodeURIComponent(phone);
  const http = () => request(testApp.baseUrl);

  beforeAll(async () => {
    testApp = await startTestApp();
    db = new Client({ connectionString: testApp.databaseUrl });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await testApp?.close();
  });

  const send = (event: SmsEventBody) =>
    http().post('/api/send-sms').set('Authorization', admin()).send(event).expect(201);

  /** Up to 1000 messages in one request. */
  const importMessages = (events: SmsEventBody[]) =>
    http()
      .post('/api/messages/import')
      .set('Authorization', admin())
      .send({ events: events.map((event) => ({ type: 'sent', ...event })) })
      .expect(200);

  const erase = (phone: string, authorization = admin(), query = '') =>
    http()
      .delete(`/api/phones/${path(phone)}/messages${query}`)
      .set('Authorization', authorization);

  async function threadsOf(phone: string): Promise<ThreadSummary[]> {
    const response = await http()
      .get(`/api/phones/${path(phone)}/conversations?limit=100`)
      .set('Authorization', admin())
      .expect(200);
    return response.body.conversations;
  }

  const pseudonymOf = (phone: string) => testApp.app.get(PartyPseudonyms).pseudonymOf(phone);

  describe('by the admin key', () => {
    const erased = randomPhone();
    const friend = randomPhone();
    const other = randomPhone();
    const bystander = randomPhone();
    const texts: string[] = [];
    const events: SmsEventBody[] = [];

    beforeAll(async () => {
      const conversation = [
        [erased, friend],
        [friend, erased],
        [erased, friend],
        [friend, erased],
        [erased, friend],
        [erased, other],
        [other, erased],
        [erased, erased],
        [friend, bystander],
      ];
      for (const [senderPhone, receiverPhone] of conversation) {
        const event = buildSmsEvent({ senderPhone, receiverPhone });
        texts.push(event.messageText);
        events.push(event);
        await send(event);
      }
      // The number opts out of the friend's messages: gone with the erasure.
      await send(
        buildSmsEvent({ senderPhone: erased, receiverPhone: friend, messageText: 'STOP' }),
      );
    });

    it('shows the opt-out before', async () => {
      const thread = await http()
        .get(`/api/phones/${path(friend)}/conversations/${path(erased)}/messages`)
        .set('Authorization', admin())
        .expect(200);
      expect(thread.body.optOut).toMatchObject({ keyword: 'STOP' });
    });

    it('erases every message of the number and reports how many', async () => {
      const response = await erase(erased).expect(200);

      expect(response.body).toEqual({
        messagesErased: 9,
        // The number's own three threads, and its two counterparts' threads with it.
        summariesRemoved: 5,
        pseudonym: pseudonymOf(erased),
      });
      expect(response.body.pseudonym).toMatch(PSEUDONYM);
      expect(await traces(db, erased)).toEqual({ messages: 0, summaries: 0 });
      expect(await summaryDrift(db)).toEqual([]);
    });

    it("leaves the number's conversation and thread list empty", async () => {
      const conversation = await http()
        .get(`/api/get-conversation/${path(erased)}`)
        .set('Authorization', admin())
        .expect(200);
      expect(conversation.body).toEqual({ messages: [] });
      expect(await threadsOf(erased)).toEqual([]);
    });

    it('keeps each counterpart a thread with the pseudonym, with its count and no text', async () => {
      const pseudonym = pseudonymOf(erased);
      const friendThreads = await threadsOf(friend);
      expect(friendThreads.map((t) => [t.counterpart, t.messageCount]).sort()).toEqual(
        [
          [bystander, 1],
          [pseudonym, 6],
        ].sort(),
      );
      const erasedThread = friendThreads.find((t) => t.counterpart === pseudonym)!;
      expect(erasedThread.lastMessage.text).toBe(ERASED_TEXT);
      expect((await threadsOf(other)).map((t) => [t.counterpart, t.messageCount])).toEqual([
        [pseudonym, 2],
      ]);

      const thread = await http()
        .get(`/api/phones/${path(friend)}/conversations/${pseudonym}/messages`)
        .set('Authorization', admin())
        .expect(200);
      expect(thread.body.messages).toHaveLength(6);
      expect(new Set(thread.body.messages.map((m: { text: string }) => m.text))).toEqual(
        new Set([ERASED_TEXT]),
      );
      for (const message of thread.body.messages) {
        expect([message.senderPhone, message.receiverPhone]).toContain(pseudonym);
        expect(message.segments).toBe(1);
      }
      expect(thread.body.optOut).toBeNull();
      // The thread nobody erased is untouched.
      const untouched = await http()
        .get(`/api/phones/${path(friend)}/conversations/${path(bystander)}/messages`)
        .set('Authorization', admin())
        .expect(200);
      expect(untouched.body.messages.map((m: { text: string }) => m.text)).toEqual([texts[8]]);
    });

    it('keeps no text of the number anywhere', async () => {
      const { rows } = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM messages WHERE text = ANY($1)',
        [[...texts.slice(0, 8), 'STOP']],
      );
      expect(rows[0].n).toBe(0);
    });

    it('is idempotent: a second run erases nothing and changes nothing', async () => {
      const before = await threadsOf(friend);

      const again = await erase(erased).expect(200);

      expect(again.body).toEqual({
        messagesErased: 0,
        summariesRemoved: 0,
        pseudonym: pseudonymOf(erased),
      });
      expect(await threadsOf(friend)).toEqual(before);
      expect(await summaryDrift(db)).toEqual([]);
    });

    it('answers 409 to a late report of an erased message, and stores nothing of it', async () => {
      const [first] = events;
      await http()
        .post('/api/receive-sms')
        .set('Authorization', admin())
        .send({ ...first, timestamp: first.timestamp + 5 })
        .expect(409);
      await http().post('/api/send-sms').set('Authorization', admin()).send(first).expect(409);

      expect(await traces(db, erased)).toEqual({ messages: 0, summaries: 0 });
      const stored = await db.query('SELECT text FROM messages WHERE uuid = $1', [first.uuid]);
      expect(stored.rows).toEqual([{ text: ERASED_TEXT }]);
    });

    it('refuses a pseudonym', async () => {
      const response = await erase(pseudonymOf(erased)).expect(400);
      expect(response.body.details).toEqual([
        { field: 'phone', problem: 'is already an erased number' },
      ]);
    });
  });

  describe('by a phone key', () => {
    const own = randomPhone();
    const stranger = randomPhone();

    beforeAll(async () => {
      await send(buildSmsEvent({ senderPhone: own, receiverPhone: stranger }));
      await send(buildSmsEvent({ senderPhone: stranger, receiverPhone: own }));
    });

    it('refuses without confirm, or with another number, naming confirm', async () => {
      const key = await issuePhoneKey(testApp, [own]);

      for (const query of ['', `?confirm=${path(stranger)}`, '?confirm=nonsense!']) {
        const response = await erase(own, key.authorization, query).expect(400);
        expect(response.body.details).toEqual([
          { field: 'confirm', problem: 'must repeat the number to erase (?confirm=<the number>)' },
        ]);
      }
      expect((await traces(db, own)).messages).toBe(2);
    });

    it('answers 403 for another number, confirmed or not, and erases nothing', async () => {
      const key = await issuePhoneKey(testApp, [own]);

      await erase(stranger, key.authorization).expect(403);
      await erase(stranger, key.authorization, `?confirm=${path(stranger)}`).expect(403);

      expect((await traces(db, stranger)).messages).toBe(2);
    });

    it('erases its own number when it confirms it, in any format', async () => {
      const key = await issuePhoneKey(testApp, [own]);
      // The same number written nationally: +1 202 ... read in DEFAULT_COUNTRY (US).
      const national = own.replace(/^\+1(\d{3})(\d{3})(\d{4})$/, '($1) $2-$3');

      const response = await erase(own, key.authorization, `?confirm=${path(national)}`).expect(
        200,
      );

      expect(response.body.messagesErased).toBe(2);
      expect(await traces(db, own)).toEqual({ messages: 0, summaries: 0 });
      expect((await threadsOf(stranger)).map((t) => [t.counterpart, t.messageCount])).toEqual([
        [pseudonymOf(own), 2],
      ]);
    });
  });

  describe('cut short', () => {
    it('leaves a consistent state after each batch, and a new run completes it', async () => {
      const victim = randomPhone();
      const friends = [randomPhone(), randomPhone()];
      const events = Array.from({ length: 25 }, (_, index) =>
        index % 2 === 0
          ? buildSmsEvent({ senderPhone: victim, receiverPhone: friends[index % 4 === 0 ? 0 : 1] })
          : buildSmsEvent({ senderPhone: friends[index % 3 === 0 ? 0 : 1], receiverPhone: victim }),
      );
      await importMessages(events);
      const { rows } = await db.query<{ id: string }>(
        `INSERT INTO erasure_audit (action, actor, phone_hash) VALUES ('erase', 'admin', repeat('0', 64)) RETURNING id`,
      );

      // One batch of 10 committed, then the process "dies": nothing more runs.
      const batch = await testApp.app
        .get(ErasureRepository)
        .eraseBatch(victim, pseudonymOf(victim), 10, rows[0].id);

      expect(batch.messages).toBe(10);
      expect((await traces(db, victim)).messages).toBe(15);
      expect(await summaryDrift(db)).toEqual([]);
      // Each friend's messages are split between the two threads, none lost.
      for (const friend of friends) {
        const total = events.filter((e) => [e.senderPhone, e.receiverPhone].includes(friend));
        const threads = await threadsOf(friend);
        expect(threads.reduce((sum, t) => sum + t.messageCount, 0)).toBe(total.length);
      }
      const audit = await db.query('SELECT messages_changed FROM erasure_audit WHERE id = $1', [
        rows[0].id,
      ]);
      expect(audit.rows[0].messages_changed).toBe(10);

      const rerun = await erase(victim).expect(200);

      expect(rerun.body.messagesErased).toBe(15);
      expect(await traces(db, victim)).toEqual({ messages: 0, summaries: 0 });
      expect(await summaryDrift(db)).toEqual([]);
      for (const friend of friends) {
        const total = events.filter((e) => [e.senderPhone, e.receiverPhone].includes(friend));
        expect((await threadsOf(friend)).map((t) => [t.counterpart, t.messageCount])).toEqual([
          [pseudonymOf(victim), total.length],
        ]);
      }
    });
  });

  describe('racing new messages', () => {
    it('keeps counts exact; what arrives after the erasure is a new message, erased by the next run', async () => {
      const number = randomPhone();
      const friend = randomPhone();
      const base = Math.floor(Date.now() / 1000) - 10 * DAY;
      const backlog = Array.from({ length: 2500 }, (_, index) =>
        buildSmsEvent({
          senderPhone: index % 2 ? number : friend,
          receiverPhone: index % 2 ? friend : number,
          timestamp: base + index,
        }),
      );
      for (let start = 0; start < backlog.length; start += 1000) {
        await importMessages(backlog.slice(start, start + 1000));
      }
      const late = Array.from({ length: 60 }, (_, index) =>
        buildSmsEvent({
          senderPhone: index % 2 ? number : friend,
          receiverPhone: index % 2 ? friend : number,
          timestamp: base + 5000 + index,
        }),
      );

      // then() sends the request now, so that it runs while the messages below arrive.
      const erasing = erase(number)
        .expect(200)
        .then((response) => response);
      // Four senders at once, while the batches run.
      await Promise.all(
        [0, 1, 2, 3].map(async (lane) => {
          for (let index = lane; index < late.length; index += 4) await send(late[index]);
        }),
      );
      const first = await erasing;

      // Whatever is left with the number arrived after the run's last batch: new messages, kept.
      const left = await db.query<{ uuid: string }>(
        'SELECT uuid::text AS uuid FROM messages WHERE sender_phone = $1 OR receiver_phone = $1',
        [number],
      );
      const lateUuids = new Set(late.map((e) => e.uuid));
      expect(left.rows.every((row) => lateUuids.has(row.uuid))).toBe(true);
      expect(first.body.messagesErased + left.rows.length).toBe(2560);
      expect(await summaryDrift(db)).toEqual([]);
      // A message after the erasure is a new one: kept, with the number, in a new thread.
      const after = buildSmsEvent({ senderPhone: friend, receiverPhone: number });
      await send(after);
      expect((await threadsOf(number)).map((t) => [t.counterpart, t.messageCount])).toEqual([
        [friend, left.rows.length + 1],
      ]);

      const second = await erase(number).expect(200);

      expect(second.body.messagesErased).toBe(left.rows.length + 1);
      expect(await traces(db, number)).toEqual({ messages: 0, summaries: 0 });
      expect(await summaryDrift(db)).toEqual([]);
      expect((await threadsOf(friend)).map((t) => [t.counterpart, t.messageCount])).toEqual([
        [pseudonymOf(number), 2561],
      ]);
    });
  });

  describe('the audit', () => {
    it('records who erased which number (as its hash), when and how much, never a number or a text', async () => {
      const phone = randomPhone();
      const counterpart = randomPhone();
      const event = buildSmsEvent({ senderPhone: phone, receiverPhone: counterpart });
      await send(event);
      const key = await issuePhoneKey(testApp, [phone]);
      await erase(phone, key.authorization, `?confirm=${path(phone)}`).expect(200);

      const response = await http().get('/api/audit').set('Authorization', admin()).expect(200);

      const [newest] = response.body.records;
      expect(newest).toEqual({
        id: expect.any(String),
        action: 'erase',
        actor: 'key',
        keyId: key.id,
        phoneHash: testApp.app.get(PartyPseudonyms).hashOf(phone),
        messagesChanged: 1,
        summariesChanged: 2,
        startedAt: expect.any(Number),
        finishedAt: expect.any(Number),
      });
      expect(newest.phoneHash).toMatch(/^[0-9a-f]{64}$/);
      expect(Math.abs(newest.startedAt - Date.now() / 1000)).toBeLessThan(60);
      const body = JSON.stringify(response.body);
      for (const secret of [phone, phone.slice(1), counterpart, event.messageText]) {
        expect(body).not.toContain(secret);
      }
      // Earlier erasures of this file, admin ones among them.
      expect(response.body.records.some((r: { actor: string }) => r.actor === 'admin')).toBe(true);
    });

    it('pages newest first', async () => {
      const all = await http().get('/api/audit').set('Authorization', admin()).expect(200);
      const first = await http()
        .get('/api/audit?limit=2')
        .set('Authorization', admin())
        .expect(200);
      const second = await http()
        .get(`/api/audit?limit=2&before=${first.body.nextCursor}`)
        .set('Authorization', admin())
        .expect(200);

      expect(all.body.records.length).toBeGreaterThan(4);
      const ids = all.body.records.map((r: { id: string }) => r.id);
      expect([...first.body.records, ...second.body.records].map((r) => r.id)).toEqual(
        ids.slice(0, 4),
      );
      const times = all.body.records.map((r: { startedAt: number }) => r.startedAt);
      expect(times).toEqual([...times].sort((a, b) => b - a));
      await http().get('/api/audit?before=not-a-cursor').set('Authorization', admin()).expect(400);
    });

    it('is for the admin key only', async () => {
      const key = await issuePhoneKey(testApp, [randomPhone()]);
      await http().get('/api/audit').set('Authorization', key.authorization).expect(403);
      await http().get('/api/audit').expect(401);
    });
  });
});

describe('Retention (e2e)', () => {
  let first: TestApp;
  let second: TestApp;
  let db: Client;
  const now = Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    first = await startTestApp({ RETENTION_DAYS: '30' });
    // A second instance on the same database.
    second = await startTestApp({
      RETENTION_DAYS: '30',
      DATABASE_URL: first.databaseUrl,
      ADMIN_API_KEY: first.adminKey,
    });
    db = new Client({ connectionString: first.databaseUrl });
    await db.connect();
    // Their start-up runs, over an empty database.
    await first.app.get(RetentionService).idle();
    await second.app.get(RetentionService).idle();
  });

  afterAll(async () => {
    await db?.end();
    await second?.close();
    await first?.close();
  });

  const importMessages = (events: SmsEventBody[]) =>
    request(first.baseUrl)
      .post('/api/messages/import')
      .set('Authorization', `Bearer ${first.adminKey}`)
      .send({ events: events.map((event) => ({ type: 'sent', ...event })) })
      .expect(200);

  it('deletes messages older than RETENTION_DAYS and corrects the summaries', async () => {
    const me = randomPhone();
    const kept = randomPhone();
    const gone = randomPhone();
    const events = [
      buildSmsEvent({ senderPhone: me, receiverPhone: kept, timestamp: now - 40 * DAY }),
      buildSmsEvent({ senderPhone: kept, receiverPhone: me, timestamp: now - 35 * DAY }),
      buildSmsEvent({ senderPhone: me, receiverPhone: kept, timestamp: now - 31 * DAY }),
      buildSmsEvent({ senderPhone: kept, receiverPhone: me, timestamp: now - 2 * DAY }),
      buildSmsEvent({ senderPhone: me, receiverPhone: kept, timestamp: now - DAY }),
      buildSmsEvent({ senderPhone: me, receiverPhone: gone, timestamp: now - 60 * DAY }),
      buildSmsEvent({ senderPhone: gone, receiverPhone: me, timestamp: now - 50 * DAY }),
    ];
    await importMessages(events);

    const run = await first.app.get(RetentionService).run();

    expect(run).toEqual({ outcome: 'completed', messagesDeleted: 5, summariesDeleted: 2 });
    const threads = await request(first.baseUrl)
      .get(`/api/phones/${encodeURIComponent(me)}/conversations`)
      .set('Authorization', `Bearer ${first.adminKey}`)
      .expect(200);
    expect(threads.body.conversations).toEqual([
      expect.objectContaining({
        counterpart: kept,
        messageCount: 2,
        lastMessage: expect.objectContaining({ uuid: events[4].uuid }),
      }),
    ]);
    expect(await summaryDrift(db)).toEqual([]);
    const { rows } = await db.query(
      `SELECT messages_changed, summaries_changed, finished_at FROM erasure_audit
       WHERE action = 'retention' ORDER BY started_at DESC LIMIT 1`,
    );
    expect(rows[0]).toMatchObject({ messages_changed: 5, summaries_changed: 2 });
    expect(rows[0].finished_at).not.toBeNull();

    const metrics = await request(first.baseUrl).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/^sms_retention_runs_total\{outcome="completed"\} [1-9]/m);
    expect(metrics.text).toMatch(/^sms_retention_messages_deleted_total 5$/m);
  });

  it('runs on one instance at a time: the other skips while the lock is held', async () => {
    await importMessages([
      buildSmsEvent({
        senderPhone: randomPhone(),
        receiverPhone: randomPhone(),
        timestamp: now - 90 * DAY,
      }),
    ]);
    // The test's own session plays an instance in the middle of a run.
    await db.query('SELECT pg_advisory_lock($1)', [RETENTION_LOCK_KEY]);
    try {
      expect(await first.app.get(RetentionService).run()).toMatchObject({ outcome: 'skipped' });
      expect(await second.app.get(RetentionService).run()).toMatchObject({ outcome: 'skipped' });
    } finally {
      await db.query('SELECT pg_advisory_unlock($1)', [RETENTION_LOCK_KEY]);
    }
    const metrics = await request(second.baseUrl).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/^sms_retention_runs_total\{outcome="skipped"\} [1-9]/m);

    expect(await second.app.get(RetentionService).run()).toEqual({
      outcome: 'completed',
      messagesDeleted: 1,
      summariesDeleted: 2,
    });
  });

  it('two instances started together delete each message once', async () => {
    const parties = Array.from({ length: 6 }, () => randomPhone());
    const old = Array.from({ length: 3000 }, (_, index) =>
      buildSmsEvent({
        senderPhone: parties[index % 6],
        receiverPhone: parties[(index + 1) % 6],
        timestamp: now - 100 * DAY + index,
      }),
    );
    for (let start = 0; start < old.length; start += 1000) {
      await importMessages(old.slice(start, start + 1000));
    }

    const runs = await Promise.all([
      first.app.get(RetentionService).run(),
      second.app.get(RetentionService).run(),
    ]);

    expect(runs.reduce((sum, run) => sum + run.messagesDeleted, 0)).toBe(3000);
    expect(runs.every((run) => run.outcome !== 'failed')).toBe(true);
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM messages WHERE occurred_at < now() - interval '30 days'`,
    );
    expect(rows[0].n).toBe(0);
    expect(await summaryDrift(db)).toEqual([]);
    const summaries = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM conversations WHERE owner_phone = ANY($1)',
      [parties],
    );
    expect(summaries.rows[0].n).toBe(0);
  });
});
