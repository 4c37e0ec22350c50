import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { readEventStream, type SseEvent } from '../apps/web/src/sse.js';
import {
  androidEvent,
  androidFixture,
  connectGateway,
  type Connection,
  signAndroid,
  signTextbee,
  signTwilio,
  textbeeEvent,
  twilioInbound,
} from './factories/gateway.factory.js';
import { randomPhone } from './factories/sms-event.factory.js';
import { startTestApp, type TestApp } from './setup/test-app.js';
import { createTestDatabase } from './setup/test-database.js';

interface ConversationMessage {
  phone_number: string;
  message_text: string;
  timestamp: number;
  direction: 'sent' | 'received';
}

/** Gateways' webhooks, in each provider's own format, on both platforms. */
describe.each(['express', 'fastify'])('Gateway webhooks on %s (e2e)', (platform) => {
  let app: TestApp;
  let db: Client;

  beforeAll(async () => {
    app = await startTestApp({ HTTP_ADAPTER: platform });
    db = new Client({ connectionString: app.databaseUrl });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await app?.close();
  });

  const admin = () => ({ Authorization: `Bearer ${app.adminKey}` });
  const post = (url: string, body: string, headers: Record<string, string>) =>
    fetch(url, { method: 'POST', headers, body });
  const conversation = async (phone: string): Promise<ConversationMessage[]> => {
    const response = await fetch(
      `${app.baseUrl}/api/get-conversation/${encodeURIComponent(phone)}`,
      { headers: admin() },
    );
    expect(response.status).toBe(200);
    return ((await response.json()) as { messages: ConversationMessage[] }).messages;
  };
  const messageCount = async () =>
    Number((await db.query('SELECT count(*) FROM messages')).rows[0].count);

  /** A 4xx in the common error shape that stored nothing. */
  async function refused(response: Response, status: number, before: number) {
    const body = (await response.json()) as { statusCode: number; error: string; message: string };
    expect(response.status, JSON.stringify(body)).toBe(status);
    expect(body).toMatchObject({ statusCode: status, error: expect.any(String) });
    expect(await messageCount()).toBe(before);
    return body;
  }

  describe('connections', () => {
    it('creates one with a webhook URL, never shows or stores the secret in clear', async () => {
      const phone = randomPhone();
      const secret = `tok_${randomBytes(16).toString('hex')}`;
      const created = await connectGateway(app, 'twilio', [phone.replace('+1', '')], secret);
      expect(created).toMatchObject({
        provider: 'twilio',
        phones: [phone],
        webhookUrl: `${app.baseUrl}/api/gateways/${created.id}/webhook`,
      });
      const answer = JSON.stringify(created);
      expect(answer.replace(secret, '')).not.toContain(secret);

      const list = (await (
        await fetch(`${app.baseUrl}/api/gateways`, { headers: admin() })
      ).json()) as {
        gateways: Array<Record<string, unknown>>;
      };
      const listed = list.gateways.find((gateway) => gateway.id === created.id);
      expect(Object.keys(listed ?? {}).toSorted()).toEqual(
        ['createdAt', 'id', 'label', 'outbound', 'phones', 'provider', 'webhookUrl'].toSorted(),
      );
      const row = await db.query('SELECT * FROM gateways WHERE id = $1', [created.id]);
      expect(JSON.stringify(row.rows[0])).not.toContain(secret);
      expect((row.rows[0].secret_sealed as Buffer).includes(Buffer.from(secret))).toBe(false);
    });

    it('refuses a phone key, a bad provider and a bad number', async () => {
      const body = {
        provider: 'twilio',
        label: 'x',
        phones: [randomPhone()],
        secret: 'x'.repeat(32),
      };
      const noKey = await fetch(`${app.baseUrl}/api/gateways`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(noKey.status).toBe(401);
      for (const bad of [
        { ...body, provider: 'nexmo' },
        { ...body, phones: ['not a number'] },
        { ...body, secret: 'short' },
      ]) {
        const response = await fetch(`${app.baseUrl}/api/gateways`, {
          method: 'POST',
          headers: { ...admin(), 'Content-Type': 'application/json' },
          body: JSON.stringify(bad),
        });
        expect(response.status, JSON.stringify(bad)).toBe(400);
      }
    });

    it('deletes one: 204, then its webhook answers 404 and storing stops', async () => {
      const gateway = await connectGateway(app, 'textbee', [randomPhone()]);
      const remove = () =>
        fetch(`${app.baseUrl}/api/gateways/${gateway.id}`, { method: 'DELETE', headers: admin() });
      expect((await remove()).status).toBe(204);
      expect((await remove()).status).toBe(404);
      const body = textbeeEvent('MESSAGE_RECEIVED');
      const before = await messageCount();
      await refused(
        await post(gateway.webhookUrl, body, signTextbee(gateway.secret, body)),
        404,
        before,
      );
    });
  });

  describe('Twilio', () => {
    let gateway: Connection;
    let phone: string;
    beforeAll(async () => {
      phone = randomPhone();
      gateway = await connectGateway(app, 'twilio', [phone]);
    });

    it('records an inbound message, answers empty TwiML, and a retry is a replay', async () => {
      const params = twilioInbound({ To: phone, From: '+12025550143', Body: 'Café at 7? 👍' });
      const { body, headers } = signTwilio(gateway.secret, gateway.webhookUrl, params);
      const before = Math.floor(Date.now() / 1000);
      const response = await post(gateway.webhookUrl, body, headers);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/xml/);
      expect(await response.text()).toContain('<Response/>');

      const retry = await post(gateway.webhookUrl, body, headers);
      expect(retry.status).toBe(200);
      const messages = (await conversation(phone)).filter((m) => m.message_text === params.Body);
      expect(messages).toEqual([
        {
          phone_number: '+12025550143',
          message_text: 'Café at 7? 👍',
          timestamp: expect.any(Number),
          direction: 'received',
        },
      ]);
      expect(messages[0].timestamp).toBeGreaterThanOrEqual(before);
    });

    it('keeps an alphanumeric sender ID and normalizes a national number', async () => {
      const params = twilioInbound({ To: phone.replace('+1', ''), From: 'ACMEBANK' });
      const { body, headers } = signTwilio(gateway.secret, gateway.webhookUrl, params);
      expect((await post(gateway.webhookUrl, body, headers)).status).toBe(200);
      expect(await conversation(phone)).toContainEqual(
        expect.objectContaining({ phone_number: 'ACMEBANK', message_text: params.Body }),
      );
    });

    it('answers 401 to a bad or missing signature, 403 to another number, 400 to a malformed form, 415 to JSON', async () => {
      const before = await messageCount();
      const params = twilioInbound({ To: phone });
      const signed = signTwilio(gateway.secret, gateway.webhookUrl, params);
      const forged = signTwilio('not-the-token', gateway.webhookUrl, params);
      await refused(await post(gateway.webhookUrl, forged.body, forged.headers), 401, before);
      const unsigned = { 'Content-Type': signed.headers['Content-Type'] };
      await refused(await post(gateway.webhookUrl, signed.body, unsigned), 401, before);
      // Signed for another URL: a captured request replayed at another connection.
      const elsewhere = signTwilio(gateway.secret, `${gateway.webhookUrl}x`, params);
      await refused(await post(gateway.webhookUrl, elsewhere.body, elsewhere.headers), 401, before);

      const foreign = signTwilio(
        gateway.secret,
        gateway.webhookUrl,
        twilioInbound({ To: randomPhone() }),
      );
      await refused(await post(gateway.webhookUrl, foreign.body, foreign.headers), 403, before);

      const withoutBody: Record<string, string> = twilioInbound({ To: phone });
      delete withoutBody.Body;
      const malformed = signTwilio(gateway.secret, gateway.webhookUrl, withoutBody);
      const error = await refused(
        await post(gateway.webhookUrl, malformed.body, malformed.headers),
        400,
        before,
      );
      expect(JSON.stringify(error)).toContain('Body');

      const json = JSON.stringify(params);
      await refused(
        await post(gateway.webhookUrl, json, {
          ...signed.headers,
          'Content-Type': 'application/json',
        }),
        415,
        before,
      );
    });

    it('answers 200 and records nothing for a status callback', async () => {
      const before = await messageCount();
      const params = twilioInbound({ To: phone, SmsStatus: 'delivered' });
      const { body, headers } = signTwilio(gateway.secret, gateway.webhookUrl, params);
      expect((await post(gateway.webhookUrl, body, headers)).status).toBe(200);
      expect(await messageCount()).toBe(before);
    });
  });

  describe('SMS Gateway for Android', () => {
    let gateway: Connection;
    let sim1: string;
    let sim2: string;
    beforeAll(async () => {
      sim1 = randomPhone();
      sim2 = randomPhone();
      gateway = await connectGateway(app, 'android-sms-gateway', [sim1, sim2]);
    });

    it('records sms:received on the SIM it names, at its own time; a resend under a new id is a replay', async () => {
      const body = androidEvent('sms:received', { simNumber: 2 });
      const response = await post(gateway.webhookUrl, body, signAndroid(gateway.secret, body));
      expect(response.status).toBe(200);
      const answer = (await response.json()) as { outcome: string; uuid: string };
      expect(answer).toEqual({ outcome: 'recorded', uuid: expect.any(String) });

      const resent = JSON.stringify({ ...JSON.parse(body), id: 'a-new-event-id' });
      const replay = await post(gateway.webhookUrl, resent, signAndroid(gateway.secret, resent));
      expect(await replay.json()).toEqual({ outcome: 'replayed', uuid: answer.uuid });

      const { payload } = JSON.parse(body) as { payload: { message: string; sender: string } };
      expect(await conversation(sim2)).toEqual([
        {
          phone_number: payload.sender,
          message_text: payload.message,
          // 2025-03-14T09:26:53.000-04:00, the fixture's receivedAt
          timestamp: 1741958813,
          direction: 'received',
        },
      ]);
      expect(await conversation(sim1)).toEqual([]);
    });

    it('answers system:ping and the sending events with 200, recording nothing', async () => {
      const before = await messageCount();
      for (const event of ['system:ping', 'sms:sent', 'sms:delivered', 'sms:failed']) {
        const body = JSON.stringify(androidFixture[event]);
        const response = await post(gateway.webhookUrl, body, signAndroid(gateway.secret, body));
        expect(response.status, event).toBe(200);
        expect(await response.json()).toEqual({ outcome: 'ignored' });
      }
      expect(await messageCount()).toBe(before);
    });

    it('refuses a bad signature, a stale timestamp and a malformed payload', async () => {
      const before = await messageCount();
      const body = androidEvent('sms:received');
      await refused(
        await post(gateway.webhookUrl, body, signAndroid('wrong-key-wrong', body)),
        401,
        before,
      );
      const stale = Math.floor(Date.now() / 1000) - 6 * 60;
      await refused(
        await post(gateway.webhookUrl, body, signAndroid(gateway.secret, body, stale)),
        401,
        before,
      );
      const tampered = body.replace('Android hello', 'Android HELLO');
      await refused(
        await post(gateway.webhookUrl, tampered, signAndroid(gateway.secret, body)),
        401,
        before,
      );

      const noMessage = androidEvent('sms:received', { message: 42 });
      await refused(
        await post(gateway.webhookUrl, noMessage, signAndroid(gateway.secret, noMessage)),
        400,
        before,
      );
      const nul = androidEvent('sms:received', { message: 'a\u0000b' });
      await refused(
        await post(gateway.webhookUrl, nul, signAndroid(gateway.secret, nul)),
        400,
        before,
      );
      const notJson = '{"event": ';
      await refused(
        await post(gateway.webhookUrl, notJson, signAndroid(gateway.secret, notJson)),
        400,
        before,
      );
    });

    it('answers 413 to a body over 64 KB', async () => {
      const before = await messageCount();
      const body = androidEvent('sms:received', { padding: 'x'.repeat(70 * 1024) });
      await refused(
        await post(gateway.webhookUrl, body, signAndroid(gateway.secret, body)),
        413,
        before,
      );
    });
  });

  describe('textbee', () => {
    let gateway: Connection;
    let phone: string;
    beforeAll(async () => {
      phone = randomPhone();
      gateway = await connectGateway(app, 'textbee', [phone]);
    });

    it('records MESSAGE_RECEIVED, and a retry is a replay', async () => {
      const body = textbeeEvent('MESSAGE_RECEIVED', { sender: '+12025550143' });
      const first = await post(gateway.webhookUrl, body, signTextbee(gateway.secret, body));
      expect(first.status).toBe(200);
      const { uuid } = (await first.json()) as { uuid: string };
      const retry = await post(gateway.webhookUrl, body, signTextbee(gateway.secret, body));
      expect(await retry.json()).toEqual({ outcome: 'replayed', uuid });
      const { message } = JSON.parse(body) as { message: string };
      expect(await conversation(phone)).toEqual([
        {
          phone_number: '+12025550143',
          message_text: message,
          timestamp: Math.floor(Date.parse('2025-03-14T13:26:53.000Z') / 1000),
          direction: 'received',
        },
      ]);
    });

    it('acknowledges the other events without recording, and refuses a bad signature', async () => {
      const before = await messageCount();
      for (const event of [
        'MESSAGE_SENT',
        'MESSAGE_DELIVERED',
        'MESSAGE_FAILED',
        'UNKNOWN_STATE',
      ]) {
        const body = textbeeEvent(event);
        const response = await post(gateway.webhookUrl, body, signTextbee(gateway.secret, body));
        expect(response.status, event).toBe(200);
      }
      const body = textbeeEvent('MESSAGE_RECEIVED');
      await refused(
        await post(gateway.webhookUrl, body, signTextbee('another-secret', body)),
        401,
        before,
      );
      await refused(
        await post(gateway.webhookUrl, body, { 'Content-Type': 'application/json' }),
        401,
        before,
      );
    });
  });

  it('answers 404 for a connection that does not exist, 400 for an id that is not a uuid', async () => {
    const before = await messageCount();
    const body = textbeeEvent('MESSAGE_RECEIVED');
    const missing = `${app.baseUrl}/api/gateways/${crypto.randomUUID()}/webhook`;
    await refused(await post(missing, body, signTextbee('x', body)), 404, before);
    await refused(
      await post(`${app.baseUrl}/api/gateways/nope/webhook`, body, signTextbee('x', body)),
      400,
      before,
    );
  });

  it('stores one message from a storm of 50 identical concurrent webhooks, none answered 5xx', async () => {
    const phone = randomPhone();
    const gateway = await connectGateway(app, 'twilio', [phone]);
    const { body, headers } = signTwilio(
      gateway.secret,
      gateway.webhookUrl,
      twilioInbound({ To: phone }),
    );
    const statuses = await Promise.all(
      Array.from(
        { length: 50 },
        async () => (await post(gateway.webhookUrl, body, headers)).status,
      ),
    );
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    expect(await conversation(phone)).toHaveLength(1);
  });

  it('counts webhooks in the metrics by provider and result', async () => {
    const metrics = await (await fetch(`${app.baseUrl}/metrics`)).text();
    const count = (provider: string, result: string) =>
      Number(
        new RegExp(
          `sms_gateway_webhooks_total\\{provider="${provider}",result="${result}"\\} (\\d+)`,
        ).exec(metrics)?.[1],
      );
    expect(count('twilio', 'recorded')).toBeGreaterThanOrEqual(2);
    expect(count('twilio', 'unauthorized')).toBeGreaterThanOrEqual(3);
    expect(count('android-sms-gateway', 'replayed')).toBeGreaterThanOrEqual(1);
    expect(count('textbee', 'ignored')).toBeGreaterThanOrEqual(4);
    expect(count('unknown', 'not_found')).toBeGreaterThanOrEqual(1);
  });
});

