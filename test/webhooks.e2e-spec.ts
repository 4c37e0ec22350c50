import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import request from 'supertest';
import { issuePhoneKey } from './factories/api-key.factory.js';
import { buildSmsEvent, randomPhone } from './factories/sms-event.factory.js';
import { startTestApp, type TestApp } from './setup/test-app.js';
import {
  type ReceivedWebhook,
  startWebhookReceiver,
  type WebhookReceiver,
} from './support/webhook-receiver.js';

interface CreatedWebhook {
  id: string;
  secret: string;
  url: string;
  events: string[];
  phones: string[] | null;
  enabled: boolean;
  disabledReason: string | null;
  failingSince: string | null;
}

interface EventBody {
  id: string;
  type: string;
  timestamp: string;
  data: {
    phone: string;
    message: {
      uuid: string;
      senderPhone: string;
      receiverPhone: string;
      text: string;
      direction: string;
      status: string;
      sentAt: number | null;
      receivedAt: number | null;
    };
  };
}

const ALL_EVENTS = ['message.created', 'message.updated', 'message.erased'];

/** Polls until `done` holds; the dispatcher works in the background. */
async function eventually<T>(read: () => Promise<T> | T, done: (value: T) => boolean, ms = 20_000) {
  const deadline = Date.now() + ms;
  let value = await read();
  while (!done(value)) {
    if (Date.now() > deadline) throw new Error(`timed out; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
    value = await read();
  }
  return value;
}

/** Verifies a delivery with the Standard Webhooks library itself, and returns its event. */
function verified(secret: string, delivery: ReceivedWebhook): EventBody {
  return new StandardWebhook(secret).verify(delivery.body, {
    'webhook-id': String(delivery.headers['webhook-id']),
    'webhook-timestamp': String(delivery.headers['webhook-timestamp']),
    'webhook-signature': String(delivery.headers['webhook-signature']),
  }) as EventBody;
}

/** The events of the receiver's accepted deliveries, each verified. */
function acceptedEvents(receiver: WebhookReceiver, secret: string): EventBody[] {
  return receiver.accepted().map((delivery) => verified(secret, delivery));
}

/**
 * Webhooks to the users' own systems, over HTTP, on a real PostgreSQL, to a
 * real local receiver that fails, times out and recovers, on both platforms.
 * Deliveries go to 127.0.0.1, so these apps run with WEBHOOK_ALLOW_PRIVATE;
 * the SSRF rules are tested by an app without it.
 */
describe.each(['express', 'fastify'])('Webhooks on %s (e2e)', (platform) => {
  let app: TestApp;
  let db: Client;
  let receiver: WebhookReceiver;
  const admin = () => `Bearer ${app.adminKey}`;
  const http = () => request(app.baseUrl);

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    app = await startTestApp({
      HTTP_ADAPTER: platform,
      WEBHOOK_WORKER: 'true',
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_TIMEOUT_MS: '700',
      WEBHOOK_RETRY_BASE_MS: '40',
      WEBHOOK_POLL_MS: '50',
    });
    db = new Client({ connectionString: app.databaseUrl });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await app?.close();
    await receiver?.close();
  });

  beforeEach(async () => {
    // One webhook at a time: each test's events go to its own. Deleted through the API,
    // which also stops what the dispatcher claimed for them.
    const { rows } = await db.query<{ id: string }>('SELECT id FROM webhooks');
    for (const { id } of rows) {
      await http().delete(`/api/webhooks/${id}`).set('Authorization', admin()).expect(204);
    }
    receiver.received.length = 0;
    receiver.script.length = 0;
    receiver.mode = 'accept';
  });

  const create = async (
    body: Record<string, unknown>,
    authorization = admin(),
  ): Promise<CreatedWebhook> => {
    const response = await http()
      .post('/api/webhooks')
      .set('Authorization', authorization)
      .send({ url: receiver.url, events: ALL_EVENTS, ...body });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body as CreatedWebhook;
  };
  const sendSms = (event: ReturnType<typeof buildSmsEvent>) =>
    http().post('/api/send-sms').set('Authorization', admin()).send(event).expect(201);
  const receiveSms = (event: ReturnType<typeof buildSmsEvent>) =>
    http().post('/api/receive-sms').set('Authorization', admin()).send(event).expect(201);
  const deliveries = async (id: string) =>
    (await http().get(`/api/webhooks/${id}/deliveries`).set('Authorization', admin()).expect(200))
      .body.deliveries as Array<{
      id: string;
      eventId: string;
      type: string;
      statusCode: number | null;
      latencyMs: number;
      error: string | null;
      accepted: boolean;
    }>;
  const webhookOf = async (id: string) => {
    const list = await http().get('/api/webhooks').set('Authorization', admin()).expect(200);
    return (list.body.webhooks as CreatedWebhook[]).find((webhook) => webhook.id === id);
  };

  describe('the endpoints', () => {
    it('creates a webhook, shows its secret once, and keeps it sealed', async () => {
      const webhook = await create({ events: ['message.created'] });
      expect(webhook).toMatchObject({
        url: receiver.url,
        events: ['message.created'],
        phones: null,
        enabled: true,
        disabledReason: null,
      });
      expect(webhook.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      const list = await http().get('/api/webhooks').set('Authorization', admin()).expect(200);
      expect(list.body.webhooks).toEqual([expect.objectContaining({ id: webhook.id })]);
      expect(JSON.stringify(list.body)).not.toContain(webhook.secret.slice(6));
      const { rows } = await db.query('SELECT * FROM webhooks WHERE id = $1', [webhook.id]);
      expect(Buffer.from(rows[0].secret_sealed).toString('latin1')).not.toContain(
        webhook.secret.slice(6, 20),
      );
    });

    it.each([
      [{ url: 'not a url' }, 'url'],
      [{ url: 'ftp://example.com/x' }, 'url'],
      [{ url: `http://user:pass@127.0.0.1:${1}/x` }, 'url'],
      [{ url: `https://example.com/${'x'.repeat(3000)}` }, 'url'],
      [{ events: [] }, 'events'],
      [{ events: ['message.deleted'] }, 'events'],
      [{ events: ['message.created', 'message.created'] }, 'events'],
      [{ phones: ['not a phone'] }, 'phones[0]'],
      [{ phones: [] }, 'phones'],
      [{ url: 42 }, 'url'],
    ])(
      'refuses a bad field with a 400 naming it (%#: %s), and stores nothing',
      async (body, field) => {
        const response = await http()
          .post('/api/webhooks')
          .set('Authorization', admin())
          .send({ url: receiver.url, events: ALL_EVENTS, ...body });
        expect(response.status, JSON.stringify(response.body)).toBe(400);
        expect(JSON.stringify(response.body.details ?? response.body.message)).toContain(field);
        expect((await db.query('SELECT count(*)::int AS n FROM webhooks')).rows[0].n).toBe(0);
      },
    );

    it('lets a phone key manage webhooks for its own numbers only', async () => {
      const own = randomPhone();
      const key = await issuePhoneKey(app, [own]);
      const defaulted = await create({}, key.authorization);
      expect(defaulted.phones).toEqual([own]);
      const foreign = await http()
        .post('/api/webhooks')
        .set('Authorization', key.authorization)
        .send({ url: receiver.url, events: ALL_EVENTS, phones: [own, randomPhone()] });
      expect(foreign.status).toBe(403);
      const everyNumber = await create({ events: ['message.created'] });
      const list = await http().get('/api/webhooks').set('Authorization', key.authorization);
      expect(list.body.webhooks.map((webhook: CreatedWebhook) => webhook.id)).toEqual([
        defaulted.id,
      ]);
      for (const path of [
        `/api/webhooks/${everyNumber.id}/deliveries`,
        `/api/webhooks/${everyNumber.id}/deliveries/1/redeliver`,
      ]) {
        const method = path.endsWith('redeliver') ? 'post' : 'get';
        await http()[method](path).set('Authorization', key.authorization).expect(404);
      }
      await http()
        .delete(`/api/webhooks/${everyNumber.id}`)
        .set('Authorization', key.authorization)
        .expect(404);
      await http()
        .delete(`/api/webhooks/${defaulted.id}`)
        .set('Authorization', key.authorization)
        .expect(204);
      expect(await webhookOf(defaulted.id)).toBeUndefined();
    });

    it('limits a phone key to 25 webhooks', async () => {
      const key = await issuePhoneKey(app, [randomPhone()]);
      for (let index = 0; index < 25; index += 1) await create({}, key.authorization);
      const refused = await http()
        .post('/api/webhooks')
        .set('Authorization', key.authorization)
        .send({ url: receiver.url, events: ALL_EVENTS });
      expect(refused.status).toBe(409);
      expect(refused.body.message).toContain('at most 25 webhooks');
      // The admin key has no limit.
      await create({});
    });

    it('answers malformed ids with 400 and unknown ones with 404', async () => {
      await http().delete('/api/webhooks/nope').set('Authorization', admin()).expect(400);
      await http()
        .get('/api/webhooks/00000000-0000-4000-8000-000000000000/deliveries')
        .set('Authorization', admin())
        .expect(404);
      const webhook = await create({});
      for (const deliveryId of ['0', 'x', '99999999999999999999', '-1']) {
        await http()
          .post(`/api/webhooks/${webhook.id}/deliveries/${deliveryId}/redeliver`)
          .set('Authorization', admin())
          .expect(400);
      }
      await http()
        .post(`/api/webhooks/${webhook.id}/deliveries/123456/redeliver`)
        .set('Authorization', admin())
        .expect(404);
    });
  });

  describe('delivery', () => {
    it('delivers message.created and message.updated, signed by the Standard Webhooks spec', async () => {
      const sender = randomPhone();
      const webhook = await create({ phones: [sender] });
      const event = buildSmsEvent({ senderPhone: sender, receiverPhone: randomPhone() });
      await sendSms(event);
      await receiveSms(event);
      await eventually(
        () => receiver.accepted().length,
        (count) => count >= 2,
      );
      const [created, updated] = acceptedEvents(receiver, webhook.secret);
      expect(created).toMatchObject({
        type: 'message.created',
        data: {
          phone: sender,
          message: {
            uuid: event.uuid,
            senderPhone: sender,
            receiverPhone: event.receiverPhone,
            text: event.messageText,
            direction: 'sent',
            status: 'sent',
            sentAt: event.timestamp,
            receivedAt: null,
          },
        },
      });
      expect(updated).toMatchObject({
        type: 'message.updated',
        data: { message: { uuid: event.uuid, status: 'delivered', receivedAt: event.timestamp } },
      });
      expect(new Date(created.timestamp).getTime()).toBeLessThanOrEqual(
        new Date(updated.timestamp).getTime(),
      );
      expect(created.id).not.toBe(updated.id);
      expect(receiver.accepted()[0].headers['webhook-id']).toBe(created.id);
      // A tampered body fails the library's verification: the check above can fail.
      expect(() =>
        verified(webhook.secret, {
          ...receiver.accepted()[0],
          body: `${receiver.accepted()[0].body} `,
        }),
      ).toThrow();
      // The worker records an attempt once the receiver's answer is back, so
      // the receiver can hold the second event before the log holds its attempt.
      const attempts = await eventually(
        () => deliveries(webhook.id),
        (logged) => logged.length >= 2,
      );
      expect(attempts).toHaveLength(2);
      expect(attempts[0]).toMatchObject({ accepted: true, statusCode: 200, error: null });
    });

    it('hears only of its numbers, from their side, and only the events it asked for', async () => {
      const owner = randomPhone();
      const webhook = await create({ phones: [owner], events: ['message.created'] });
      const other = buildSmsEvent({ senderPhone: randomPhone(), receiverPhone: randomPhone() });
      const incoming = buildSmsEvent({ senderPhone: randomPhone(), receiverPhone: owner });
      await sendSms(other);
      await sendSms(incoming);
      await receiveSms(incoming);
      await eventually(
        () => receiver.accepted().length,
        (count) => count >= 1,
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      const events = acceptedEvents(receiver, webhook.secret);
      expect(events.map((event) => [event.type, event.data.message.uuid])).toEqual([
        ['message.created', incoming.uuid],
      ]);
      expect(events[0].data).toMatchObject({ phone: owner, message: { direction: 'received' } });
    });

    it('delivers every event, in order per message, through a receiver that fails, times out and recovers', async () => {
      const sender = randomPhone();
      const webhook = await create({ phones: [sender] });
      receiver.script = ['fail', 'hang', 'fail', 'hang', 'fail', 'fail'];
      const events = Array.from({ length: 6 }, () =>
        buildSmsEvent({ senderPhone: sender, receiverPhone: randomPhone() }),
      );
      for (const event of events) await sendSms(event);
      for (const event of events) await receiveSms(event);
      await eventually(
        () => new Set(receiver.accepted().map((item) => item.headers['webhook-id'])).size,
        (count) => count >= 12,
        30_000,
      );
      const delivered = acceptedEvents(receiver, webhook.secret);
      for (const event of events) {
        const ofMessage = delivered.filter((item) => item.data.message.uuid === event.uuid);
        // At least once: a retried event comes with its id again; first arrivals keep the order.
        const firstArrivals = ofMessage.filter(
          (item, index) => ofMessage.findIndex((other) => other.id === item.id) === index,
        );
        expect(firstArrivals.map((item) => item.type)).toEqual([
          'message.created',
          'message.updated',
        ]);
      }
      const attempts = await deliveries(webhook.id);
      expect(attempts.filter((attempt) => attempt.statusCode === 500).length).toBeGreaterThan(0);
      const timedOut = attempts.filter((attempt) => attempt.error?.includes('no answer within'));
      expect(timedOut.length).toBeGreaterThan(0);
      expect(timedOut[0].latencyMs).toBeGreaterThanOrEqual(600);
      expect(attempts.find((attempt) => attempt.statusCode === 500)?.error).toContain(
        'receiver broke',
      );
      expect((await webhookOf(webhook.id))?.failingSince).toBeNull();
      const metrics = await http().get('/metrics').expect(200);
      const accepted = /^sms_webhook_attempts_total\{outcome="accepted"\} (\d+)$/m.exec(
        metrics.text,
      );
      expect(Number(accepted?.[1])).toBeGreaterThanOrEqual(12);
      expect(metrics.text).toMatch(/^sms_webhook_attempts_total\{outcome="retried"\} [1-9]/m);
      // The last answers are stored just after they arrive.
      await eventually(
        async () => (await http().get('/metrics')).text,
        (text) => /^sms_webhook_queue_depth 0$/m.test(text),
      );
    });

    it('never slows the API: sends stay fast while the receiver holds every attempt', async () => {
      await create({});
      receiver.mode = 'hang';
      const started = Date.now();
      for (let index = 0; index < 60; index += 1) await sendSms(buildSmsEvent());
      // Each attempt waits 700 ms for the receiver: in the request path, 60 sends would take 42 s.
      expect(Date.now() - started).toBeLessThan(10_000);
      await eventually(
        () => receiver.received.length,
        (count) => count > 0,
      );
    });

    it('stops posting what it had claimed once the webhook is deleted', async () => {
      const webhook = await create({ events: ['message.created'] });
      receiver.mode = 'hang';
      // One import writes the 100 messages at once: sent one by one on a slow machine, the
      // sends outlast the first attempts' 700 ms timeout and their retries add up before the
      // deletion.
      await http()
        .post('/api/messages/import')
        .set('Authorization', admin())
        .send({ events: Array.from({ length: 100 }, () => ({ type: 'sent', ...buildSmsEvent() })) })
        .expect(200);
      // Every slot of the webhook is taken (16); the rest of what was claimed waits.
      await eventually(
        () => receiver.received.length,
        (count) => count >= 16,
      );
      await http().delete(`/api/webhooks/${webhook.id}`).set('Authorization', admin()).expect(204);
      const atDeletion = receiver.received.length;
      receiver.mode = 'accept';
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      // At most the attempts already on their way arrive after the deletion.
      expect(receiver.received.length - atDeletion).toBeLessThanOrEqual(16);
      expect(receiver.received.length).toBeLessThan(60);
    });

    it('disables the webhook on 410 Gone, and says why', async () => {
      const sender = randomPhone();
      const webhook = await create({ phones: [sender] });
      receiver.mode = 'gone';
      await sendSms(buildSmsEvent({ senderPhone: sender }));
      const disabled = await eventually(
        () => webhookOf(webhook.id),
        (found) => found?.enabled === false,
      );
      expect(disabled?.disabledReason).toContain('410');
      const metrics = await http().get('/metrics').expect(200);
      expect(metrics.text).toMatch(/^sms_webhooks_disabled_total [1-9]/m);
      receiver.mode = 'accept';
      const before = receiver.received.length;
      await sendSms(buildSmsEvent({ senderPhone: sender }));
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(receiver.received.length).toBe(before);
    });

    it('disables a webhook that has failed for 3 days, with the last error', async () => {
      const sender = randomPhone();
      const webhook = await create({ phones: [sender] });
      receiver.mode = 'fail';
      await sendSms(buildSmsEvent({ senderPhone: sender }));
      await eventually(
        () => webhookOf(webhook.id),
        (found) => found?.failingSince != null,
      );
      // Three days pass, still failing.
      await db.query(
        `UPDATE webhooks SET failing_since = now() - interval '73 hours' WHERE id = $1`,
        [webhook.id],
      );
      const disabled = await eventually(
        () => webhookOf(webhook.id),
        (found) => found?.enabled === false,
      );
      expect(disabled?.disabledReason).toMatch(/^Every attempt failed since .*HTTP 500/);
    });

    it('gives an event up after 24 hours of retries, and goes on with the next', async () => {
      const sender = randomPhone();
      const webhook = await create({ phones: [sender] });
      receiver.mode = 'fail';
      const first = buildSmsEvent({ senderPhone: sender });
      await sendSms(first);
      await eventually(
        () => receiver.received.length,
        (count) => count > 0,
      );
      // A day passes.
      await db.query(`UPDATE webhook_events SET queued_at = now() - interval '25 hours'`);
      await eventually(
        async () =>
          (await db.query(`SELECT state FROM webhook_events WHERE message_uuid = $1`, [first.uuid]))
            .rows[0]?.state,
        (state) => state === 'failed',
      );
      receiver.mode = 'accept';
      const second = buildSmsEvent({ senderPhone: sender });
      await sendSms(second);
      await eventually(
        () => acceptedEvents(receiver, webhook.secret).map((event) => event.data.message.uuid),
        (uuids) => uuids.includes(second.uuid),
      );
    });

    it('redelivers a delivered event with the same id', async () => {
      const sender = randomPhone();
      const webhook = await create({ phones: [sender], events: ['message.created'] });
      await sendSms(buildSmsEvent({ senderPhone: sender }));
      await eventually(
        () => receiver.accepted().length,
        (count) => count === 1,
      );
      const [attempt] = await eventually(
        () => deliveries(webhook.id),
        (found) => found.length === 1,
      );
      const redelivery = await http()
        .post(`/api/webhooks/${webhook.id}/deliveries/${attempt.id}/redeliver`)
        .set('Authorization', admin())
        .expect(202);
      expect(redelivery.body).toEqual({ eventId: attempt.eventId, state: 'pending' });
      await eventually(
        () => receiver.accepted().length,
        (count) => count === 2,
      );
      const [once, again] = acceptedEvents(receiver, webhook.secret);
      expect(again.id).toBe(once.id);
      expect(again.data).toEqual(once.data);
      // Once the event is no longer kept, there is nothing to deliver again.
      await db.query('DELETE FROM webhook_events WHERE webhook_id = $1', [webhook.id]);
      await http()
        .post(`/api/webhooks/${webhook.id}/deliveries/${attempt.id}/redeliver`)
        .set('Authorization', admin())
        .expect(410);
    });

    it('tells the number’s webhooks of its erasure, without its text or number', async () => {
      const owner = randomPhone();
      const webhook = await create({ phones: [owner], events: ['message.erased'] });
      const event = buildSmsEvent({ senderPhone: owner, receiverPhone: randomPhone() });
      await sendSms(event);
      await http()
        .delete(`/api/phones/${encodeURIComponent(owner)}/messages`)
        .set('Authorization', admin())
        .expect(200);
      await eventually(
        () => receiver.accepted().length,
        (count) => count >= 1,
      );
      const [erased] = acceptedEvents(receiver, webhook.secret);
      expect(erased).toMatchObject({
        type: 'message.erased',
        data: {
          message: { uuid: event.uuid, text: '(erased)', receiverPhone: event.receiverPhone },
        },
      });
      expect(erased.data.message.senderPhone).toMatch(/^ERASED/);
      expect(JSON.stringify(erased)).not.toContain(owner);
      expect(JSON.stringify(erased)).not.toContain(event.messageText);
    });

    it('keeps no trace of an erased number in events queued before the erasure', async () => {
      const owner = randomPhone();
      const webhook = await create({ phones: [owner], events: ['message.created'] });
      receiver.mode = 'fail';
      const event = buildSmsEvent({ senderPhone: owner, receiverPhone: randomPhone() });
      await sendSms(event);
      await eventually(
        () => receiver.received.length,
        (count) => count > 0,
      );
      await http()
        .delete(`/api/phones/${encodeURIComponent(owner)}/messages`)
        .set('Authorization', admin())
        .expect(200);
      const stored = await db.query(
        `SELECT count(*)::int AS n FROM webhook_events WHERE viewer = $1`,
        [owner],
      );
      expect(stored.rows[0].n).toBe(0);
      receiver.mode = 'accept';
      const [created] = await eventually(
        () => acceptedEvents(receiver, webhook.secret),
        (events) => events.length > 0,
      );
      expect(created).toMatchObject({
        type: 'message.created',
        data: { message: { uuid: event.uuid, text: '(erased)' } },
      });
      expect(JSON.stringify(created)).not.toContain(owner);
    });
  });
});

