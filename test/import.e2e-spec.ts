import { Client } from 'pg';
import request from 'supertest';
import { buildSmsEvent, randomPhone } from './factories/sms-event.factory.js';
import { startTestApp, type TestApp } from './setup/test-app.js';

/** Bulk import and message lookup, over HTTP on a real PostgreSQL. */
describe('Bulk import and message lookup (e2e)', () => {
  let testApp: TestApp;
  let db: Client;
  let admin: string;

  beforeAll(async () => {
    testApp = await startTestApp();
    admin = `Bearer ${testApp.adminKey}`;
    db = new Client({ connectionString: testApp.databaseUrl });
    await db.connect();
  });

  afterAll(async () => {
    await db.end();
    await testApp.close();
  });

  const api = () => request(testApp.baseUrl);
  const importEvents = (events: unknown[], authorization = admin) =>
    api().post('/api/messages/import').set('Authorization', authorization).send({ events });

  async function createPhoneKey(phones: string[]): Promise<string> {
    const response = await api()
      .post('/api/keys')
      .set('Authorization', admin)
      .send({ label: 'import test', phones })
      .expect(201);
    return `Bearer ${response.body.key}`;
  }

  it('gives every event its own outcome, in order, and stores exactly the good ones', async () => {
    const me = randomPhone();
    const stranger = randomPhone();
    const existing = buildSmsEvent({ senderPhone: me });
    const toMerge = buildSmsEvent({ senderPhone: me });
    const conflicting = buildSmsEvent({ senderPhone: me });
    await api().post('/api/send-sms').set('Authorization', admin).send(existing).expect(201);
    await api().post('/api/send-sms').set('Authorization', admin).send(toMerge).expect(201);
    await api().post('/api/send-sms').set('Authorization', admin).send(conflicting).expect(201);
    const fresh = buildSmsEvent({ senderPhone: me });
    const repeatedInBatch = buildSmsEvent({ senderPhone: me });
    const foreign = buildSmsEvent({ senderPhone: stranger });

    const key = await createPhoneKey([me]);
    const response = await importEvents(
      [
        { type: 'sent', ...fresh },
        { type: 'sent', ...existing },
        {
          type: 'received',
          ...toMerge,
          receiverPhone: toMerge.receiverPhone,
          timestamp: toMerge.timestamp + 1,
        },
        { type: 'sent', ...conflicting, messageText: 'changed' },
        { type: 'sent', ...buildSmsEvent({ senderPhone: me }), uuid: 'nope' },
        { type: 'sent', ...foreign },
        { type: 'sent', ...repeatedInBatch },
        { type: 'sent', ...repeatedInBatch },
        { type: 'later', ...buildSmsEvent({ senderPhone: me }) },
        'not an object',
      ],
      key,
    );
    // The receipt of toMerge is reported by its receiver, whom this key does not act for.
    expect(response.status).toBe(200);
    expect(response.body.results.map((result: { outcome: string }) => result.outcome)).toEqual([
      'created',
      'replayed',
      'forbidden',
      'conflict',
      'invalid',
      'forbidden',
      'created',
      'replayed',
      'invalid',
      'invalid',
    ]);
    expect(response.body.results[4].details).toContainEqual(
      expect.objectContaining({ field: 'uuid' }),
    );
    expect(response.body.results[3].details).toContainEqual(
      expect.objectContaining({ field: 'messageText' }),
    );
    expect(response.body.counts).toEqual({
      created: 2,
      replayed: 2,
      forbidden: 2,
      conflict: 1,
      invalid: 3,
    });

    const { rows } = await db.query(
      'SELECT uuid::text FROM messages WHERE uuid = ANY($1::uuid[])',
      [[fresh.uuid, repeatedInBatch.uuid, foreign.uuid]],
    );
    expect(rows.map((row) => row.uuid).sort()).toEqual([fresh.uuid, repeatedInBatch.uuid].sort());
  });

  it('merges the other side of a message with the admin key', async () => {
    const event = buildSmsEvent();
    await api().post('/api/send-sms').set('Authorization', admin).send(event).expect(201);
    const response = await importEvents([
      { type: 'received', ...event, timestamp: event.timestamp + 5 },
    ]).expect(200);
    expect(response.body.results[0]).toMatchObject({ outcome: 'merged', uuid: event.uuid });
    const lookup = await api()
      .get(`/api/messages/${event.uuid}`)
      .set('Authorization', admin)
      .expect(200);
    expect(lookup.body).toMatchObject({
      uuid: event.uuid,
      status: 'delivered',
      sentAt: event.timestamp,
      receivedAt: event.timestamp + 5,
      encoding: 'GSM-7',
      segments: 1,
    });
  });

  it('imports 1000 events of 1600 characters in one request (over 64 KB) and updates both threads', async () => {
    const me = randomPhone();
    const friends = [randomPhone(), randomPhone()];
    const events = Array.from({ length: 1000 }, (_, index) => ({
      type: index % 2 ? 'sent' : 'received',
      ...buildSmsEvent({
        senderPhone: index % 2 ? me : friends[index % 4 === 0 ? 0 : 1],
        receiverPhone: index % 2 ? friends[index % 4 === 1 ? 0 : 1] : me,
        messageText: 'é'.repeat(1600),
        timestamp: 1_700_000_000 + index,
      }),
    }));
    const response = await importEvents(events).expect(200);
    expect(response.body.counts).toEqual({ created: 1000 });
    const threads = await api()
      .get(`/api/phones/${encodeURIComponent(me)}/conversations`)
      .set('Authorization', admin)
      .expect(200);
    expect(
      threads.body.conversations.map((c: { messageCount: number }) => c.messageCount).sort(),
    ).toEqual([500, 500]);
  });

  it.each([
    [
      '1001 events',
      () => Array.from({ length: 1001 }, () => ({ type: 'sent', ...buildSmsEvent() })),
    ],
    ['no events', () => []],
  ])('refuses %s for the whole request', async (_, build) => {
    const events = build();
    const response = await importEvents(events);
    expect(response.status).toBe(400);
    expect(response.body.details[0].field).toBe('events');
  });

  it('keeps the 64 KB limit on the other routes', async () => {
    const response = await api()
      .post('/api/send-sms')
      .set('Authorization', admin)
      .send({ ...buildSmsEvent(), padding: 'x'.repeat(100_000) });
    expect(response.status).toBe(413);
  });

  it('answers an unknown uuid, and a message of other numbers, with 404', async () => {
    await api()
      .get('/api/messages/5f0c6f1e-8d2b-4c7e-9a51-3c1d2b8e7f40')
      .set('Authorization', admin)
      .expect(404);
    const event = buildSmsEvent({ senderPhone: randomPhone(), receiverPhone: randomPhone() });
    await api().post('/api/send-sms').set('Authorization', admin).send(event).expect(201);
    const outsider = await createPhoneKey([randomPhone()]);
    const hidden = await api().get(`/api/messages/${event.uuid}`).set('Authorization', outsider);
    expect(hidden.status).toBe(404);
    const party = await createPhoneKey([event.receiverPhone]);
    await api().get(`/api/messages/${event.uuid}`).set('Authorization', party).expect(200);
    await api().get('/api/messages/not-a-uuid').set('Authorization', admin).expect(400);
  });
});