describe.each(['express', 'fastify'])('Gateway webhooks behind a proxy on %s (e2e)', (platform) => {
  it('counts bad signatures per client address behind TRUST_PROXY, and signs the forwarded URL', async () => {
    const app = await startTestApp({
      HTTP_ADAPTER: platform,
      TRUST_PROXY: 'loopback',
      AUTH_FAILURE_LIMIT: '1',
    });
    try {
      const phone = randomPhone();
      const gateway = await connectGateway(app, 'twilio', [phone]);
      const publicUrl = `https://sms.example.com/api/gateways/${gateway.id}/webhook`;
      const params = twilioInbound({ To: phone });
      const signed = signTwilio(gateway.secret, publicUrl, params);
      const forwarded = { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'sms.example.com' };
      const ok = await fetch(gateway.webhookUrl, {
        method: 'POST',
        headers: { ...signed.headers, ...forwarded, 'X-Forwarded-For': '203.0.113.9' },
        body: signed.body,
      });
      expect(ok.status).toBe(200);

      const forged = signTwilio('wrong-token', publicUrl, params);
      const attempt = (client: string) =>
        fetch(gateway.webhookUrl, {
          method: 'POST',
          headers: { ...forged.headers, ...forwarded, 'X-Forwarded-For': client },
          body: forged.body,
        });
      expect((await attempt('198.51.100.1')).status).toBe(401);
      const blocked = await attempt('198.51.100.1');
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
      // Another client behind the same proxy is not blocked by the first one's failures.
      expect((await attempt('198.51.100.2')).status).toBe(401);

      // Failed API keys are counted by the same address.
      const guess = (client: string) =>
        fetch(`${app.baseUrl}/api/keys`, {
          headers: { Authorization: 'Bearer sms_not-a-key', 'X-Forwarded-For': client },
        });
      expect((await guess('198.51.100.3')).status).toBe(401);
      expect((await guess('198.51.100.3')).status).toBe(429);
      expect((await guess('198.51.100.4')).status).toBe(401);
    } finally {
      await app.close();
    }
  });

  it('ignores X-Forwarded-* without TRUST_PROXY, and signs PUBLIC_BASE_URL when set', async () => {
    const app = await startTestApp({
      HTTP_ADAPTER: platform,
      PUBLIC_BASE_URL: 'https://hooks.example.org/',
    });
    try {
      const phone = randomPhone();
      const gateway = await connectGateway(app, 'twilio', [phone]);
      expect(gateway.webhookUrl).toBe(
        `https://hooks.example.org/api/gateways/${gateway.id}/webhook`,
      );
      const params = twilioInbound({ To: phone });
      const signed = signTwilio(gateway.secret, gateway.webhookUrl, params);
      const local = `${app.baseUrl}/api/gateways/${gateway.id}/webhook`;
      expect(
        (await fetch(local, { method: 'POST', headers: signed.headers, body: signed.body })).status,
      ).toBe(200);

      const other = await startTestApp({ HTTP_ADAPTER: platform });
      try {
        const otherGateway = await connectGateway(other, 'twilio', [phone]);
        const spoofedUrl = `https://sms.example.com/api/gateways/${otherGateway.id}/webhook`;
        const spoofed = signTwilio(otherGateway.secret, spoofedUrl, params);
        const response = await fetch(otherGateway.webhookUrl, {
          method: 'POST',
          headers: {
            ...spoofed.headers,
            'X-Forwarded-Proto': 'https',
            'X-Forwarded-Host': 'sms.example.com',
          },
          body: spoofed.body,
        });
        expect(response.status).toBe(401);
      } finally {
        await other.close();
      }
    } finally {
      await app.close();
    }
  });
});