/** The queue is durable: events written while no worker runs, or cut short by a crash, still arrive. */
describe('Webhook events are durable (e2e)', () => {
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
  });

  afterAll(async () => {
    await receiver?.close();
  });

  it('delivers what was queued before a restart, including an attempt a crash cut short', async () => {
    const env = {
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_POLL_MS: '50',
      WEBHOOK_WORKER: 'false',
      // Both instances open the signing secrets, as instances sharing a database do.
      SECRETS_KEY: randomBytes(32).toString('base64'),
    };
    const first = await startTestApp(env);
    const created = await request(first.baseUrl)
      .post('/api/webhooks')
      .set('Authorization', `Bearer ${first.adminKey}`)
      .send({ url: receiver.url, events: ['message.created'] })
      .expect(201);
    const events = Array.from({ length: 5 }, () => buildSmsEvent());
    for (const event of events) {
      await request(first.baseUrl)
        .post('/api/send-sms')
        .set('Authorization', `Bearer ${first.adminKey}`)
        .send(event)
        .expect(201);
    }
    const db = new Client({ connectionString: first.databaseUrl });
    await db.connect();
    try {
      // One was being delivered when its instance died: its lease ran out.
      await db.query(`
        UPDATE webhook_events SET state = 'delivering', attempts = 1, lease_until = now() - interval '1 second'
        WHERE id = (SELECT min(id) FROM webhook_events)`);
    } finally {
      await db.end();
    }
    await first.close({ keepDatabase: true });
    expect(receiver.received).toHaveLength(0);

    const second = await startTestApp({
      ...env,
      WEBHOOK_WORKER: 'true',
      DATABASE_URL: first.databaseUrl,
      ADMIN_API_KEY: first.adminKey,
    });
    try {
      await eventually(
        () => receiver.accepted().length,
        (count) => count >= events.length,
      );
      const uuids = acceptedEvents(receiver, created.body.secret).map(
        (event) => event.data.message.uuid,
      );
      expect(new Set(uuids)).toEqual(new Set(events.map((event) => event.uuid)));
    } finally {
      await second.close();
    }
  });
});

