import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { signAndroid, signTwilio } from './factories/gateway.factory.js';
import { buildSmsEvent, randomPhone } from './factories/sms-event.factory.js';
import { startTestApp, type TestApp } from './setup/test-app.js';
import { type AndroidStandin, startAndroidStandin } from './support/android-sms-gateway-standin.js';
import { type Smsc, startSmsc } from './support/smsc.js';
import { startTwilioStandin, type TwilioStandin } from './support/twilio-standin.js';

interface Delivery {
  status: string;
  providerMessageId: string | null;
  attempts: number;
  errorCode: string | null;
  errorReason: string | null;
}
interface StoredMessage {
  uuid: string;
  status: string;
  senderPhone: string;
  receiverPhone: string;
  delivery: Delivery | null;
}

const ACCOUNT_SID = `AC${'0123456789abcdef'.repeat(2)}`;

/**
 * Sending for real (POST /api/messages): through a real SMPP server on
 * loopback (the `smpp` package's own server, scripted as an SMSC), and through
 * stand-ins of SMS Gateway for Android's and Twilio's APIs, on both platforms.
 */
describe.each(['express', 'fastify'])('Sending through gateways on %s (e2e)', (platform) => {
  let app: TestApp;
  let db: Client;
  let smsc: Smsc;
  let android: AndroidStandin;
  let twilio: TwilioStandin;
  const twilioToken = randomBytes(16).toString('hex');

  beforeAll(async () => {
    smsc = await startSmsc({ systemId: 'shop', password: 'secret12' });
    android = await startAndroidStandin({ username: 'sms', password: 'app-password' });
    twilio = await startTwilioStandin({ accountSid: ACCOUNT_SID, authToken: twilioToken });
    app = await startTestApp({
      HTTP_ADAPTER: platform,
      OUTBOUND_RETRY_BASE_MS: '50',
      OUTBOUND_RETRY_MAX_MS: '200',
      OUTBOUND_MAX_ATTEMPTS: '3',
      OUTBOUND_POLL_MS: '50',
      TWILIO_API_BASE_URL: twilio.baseUrl,
    });
    db = new Client({ connectionString: app.databaseUrl });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await app?.close();
    await smsc?.close();
    await android?.close();
    await twilio?.close();
  });

  beforeEach(() => {
    smsc.mode = 'accept';
    smsc.receipts = 'delivered';
  });

  const headers = () => ({
    Authorization: `Bearer ${app.adminKey}`,
    'Content-Type': 'application/json',
  });
  const postJson = (path: string, body: unknown, extra: Record<string, string> = {}) =>
    fetch(`${app.baseUrl}${path}`, {
      method: 'POST',
      headers: { ...headers(), ...extra },
      body: JSON.stringify(body),
    });
  const connect = async (body: Record<string, unknown>) => {
    const response = await postJson('/api/gateways', { label: 'outbound test', ...body });
    const answer = (await response.json()) as Record<string, unknown>;
    expect(response.status, JSON.stringify(answer)).toBe(201);
    return answer as { id: string; webhookUrl: string | null; outbound: Record<string, unknown> };
  };
  const smppConnection = async (phone = randomPhone(), extra: Record<string, unknown> = {}) => {
    const gateway = await connect({
      provider: 'smpp',
      phones: [phone],
      outbound: { url: smsc.url, ratePerSecond: 1000, ...extra },
    });
    return { gateway, phone };
  };
  const send = (body: Record<string, unknown>) => postJson('/api/messages', body);
  const message = async (uuid: string): Promise<StoredMessage> => {
    const response = await fetch(`${app.baseUrl}/api/messages/${uuid}`, { headers: headers() });
    expect(response.status).toBe(200);
    return (await response.json()) as StoredMessage;
  };
  /** Polls the message until `done` holds (the worker runs in the background). */
  const eventually = async (uuid: string, done: (message: StoredMessage) => boolean) => {
    const deadline = Date.now() + 30_000;
    let last = await message(uuid);
    while (!done(last)) {
      if (Date.now() > deadline) throw new Error(`timed out; last: ${JSON.stringify(last)}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
      last = await message(uuid);
    }
    return last;
  };
  const jobCount = async () =>
    Number((await db.query('SELECT count(*) FROM outbound_messages')).rows[0].count);

  describe('connections with an outbound side', () => {
    it('stores an SMPP connection without a secret, and never shows or keeps the password in clear', async () => {
      const { gateway } = await smppConnection(randomPhone(), { systemType: 'shop' });
      expect(gateway).toMatchObject({
        provider: 'smpp',
        webhookUrl: null,
        outbound: {
          url: `smpp://shop@127.0.0.1:${smsc.port}`,
          systemType: 'shop',
          ratePerSecond: 1000,
        },
      });
      const list = await (
        await fetch(`${app.baseUrl}/api/gateways`, { headers: headers() })
      ).text();
      expect(list).not.toContain('secret12');
      const row = await db.query('SELECT * FROM gateways WHERE id = $1', [gateway.id]);
      expect(JSON.stringify(row.rows[0])).not.toContain('secret12');
      expect(row.rows[0].outbound_sealed).toBeInstanceOf(Buffer);
    });

    it('refuses shapes that do not fit the provider, naming the field', async () => {
      const cases: Array<[Record<string, unknown>, string]> = [
        [
          {
            provider: 'smpp',
            phones: [randomPhone()],
            secret: 'x'.repeat(16),
            outbound: { url: smsc.url },
          },
          'secret',
        ],
        [{ provider: 'smpp', phones: [randomPhone()] }, 'outbound'],
        [
          {
            provider: 'smpp',
            phones: [randomPhone()],
            outbound: { url: 'smpp://nopassword-host' },
          },
          'outbound.url',
        ],
        [
          {
            provider: 'twilio',
            phones: [randomPhone()],
            secret: twilioToken,
            outbound: { url: 'http://x' },
          },
          'outbound.url',
        ],
        [
          { provider: 'twilio', phones: [randomPhone()], secret: twilioToken, outbound: {} },
          'outbound.accountSid',
        ],
        [
          {
            provider: 'android-sms-gateway',
            phones: [randomPhone()],
            secret: twilioToken,
            outbound: { url: android.url, username: 'sms' },
          },
          'outbound.password',
        ],
        [
          {
            provider: 'textbee',
            phones: [randomPhone()],
            secret: twilioToken,
            outbound: { ratePerSecond: 1 },
          },
          'outbound',
        ],
        [
          {
            provider: 'smpp',
            phones: [randomPhone()],
            outbound: { url: smsc.url, ratePerSecond: 0 },
          },
          'outbound.ratePerSecond',
        ],
      ];
      for (const [body, field] of cases) {
        const response = await postJson('/api/gateways', { label: 'bad', ...body });
        const answer = (await response.json()) as { details?: Array<{ field: string }> };
        expect(response.status, JSON.stringify({ body, answer })).toBe(400);
        expect(answer.details?.map((detail) => detail.field)).toContain(field);
      }
    });

    it('sends each number through one connection only (409)', async () => {
      const { phone } = await smppConnection();
      const response = await postJson('/api/gateways', {
        label: 'second',
        provider: 'smpp',
        phones: [phone],
        outbound: { url: smsc.url },
      });
      expect(response.status).toBe(409);
    });
  });

  describe('through SMPP', () => {
    it('queues, submits once and follows the receipt to delivered', async () => {
      const { phone } = await smppConnection();
      const to = randomPhone();
      const text = `Your table is ready ${randomUUID()}`;
      const response = await send({ from: phone, to, text });
      const accepted = (await response.json()) as { uuid: string; status: string };
      expect(response.status, JSON.stringify(accepted)).toBe(202);
      expect(accepted.status).toBe('queued');

      const delivered = await eventually(accepted.uuid, (m) => m.status === 'delivered');
      // Times are whole unix seconds, as the API documents them.
      const record = delivered as unknown as { timestamp: number; sentAt: number };
      expect(Number.isInteger(record.timestamp) && Number.isInteger(record.sentAt)).toBe(true);
      expect(delivered.delivery).toMatchObject({ status: 'delivered', attempts: 1 });
      expect(smsc.countByText(text)).toBe(1);
      const submit = smsc.submits.find((item) => item.text === text)!;
      expect(submit).toMatchObject({
        source: phone.slice(1),
        destination: to.slice(1),
        dataCoding: 0,
      });
      expect(delivered.delivery!.providerMessageId).toBe(submit.messageId);

      const thread = await fetch(
        `${app.baseUrl}/api/phones/${encodeURIComponent(phone)}/conversations/${encodeURIComponent(to)}/messages`,
        { headers: headers() },
      );
      const page = (await thread.json()) as { messages: Array<{ uuid: string; status: string }> };
      expect(page.messages).toEqual([
        expect.objectContaining({ uuid: accepted.uuid, status: 'delivered' }),
      ]);
    });

    it('answers a repeated uuid with its status (200) and a changed one with 409, sending once', async () => {
      const { phone } = await smppConnection();
      const uuid = randomUUID();
      const body = { from: phone, to: randomPhone(), text: `once ${uuid}`, uuid };
      expect((await send(body)).status).toBe(202);
      await eventually(uuid, (m) => m.status === 'delivered');
      const again = await send(body);
      expect(again.status).toBe(200);
      expect(await again.json()).toEqual({ uuid, status: 'delivered' });
      const changed = await send({ ...body, text: 'something else' });
      expect(changed.status).toBe(409);
      expect(smsc.countByText(body.text)).toBe(1);
    });

    it('splits a long UCS-2 message into concatenated parts', async () => {
      const { phone } = await smppConnection();
      const text = `Привет! ${'Съешь же ещё этих мягких французских булок. '.repeat(3)}`;
      const response = await send({ from: phone, to: randomPhone(), text });
      const { uuid } = (await response.json()) as { uuid: string };
      await eventually(uuid, (m) => m.status === 'delivered');
      const parts = smsc.submits.filter((item) => text.includes(item.text) && item.udh);
      expect(parts.length).toBeGreaterThan(1);
      expect(parts.map((part) => part.text).join('')).toBe(text);
      expect(parts.every((part) => part.dataCoding === 8)).toBe(true);
    });

    it('fails a refused message at once with the SMSC status, and retries it with the same uuid', async () => {
      const { phone } = await smppConnection();
      smsc.mode = 'refuse';
      const body = { from: phone, to: randomPhone(), text: `refused ${randomUUID()}` };
      const { uuid } = (await (await send(body)).json()) as { uuid: string };
      const failed = await eventually(uuid, (m) => m.status === 'failed');
      expect(failed.delivery).toMatchObject({ errorCode: 'ESME_RINVDSTADR', attempts: 1 });
      expect(failed.delivery!.errorReason).toContain('ESME_RINVDSTADR');

      smsc.mode = 'accept';
      const retried = await send({ ...body, uuid });
      expect(retried.status).toBe(202);
      await eventually(uuid, (m) => m.status === 'delivered');
      expect(smsc.countByText(body.text)).toBe(1);
    });

    it('backs off while the SMSC throttles, then delivers; gives up after the attempts limit', async () => {
      const { phone } = await smppConnection();
      smsc.mode = 'throttle';
      const body = { from: phone, to: randomPhone(), text: `throttled ${randomUUID()}` };
      const { uuid } = (await (await send(body)).json()) as { uuid: string };
      await eventually(uuid, (m) => (m.delivery?.attempts ?? 0) >= 1 && m.status === 'queued');
      smsc.mode = 'accept';
      const delivered = await eventually(uuid, (m) => m.status === 'delivered');
      expect(delivered.delivery!.attempts).toBeGreaterThan(1);

      smsc.mode = 'throttle';
      const stuck = { from: phone, to: randomPhone(), text: `never ${randomUUID()}` };
      const { uuid: stuckUuid } = (await (await send(stuck)).json()) as { uuid: string };
      const failed = await eventually(stuckUuid, (m) => m.status === 'failed');
      expect(failed.delivery).toMatchObject({ errorCode: 'ESME_RTHROTTLED', attempts: 3 });
      expect(failed.delivery!.errorReason).toMatch(/gave up after 3 attempts/);
    });

    it('records an undeliverable receipt as failed with its error code', async () => {
      const { phone } = await smppConnection();
      smsc.receipts = 'undeliverable';
      const { uuid } = (await (
        await send({ from: phone, to: randomPhone(), text: `lost ${randomUUID()}` })
      ).json()) as { uuid: string };
      const failed = await eventually(uuid, (m) => m.status === 'failed');
      expect(failed.delivery).toMatchObject({ errorCode: '001' });
    });

    it('holds ratePerSecond', async () => {
      const { phone } = await smppConnection(randomPhone());
      await db.query(
        `UPDATE gateways SET outbound = jsonb_set(outbound, '{ratePerSecond}', '3') WHERE $1 = ANY(phones)`,
        [phone],
      );
      const tag = randomUUID();
      const uuids: string[] = [];
      for (let index = 0; index < 12; index += 1) {
        const response = await send({
          from: phone,
          to: randomPhone(),
          text: `paced ${tag} ${index}`,
        });
        uuids.push(((await response.json()) as { uuid: string }).uuid);
      }
      for (const uuid of uuids) await eventually(uuid, (m) => m.status === 'delivered');
      const times = smsc.submits
        .filter((item) => item.text.includes(tag))
        .map((item) => item.at)
        .sort((a, b) => a - b);
      expect(times).toHaveLength(12);
      // The budget is per second of the database's clock: 12 at 3 per second take at least four
      // such seconds, so over two seconds from first to last; and no second of any clock, which
      // may straddle two budget windows, holds more than two windows' worth.
      expect(times[11] - times[0]).toBeGreaterThanOrEqual(2_000);
      const mostInOneSecond = Math.max(
        ...times.map((start) => times.filter((at) => at >= start && at < start + 1_000).length),
      );
      expect(mostInOneSecond).toBeLessThanOrEqual(6);
    });
  });

  describe('the rules of sending', () => {
    it('makes a uuid when none is given', async () => {
      const { phone } = await smppConnection();
      const response = await send({ from: phone, to: randomPhone(), text: 'no uuid' });
      expect(response.status).toBe(202);
      const { uuid } = (await response.json()) as { uuid: string };
      expect(uuid).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('refuses a number without an outbound gateway (422), queueing nothing', async () => {
      const before = await jobCount();
      const response = await send({ from: randomPhone(), to: randomPhone(), text: 'nowhere' });
      expect(response.status).toBe(422);
      expect(await response.json()).toMatchObject({
        statusCode: 422,
        details: [{ field: 'from' }],
      });
      expect(await jobCount()).toBe(before);
    });

    it('lets a phone key send only from its own number', async () => {
      const { phone } = await smppConnection();
      const keyResponse = await postJson('/api/keys', { label: 'other', phones: [randomPhone()] });
      const { key } = (await keyResponse.json()) as { key: string };
      const response = await fetch(`${app.baseUrl}/api/messages`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ from: phone, to: randomPhone(), text: 'not yours' }),
      });
      expect(response.status).toBe(403);
    });

    it('honours STOP until START: 422 and nothing queued, and the thread shows it', async () => {
      const { phone } = await smppConnection();
      const customer = randomPhone();
      const report = (text: string, timestamp: number) =>
        postJson(
          '/api/receive-sms',
          buildSmsEvent({
            senderPhone: customer,
            receiverPhone: phone,
            messageText: text,
            timestamp,
          }),
        );
      const now = Math.floor(Date.now() / 1000);
      expect((await report('  stop ', now - 10)).status).toBe(201);

      const before = await jobCount();
      const refused = await send({ from: phone, to: customer, text: 'hello?' });
      expect(refused.status).toBe(422);
      expect(await refused.json()).toMatchObject({ details: [{ field: 'to' }] });
      expect(await jobCount()).toBe(before);
      const thread = await fetch(
        `${app.baseUrl}/api/phones/${encodeURIComponent(phone)}/conversations/${encodeURIComponent(customer)}/messages`,
        { headers: headers() },
      );
      expect(await thread.json()).toMatchObject({ optOut: { keyword: 'STOP', since: now - 10 } });

      expect((await report('Start', now - 5)).status).toBe(201);
      expect((await send({ from: phone, to: customer, text: 'welcome back' })).status).toBe(202);
      // Other words containing a keyword are plain messages.
      expect((await report('please stop by later', now - 1)).status).toBe(201);
      expect((await send({ from: phone, to: customer, text: 'will do' })).status).toBe(202);
    });
  });

  describe('through SMS Gateway for Android (stand-in)', () => {
    it('passes our uuid as its id, and takes the signed sms:delivered webhook', async () => {
      const phone = randomPhone();
      const signingKey = randomBytes(16).toString('hex');
      const gateway = await connect({
        provider: 'android-sms-gateway',
        phones: [phone],
        secret: signingKey,
        outbound: { url: android.url, username: 'sms', password: 'app-password' },
      });
      expect(gateway.outbound).toEqual({ url: android.url, username: 'sms', ratePerSecond: 10 });
      const { uuid } = (await (
        await send({ from: phone, to: randomPhone(), text: 'from the phone' })
      ).json()) as { uuid: string };
      const sent = await eventually(uuid, (m) => m.status === 'sent');
      expect(sent.delivery!.providerMessageId).toBe(uuid);
      expect(android.messages.get(uuid)).toBeDefined();

      const body = JSON.stringify({
        deviceId: 'ffffffffceb0b1db0000018e937c815b',
        event: 'sms:delivered',
        id: randomBytes(8).toString('hex'),
        payload: {
          messageId: uuid,
          phoneNumber: '+19162255887',
          deliveredAt: new Date().toISOString(),
        },
        webhookId: 'LreFUt-Z3sSq0JufY9uWB',
      });
      const webhook = await fetch(gateway.webhookUrl!, {
        method: 'POST',
        headers: signAndroid(signingKey, body),
        body,
      });
      expect(webhook.status).toBe(200);
      expect(await webhook.json()).toEqual({ outcome: 'status' });
      await eventually(uuid, (m) => m.status === 'delivered');
    });

    it('keeps a report that comes before its message has the id, and applies it then', async () => {
      const phone = randomPhone();
      const signingKey = randomBytes(16).toString('hex');
      const gateway = await connect({
        provider: 'android-sms-gateway',
        phones: [phone],
        secret: signingKey,
        outbound: { url: android.url, username: 'sms', password: 'app-password' },
      });
      const uuid = randomUUID();
      const body = JSON.stringify({
        event: 'sms:failed',
        payload: {
          messageId: uuid,
          phoneNumber: '+19162255887',
          failedAt: new Date().toISOString(),
          reason: 'RESULT_ERROR_NO_SERVICE',
        },
      });
      const early = await fetch(gateway.webhookUrl!, {
        method: 'POST',
        headers: signAndroid(signingKey, body),
        body,
      });
      expect(early.status).toBe(200);
      await send({ from: phone, to: randomPhone(), text: 'overtaken', uuid });
      const failed = await eventually(uuid, (m) => m.status === 'failed');
      expect(failed.delivery!.errorReason).toContain('RESULT_ERROR_NO_SERVICE');
      const kept = await db.query(
        'SELECT count(*) FROM delivery_reports WHERE provider_message_id = $1',
        [uuid],
      );
      expect(Number(kept.rows[0].count)).toBe(0);
    });
  });

  describe('through Twilio (stand-in, driven by the official SDK)', () => {
    it('sets StatusCallback to the webhook and follows the signed status callbacks', async () => {
      const phone = randomPhone();
      const gateway = await connect({
        provider: 'twilio',
        phones: [phone],
        secret: twilioToken,
        outbound: { accountSid: ACCOUNT_SID },
      });
      expect(gateway.outbound).toEqual({ accountSid: ACCOUNT_SID, ratePerSecond: 10 });
      const to = randomPhone();
      const { uuid } = (await (await send({ from: phone, to, text: 'from Twilio' })).json()) as {
        uuid: string;
      };
      const sent = await eventually(uuid, (m) => m.status === 'sent');
      const created = twilio.messages.find((item) => item.sid === sent.delivery!.providerMessageId);
      expect(created).toMatchObject({
        Body: 'from Twilio',
        From: phone,
        To: to,
        StatusCallback: gateway.webhookUrl,
      });

      const callback = (fields: Record<string, string>) =>
        signTwilio(twilioToken, gateway.webhookUrl!, {
          MessageSid: created!.sid,
          AccountSid: ACCOUNT_SID,
          From: phone,
          To: to,
          ApiVersion: '2010-04-01',
          ...fields,
        });
      const undelivered = callback({
        MessageStatus: 'undelivered',
        SmsStatus: 'undelivered',
        ErrorCode: '30003',
      });
      const response = await fetch(gateway.webhookUrl!, {
        method: 'POST',
        headers: undelivered.headers,
        body: undelivered.body,
      });
      expect(response.status).toBe(200);
      const failed = await eventually(uuid, (m) => m.status === 'failed');
      expect(failed.delivery).toMatchObject({ errorCode: '30003' });

      // A late or repeated callback never moves a message back.
      const late = callback({ MessageStatus: 'sent', SmsStatus: 'sent' });
      await fetch(gateway.webhookUrl!, { method: 'POST', headers: late.headers, body: late.body });
      expect((await message(uuid)).status).toBe('failed');
    });
  });
});
