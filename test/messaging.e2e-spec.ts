import { Client } from 'pg';
import request from 'supertest';
import { buildSmsEvent, randomPhone } from './factories/sms-event.factory.js';
import { startTestApp, type TestApp } from './setup/test-app.js';

/** The seed contract and the message model, over HTTP, on a real PostgreSQL. */
describe('Messaging (e2e)', () => {
  let testApp: TestApp;
  let db: Client;
  /** Every request carries the admin key; authorization has its own suite (security.e2e-spec.ts). */
  const authorization = () => ({ Authorization: `Bearer ${testApp.adminKey}` });
  const api = () => request.agent(testApp.baseUrl).set(authorization());

  beforeAll(async () => {
    testApp = await startTestApp();
    db = new Client({ connectionString: testApp.databaseUrl });
    await db.connect();
  });

  afterAll(async () => {
    await db.end();
    await testApp.close();
  });

  const countRows = async (uuid: string) =>
    Number((await db.query('SELECT count(*) FROM messages WHERE uuid = $1', [uuid])).rows[0].count);
  const storedRow = async (uuid: string) =>
    (await db.query('SELECT * FROM messages WHERE uuid = $1', [uuid])).rows[0];

  describe('the contract, byte for byte', () => {
    it('send-sms answers 201 {"message": "SMS sent successfully"}', async () => {
      const response = await fetch(`${testApp.baseUrl}/api/send-sms`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...authorization() },
        body: JSON.stringify(buildSmsEvent()),
      });
      expect(response.status).toBe(201);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await response.text()).toBe('{"message":"SMS sent successfully"}');
    });

    it('receive-sms answers 201 {"message": "SMS received successfully"}', async () => {
      const response = await api().post('/api/receive-sms').send(buildSmsEvent()).expect(201);
      expect(response.text).toBe('{"message":"SMS received successfully"}');
    });

    it('get-conversation answers every message of the number, oldest first, seen from it', async () => {
      const me = randomPhone();
      const friend = randomPhone();
      const other = randomPhone();
      const first = buildSmsEvent({
        senderPhone: me,
        receiverPhone: friend,
        timestamp: 1_700_000_100,
        messageText: 'hi',
      });
      const second = buildSmsEvent({
        senderPhone: friend,
        receiverPhone: me,
        timestamp: 1_700_000_200,
        messageText: 'hey 👋',
      });
      const third = buildSmsEvent({
        senderPhone: other,
        receiverPhone: me,
        timestamp: 1_700_000_300,
        messageText: 'yo',
      });
      await api().post('/api/send-sms').send(third).expect(201);
      await api().post('/api/receive-sms').send(second).expect(201);
      await api().post('/api/send-sms').send(first).expect(201);

      const response = await fetch(
        `${testApp.baseUrl}/api/get-conversation/${encodeURIComponent(me)}`,
        { headers: authorization() },
      );
      expect(response.status).toBe(200);
      expect(await response.text()).toBe(
        JSON.stringify({
          messages: [
            {
              phone_number: friend,
              message_text: 'hi',
              timestamp: 1_700_000_100,
              direction: 'sent',
            },
            {
              phone_number: friend,
              message_text: 'hey 👋',
              timestamp: 1_700_000_200,
              direction: 'received',
            },
            {
              phone_number: other,
              message_text: 'yo',
              timestamp: 1_700_000_300,
              direction: 'received',
            },
          ],
        }),
      );
    });

    it('answers an unknown number with 200 and an empty list', async () => {
      const response = await api()
        .get(`/api/get-conversation/${encodeURIComponent(randomPhone())}`)
        .expect(200);
      expect(response.text).toBe('{"messages":[]}');
    });

    it('breaks timestamp ties stably and bounds the answer by limit (newest, still oldest first)', async () => {
      const me = randomPhone();
      const events = Array.from({ length: 6 }, (_, index) =>
        buildSmsEvent({
          senderPhone: me,
          receiverPhone: randomPhone(),
          timestamp: 1_700_000_000 + (index < 3 ? 0 : index),
          messageText: `m${index}`,
        }),
      );
      for (const event of events) await api().post('/api/send-sms').send(event).expect(201);

      const all = (
        await api()
          .get(`/api/get-conversation/${encodeURIComponent(me)}`)
          .expect(200)
      ).body.messages;
      const again = (
        await api()
          .get(`/api/get-conversation/${encodeURIComponent(me)}`)
          .expect(200)
      ).body.messages;
      expect(all).toEqual(again);
      expect(all.map((m: { timestamp: number }) => m.timestamp)).toEqual(
        [...all.map((m: { timestamp: number }) => m.timestamp)].sort(),
      );
      // Same-second messages come in uuid order.
      const tied = events
        .slice(0, 3)
        .sort((a, b) => (a.uuid < b.uuid ? -1 : 1))
        .map((e) => e.messageText);
      expect(all.slice(0, 3).map((m: { message_text: string }) => m.message_text)).toEqual(tied);

      const limited = await api()
        .get(`/api/get-conversation/${encodeURIComponent(me)}?limit=2`)
        .expect(200);
      expect(limited.body.messages.map((m: { message_text: string }) => m.message_text)).toEqual([
        'm4',
        'm5',
      ]);
    });
  });

  describe('phone numbers', () => {
    it('stores E.164 whatever the format, and finds the conversation by any format', async () => {
      const event = buildSmsEvent({
        senderPhone: '+1 (202) 555-0143',
        receiverPhone: '202.555.0199',
      });
      await api().post('/api/send-sms').send(event).expect(201);
      const row = await storedRow(event.uuid);
      expect(row.sender_phone).toBe('+12025550143');
      expect(row.receiver_phone).toBe('+12025550199');

      for (const format of ['12025550199', '+12025550199', '(202) 555-0199']) {
        const response = await api()
          .get(`/api/get-conversation/${encodeURIComponent(format)}`)
          .expect(200);
        expect(response.body.messages).toContainEqual(
          expect.objectContaining({
            phone_number: '+12025550143',
            message_text: event.messageText,
            direction: 'received',
          }),
        );
      }
    });

    it('keeps an alphanumeric sender ID (upper-cased) and a short code as given on receive-sms', async () => {
      const me = randomPhone();
      const fromBank = buildSmsEvent({
        senderPhone: 'AcmeBank',
        receiverPhone: me,
        timestamp: 1_700_000_001,
      });
      const fromShortCode = buildSmsEvent({
        senderPhone: '72345',
        receiverPhone: me,
        timestamp: 1_700_000_002,
      });
      await api().post('/api/receive-sms').send(fromBank).expect(201);
      await api().post('/api/receive-sms').send(fromShortCode).expect(201);
      const response = await api()
        .get(`/api/get-conversation/${encodeURIComponent(me)}`)
        .expect(200);
      expect(response.body.messages.map((m: { phone_number: string }) => m.phone_number)).toEqual([
        'ACMEBANK',
        '72345',
      ]);
    });

    it.each([
      ['send-sms', { senderPhone: 'ACMEBANK' }, 'senderPhone'],
      ['send-sms', { senderPhone: 'not a number' }, 'senderPhone'],
      ['receive-sms', { receiverPhone: '72345' }, 'receiverPhone'],
      ['send-sms', { receiverPhone: '+1 202 555' }, 'receiverPhone'],
    ])('%s rejects %o with 400 and stores nothing', async (path, override, field) => {
      const event = buildSmsEvent(override);
      const response = await api().post(`/api/${path}`).send(event).expect(400);
      expect(response.body.details).toContainEqual(expect.objectContaining({ field }));
      expect(await countRows(event.uuid)).toBe(0);
    });
  });

  describe('the message model', () => {
    it('stores encoding and segments', async () => {
      const gsm = buildSmsEvent({ messageText: 'a'.repeat(161) });
      const ucs = buildSmsEvent({ messageText: 'Привет 👋' });
      await api().post('/api/send-sms').send(gsm).expect(201);
      await api().post('/api/send-sms').send(ucs).expect(201);
      expect(await storedRow(gsm.uuid)).toMatchObject({ encoding: 'GSM-7', segments: 2 });
      expect(await storedRow(ucs.uuid)).toMatchObject({ encoding: 'UCS-2', segments: 1 });
    });

    it('stores the text exactly as given', async () => {
      const text = '  zero\u200bwidth, "quotes", \\backslash\\, tab\t, newline\n, 𝄞, é (e\u0301)  ';
      const event = buildSmsEvent({ messageText: text });
      await api().post('/api/send-sms').send(event).expect(201);
      expect((await storedRow(event.uuid)).text).toBe(text);
    });

    it('merges the send and the receipt of one message into a delivered row', async () => {
      const event = buildSmsEvent();
      await api().post('/api/send-sms').send(event).expect(201);
      expect(await storedRow(event.uuid)).toMatchObject({ received_at: null });
      await api()
        .post('/api/receive-sms')
        .send({ ...event, timestamp: event.timestamp + 3 })
        .expect(201);
      const row = await storedRow(event.uuid);
      expect(row.sent_at.getTime() / 1000).toBe(event.timestamp);
      expect(row.received_at.getTime() / 1000).toBe(event.timestamp + 3);
      expect(await countRows(event.uuid)).toBe(1);
    });

    it('records a receipt first and the send later', async () => {
      const event = buildSmsEvent();
      await api().post('/api/receive-sms').send(event).expect(201);
      expect((await storedRow(event.uuid)).sent_at).toBeNull();
      await api().post('/api/send-sms').send(event).expect(201);
      expect((await storedRow(event.uuid)).sent_at).not.toBeNull();
    });
  });

  describe('idempotency', () => {
    it('answers a replayed event with 200 and changes nothing', async () => {
      const event = buildSmsEvent();
      await api().post('/api/send-sms').send(event).expect(201);
      const before = await storedRow(event.uuid);
      const replay = await api().post('/api/send-sms').send(event).expect(200);
      expect(replay.text).toBe('{"message":"SMS sent successfully"}');
      expect(await storedRow(event.uuid)).toEqual(before);
    });

    it('treats a differently formatted but equal number as the same event', async () => {
      const event = buildSmsEvent({ senderPhone: '+12025550143' });
      await api().post('/api/send-sms').send(event).expect(201);
      await api()
        .post('/api/send-sms')
        .send({ ...event, senderPhone: '(202) 555-0143' })
        .expect(200);
    });

    it.each([
      ['another text', { messageText: 'something else' }, 'messageText'],
      ['another sender', { senderPhone: '+12025550111' }, 'senderPhone'],
      ['another receiver', { receiverPhone: '+12025550111' }, 'receiverPhone'],
      ['another timestamp for the same event', { timestamp: 1_700_000_000 }, 'timestamp'],
    ])('answers the same uuid with %s with 409 and changes nothing', async (_, change, field) => {
      const event = buildSmsEvent();
      await api().post('/api/send-sms').send(event).expect(201);
      const before = await storedRow(event.uuid);
      const response = await api()
        .post('/api/send-sms')
        .send({ ...event, ...change })
        .expect(409);
      expect(response.body).toMatchObject({ statusCode: 409, error: 'Conflict' });
      expect(response.body.details).toContainEqual(expect.objectContaining({ field }));
      expect(await storedRow(event.uuid)).toEqual(before);
    });

    it('refuses a receipt whose content differs from the stored send', async () => {
      const event = buildSmsEvent();
      await api().post('/api/send-sms').send(event).expect(201);
      await api()
        .post('/api/receive-sms')
        .send({ ...event, messageText: 'tampered' })
        .expect(409);
      expect((await storedRow(event.uuid)).received_at).toBeNull();
    });

    it('stores exactly one row for 50 concurrent identical requests, none 5xx', async () => {
      const event = buildSmsEvent();
      const statuses = await Promise.all(
        Array.from({ length: 50 }, () =>
          fetch(`${testApp.baseUrl}/api/send-sms`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', ...authorization() },
            body: JSON.stringify(event),
          }).then((response) => response.status),
        ),
      );
      expect(statuses.filter((status) => status === 201)).toHaveLength(1);
      expect(statuses.filter((status) => status === 200)).toHaveLength(49);
      expect(await countRows(event.uuid)).toBe(1);
    });

    it('never fails concurrent first messages of new numbers', async () => {
      const events = Array.from({ length: 40 }, () =>
        buildSmsEvent({ senderPhone: randomPhone(), receiverPhone: randomPhone() }),
      );
      const statuses = await Promise.all(
        events.map((event, index) =>
          fetch(`${testApp.baseUrl}/api/${index % 2 ? 'send-sms' : 'receive-sms'}`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', ...authorization() },
            body: JSON.stringify(event),
          }).then((response) => response.status),
        ),
      );
      expect(statuses).toEqual(events.map(() => 201));
    });
  });

  describe('bad input', () => {
    it.each([
      ['an SQL fragment', "'; DROP TABLE messages;--"],
      ['a path traversal', '../../etc/passwd'],
      ['5000 characters', '1'.repeat(5000)],
      ['a NUL byte', '+1202555\u00000143'],
      ['a percent-encoded garbage', '%E0%A4%A'],
    ])('answers a conversation path with %s with a 4xx JSON error', async (_, hostile) => {
      const path = hostile.startsWith('%') ? hostile : encodeURIComponent(hostile);
      const response = await fetch(`${testApp.baseUrl}/api/get-conversation/${path}`, {
        headers: authorization(),
      });
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      const body = await response.json();
      expect(body).toMatchObject({ statusCode: response.status });
      expect(typeof body.message).toBe('string');
      expect((await db.query('SELECT to_regclass($1) AS t', ['messages'])).rows[0].t).toBe(
        'messages',
      );
    });

    it('rejects a bad event without a partial write', async () => {
      const event = buildSmsEvent({ receiverPhone: 'garbage!' });
      await api().post('/api/send-sms').send(event).expect(400);
      expect(await countRows(event.uuid)).toBe(0);
    });
  });
});