/** SSRF: without WEBHOOK_ALLOW_PRIVATE, no webhook reaches the service's own network. */
describe('Webhook destinations (e2e)', () => {
  let app: TestApp;
  let db: Client;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    app = await startTestApp({
      WEBHOOK_WORKER: 'true',
      WEBHOOK_POLL_MS: '50',
      WEBHOOK_RETRY_BASE_MS: '5000',
    });
    db = new Client({ connectionString: app.databaseUrl });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await app?.close();
    await receiver?.close();
  });

  it.each([
    'http://127.0.0.1/hook',
    'http://localhost:8080/hook',
    'http://[::1]/hook',
    'http://10.1.2.3/hook',
    'http://192.168.0.10/hook',
    'http://169.254.169.254/latest/meta-data/',
    'http://[fd00:ec2::254]/latest/meta-data/',
    'http://100.100.100.200/latest/meta-data/',
    'http://[::ffff:127.0.0.1]/hook',
    'http://0.0.0.0/hook',
  ])('refuses %s', async (url) => {
    const response = await request(app.baseUrl)
      .post('/api/webhooks')
      .set('Authorization', `Bearer ${app.adminKey}`)
      .send({ url, events: ['message.created'] });
    expect(response.status, JSON.stringify(response.body)).toBe(400);
    expect(response.body.details).toEqual([
      { field: 'url', problem: expect.stringContaining('address') },
    ]);
  });

  it('checks again at delivery time: a host that now resolves to loopback is not reached', async () => {
    // As if the host's DNS changed after the webhook was created: created for a public
    // address, its URL now names loopback, by a literal address and by a name (the lookup path).
    const create = async (url: string) => {
      const created = await request(app.baseUrl)
        .post('/api/webhooks')
        .set('Authorization', `Bearer ${app.adminKey}`)
        .send({ url: 'http://93.184.215.14/hook', events: ['message.created'] })
        .expect(201);
      await db.query('UPDATE webhooks SET url = $1 WHERE id = $2', [url, created.body.id]);
      return created.body.id as string;
    };
    const literal = await create(receiver.url);
    const named = await create(receiver.url.replace('127.0.0.1', 'localhost'));
    await request(app.baseUrl)
      .post('/api/send-sms')
      .set('Authorization', `Bearer ${app.adminKey}`)
      .send(buildSmsEvent())
      .expect(201);
    for (const id of [literal, named]) {
      const attempts = await eventually(
        async () =>
          (
            await request(app.baseUrl)
              .get(`/api/webhooks/${id}/deliveries`)
              .set('Authorization', `Bearer ${app.adminKey}`)
          ).body.deliveries as Array<{ error: string | null; statusCode: number | null }>,
        (found) => found.length > 0,
      );
      expect(attempts[0]).toMatchObject({ statusCode: null });
      expect(attempts[0].error).toMatch(/^refused: the URL resolves to a loopback address/);
    }
    expect(receiver.received).toHaveLength(0);
  });
});