describe('Gateway webhooks over two instances, and a secrets key rotation (e2e)', () => {
  const secretsKey = () => randomBytes(32).toString('base64');

  it('brings a webhook delivered to one instance to the live stream of another', async () => {
    const key = secretsKey();
    const a = await startTestApp({ SECRETS_KEY: key });
    const b = await startTestApp({
      SECRETS_KEY: key,
      DATABASE_URL: a.databaseUrl,
      ADMIN_API_KEY: a.adminKey,
      HTTP_ADAPTER: 'fastify',
    });
    const abort = new AbortController();
    try {
      const phone = randomPhone();
      const gateway = await connectGateway(a, 'textbee', [phone]);
      const events: SseEvent[] = [];
      let opened!: () => void;
      const open = new Promise<void>((resolve) => (opened = resolve));
      const stream = readEventStream(
        {
          url: `${b.baseUrl}/api/phones/${encodeURIComponent(phone)}/events`,
          headers: { Authorization: `Bearer ${a.adminKey}` },
          signal: abort.signal,
        },
        { open: () => opened(), event: (event) => events.push(event), comment: () => undefined },
      ).catch(() => undefined);
      await open;
      await vi.waitFor(() => expect(events.some((event) => event.type === 'ready')).toBe(true));

      const body = textbeeEvent('MESSAGE_RECEIVED');
      const response = await fetch(gateway.webhookUrl, {
        method: 'POST',
        headers: signTextbee(gateway.secret, body),
        body,
      });
      const { uuid } = (await response.json()) as { uuid: string };
      await vi.waitFor(
        () =>
          expect(
            events.some(
              (event) =>
                event.type === 'message.created' &&
                (JSON.parse(event.data) as { uuid: string }).uuid === uuid,
            ),
          ).toBe(true),
        { timeout: 10_000 },
      );
      abort.abort();
      await stream;
    } finally {
      abort.abort();
      await b.close({ keepDatabase: true });
      await a.close();
    }
  });

  it('rotates SECRETS_KEY: resealed at start-up, still verified, and an unknown key stops the start', async () => {
    const database = await createTestDatabase();
    const adminKey = randomBytes(24).toString('hex');
    const oldKey = secretsKey();
    const newKey = secretsKey();
    const start = (env: Record<string, string>) =>
      startTestApp({ DATABASE_URL: database.url, ADMIN_API_KEY: adminKey, ...env });
    const db = new Client({ connectionString: database.url });
    try {
      const first = await start({ SECRETS_KEY: oldKey });
      const gateway = await connectGateway(first, 'textbee', [randomPhone()]);
      await first.close();

      await db.connect();
      const keyId = async () =>
        (await db.query('SELECT secret_key_id FROM gateways WHERE id = $1', [gateway.id])).rows[0]
          .secret_key_id as string;
      const sealedUnderOld = await keyId();
      const rotated = await start({ SECRETS_KEY: newKey, SECRETS_KEY_PREVIOUS: oldKey });
      await rotated.close();
      expect(await keyId()).not.toBe(sealedUnderOld);

      const after = await start({ SECRETS_KEY: newKey });
      try {
        const body = textbeeEvent('MESSAGE_RECEIVED');
        const url = `${after.baseUrl}/api/gateways/${gateway.id}/webhook`;
        const response = await fetch(url, {
          method: 'POST',
          headers: signTextbee(gateway.secret, body),
          body,
        });
        expect(response.status).toBe(200);
      } finally {
        await after.close();
      }

      await expect(start({ SECRETS_KEY: secretsKey() })).rejects.toThrow(/SECRETS_KEY_PREVIOUS/);
    } finally {
      await db.end();
      await database.drop();
    }
  });
});
