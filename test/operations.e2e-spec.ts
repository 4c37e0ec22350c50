import { createServer, type Server, type Socket } from 'node:net';
import request from 'supertest';
import { buildSmsEvent, randomPhone } from './factories/sms-event.factory.js';
import { type AppProcess, startAppProcess } from './faults/support/app-process.js';
import { createTestDatabase, type TestDatabase } from './setup/test-database.js';
import { startTestApp, type TestApp } from './setup/test-app.js';

/**
 * What operators rely on, over HTTP on both platforms: health checks, the
 * Prometheus endpoint, request ids on every response, and the log lines of
 * the compiled app. The behaviour under faults (kill -9, SIGTERM, a database
 * outage, a soak) is in test/faults/.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Just enough of Redis for a PING: every command gets +PONG. */
async function startFakeRedis(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (chunk) => {
      // One reply per command in the chunk (RESP arrays start with '*').
      socket.write('+PONG\r\n'.repeat(String(chunk).match(/^\*/gm)?.length ?? 0));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The value of one series in a Prometheus text exposition, or undefined. */
function sample(
  exposition: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = (match[2] ?? '').split(',');
    if (wanted.every((label) => present.includes(label))) return Number(match[3]);
  }
  return undefined;
}

// Nest's ConfigModule copies each app's variables into process.env, where the
// ConfigService of every later app finds those it was not given: the app with
// REDIS_URL would hand it to the next one.
const variablesBefore = new Set(Object.keys(process.env));
afterEach(() => {
  for (const name of Object.keys(process.env)) {
    if (!variablesBefore.has(name)) delete process.env[name];
  }
});

describe.each(['express', 'fastify'])('Operations on %s (e2e)', (platform) => {
  let testApp: TestApp;
  let admin: string;
  const api = () => request(testApp.baseUrl);

  beforeAll(async () => {
    testApp = await startTestApp({ HTTP_ADAPTER: platform });
    admin = `Bearer ${testApp.adminKey}`;
  });

  afterAll(async () => {
    await testApp?.close();
  });

  describe('health', () => {
    it('answers liveness and readiness without a key, never cached', async () => {
      const live = await api().get('/api/health/live').expect(200);
      expect(live.body).toMatchObject({ status: 'ok' });
      expect(live.headers['cache-control']).toMatch(/no-store/);

      const ready = await api().get('/api/health/ready').expect(200);
      expect(ready.body).toMatchObject({ status: 'ok', info: { database: { status: 'up' } } });
      expect(ready.body.info).not.toHaveProperty('redis');
    });

    it('checks Redis when REDIS_URL is set, and answers 503 naming it when it is away', async () => {
      const redis = await startFakeRedis();
      const withRedis = await startTestApp({
        HTTP_ADAPTER: platform,
        REDIS_URL: redis.url,
        DATABASE_URL: testApp.databaseUrl,
      });
      try {
        const ready = await request(withRedis.baseUrl).get('/api/health/ready').expect(200);
        expect(ready.body.info).toMatchObject({
          database: { status: 'up' },
          redis: { status: 'up' },
        });

        await redis.close();
        await expect
          .poll(async () => (await request(withRedis.baseUrl).get('/api/health/ready')).status)
          .toBe(503);
        const notReady = await request(withRedis.baseUrl).get('/api/health/ready').expect(503);
        expect(notReady.body).toEqual({
          statusCode: 503,
          error: 'Service Unavailable',
          message: expect.stringMatching(/^Not ready: redis is down: /),
          details: [{ field: 'redis', problem: expect.stringMatching(/^is down: .+/) }],
          requestId: notReady.headers['x-request-id'],
        });
        // Liveness does not depend on anything: restarting would not bring Redis back.
        await request(withRedis.baseUrl).get('/api/health/live').expect(200);
      } finally {
        await withRedis.close({ keepDatabase: true });
        await redis.close().catch(() => undefined);
      }
    });

    it('names an unreachable Redis from the start', async () => {
      const withRedis = await startTestApp({
        HTTP_ADAPTER: platform,
        REDIS_URL: `redis://127.0.0.1:${await closedPort()}`,
        DATABASE_URL: testApp.databaseUrl,
      });
      try {
        const response = await request(withRedis.baseUrl).get('/api/health/ready').expect(503);
        expect(response.body.details).toEqual([
          {
            field: 'redis',
            problem: expect.stringMatching(/ECONNREFUSED|not connected|connecting/),
          },
        ]);
      } finally {
        await withRedis.close({ keepDatabase: true });
      }
    });
  });

  describe('metrics', () => {
    it('serves Prometheus text at /metrics, outside /api, without a key', async () => {
      const response = await api().get('/metrics').expect(200);
      expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      for (const name of [
        'process_resident_memory_bytes',
        'process_cpu_seconds_total',
        'nodejs_heap_size_used_bytes',
      ]) {
        expect(sample(response.text, name), name).toBeGreaterThan(0);
      }
      expect(sample(response.text, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
      await api().get('/api/metrics').expect(404);
    });

    it('counts recorded messages by event and outcome', async () => {
      const before = (await api().get('/metrics').expect(200)).text;
      const count = (text: string, event: string, outcome: string) =>
        sample(text, 'sms_messages_recorded_total', { event, outcome }) ?? 0;
      const sent = buildSmsEvent();
      const post = (path: string, body: object, status: number) =>
        api().post(`/api/${path}`).set('Authorization', admin).send(body).expect(status);

      await post('send-sms', sent, 201);
      await post('send-sms', sent, 200);
      await post('receive-sms', { ...sent, timestamp: sent.timestamp + 2 }, 201);
      await post('send-sms', { ...sent, messageText: 'something else' }, 409);
      await post('receive-sms', buildSmsEvent(), 201);

      const after = (await api().get('/metrics').expect(200)).text;
      expect(count(after, 'sent', 'created') - count(before, 'sent', 'created')).toBe(1);
      expect(count(after, 'sent', 'replayed') - count(before, 'sent', 'replayed')).toBe(1);
      expect(count(after, 'received', 'merged') - count(before, 'received', 'merged')).toBe(1);
      expect(count(after, 'sent', 'conflict') - count(before, 'sent', 'conflict')).toBe(1);
      expect(count(after, 'received', 'created') - count(before, 'received', 'created')).toBe(1);
      // Every series exists before its first event.
      expect(
        sample(before, 'sms_messages_recorded_total', { outcome: 'merged', event: 'sent' }),
      ).toBeDefined();
    });

    it('times requests by route pattern and final status, errors and unrouted requests included', async () => {
      const before = (await api().get('/metrics').expect(200)).text;
      const phone = randomPhone();
      await api()
        .get(`/api/get-conversation/${encodeURIComponent(phone)}`)
        .set('Authorization', admin)
        .expect(200);
      await api()
        .post('/api/send-sms')
        .set('Authorization', admin)
        .send({ uuid: 'nope' })
        .expect(400);
      await api().post('/api/send-sms').send(buildSmsEvent()).expect(401);
      await api().get('/api/no-such-route').expect(404);

      const text = (await api().get('/metrics').expect(200)).text;
      // Other tests share this app: count only the requests made here, one each.
      const count = (route: string, status: string, method = 'GET') => {
        const labels = { method, route, status_code: status };
        const series = (exposition: string) =>
          sample(exposition, 'http_request_duration_seconds_count', labels) ?? 0;
        return series(text) - series(before);
      };
      expect(count('/api/get-conversation/:phone_number', '200')).toBe(1);
      expect(count('/api/send-sms', '400', 'POST')).toBe(1);
      expect(count('/api/send-sms', '401', 'POST')).toBe(1);
      expect(count('unmatched', '404')).toBe(1);
      // The raw URL never becomes a label: one series per route, whatever the number.
      expect(text).not.toContain(phone.slice(1));
    });

    it('reports the database pool', async () => {
      // A read borrows a connection and gives it back, where it idles for 30 s
      // (idleTimeoutMillis). Background work (the live stream's batched NOTIFY
      // after the earlier sends) may hold one for a moment, so the scrape is
      // repeated until none is in use: a connection that is never given back fails.
      await api()
        .get(`/api/get-conversation/${encodeURIComponent(randomPhone())}`)
        .set('Authorization', admin)
        .expect(200);
      let text = '';
      await vi.waitFor(
        async () => {
          text = (await api().get('/metrics').expect(200)).text;
          expect(sample(text, 'db_pool_connections', { state: 'in_use' })).toBe(0);
        },
        { timeout: 5_000, interval: 50 },
      );
      const idle = sample(text, 'db_pool_connections', { state: 'idle' });
      expect(idle).toBeGreaterThanOrEqual(1);
      expect(idle).toBeLessThanOrEqual(4);
      expect(sample(text, 'db_pool_waiting_requests')).toBe(0);
      expect(sample(text, 'db_pool_max_connections')).toBe(4);
    });

    it('requires METRICS_TOKEN as a bearer token when it is set', async () => {
      const token = 'metrics-token-0123456789';
      const guarded = await startTestApp({
        HTTP_ADAPTER: platform,
        METRICS_TOKEN: token,
        DATABASE_URL: testApp.databaseUrl,
      });
      try {
        const scrape = () => request(guarded.baseUrl).get('/metrics');
        const refused = await scrape().expect(401);
        expect(refused.headers['www-authenticate']).toBe('Bearer realm="metrics"');
        expect(refused.body).toMatchObject({ statusCode: 401, requestId: expect.any(String) });
        await scrape().set('Authorization', `Bearer ${token}x`).expect(401);
        // The admin API key is no metrics token.
        await scrape().set('Authorization', `Bearer ${guarded.adminKey}`).expect(401);
        const allowed = await scrape().set('Authorization', `Bearer ${token}`).expect(200);
        expect(allowed.text).toContain('http_request_duration_seconds');
      } finally {
        await guarded.close({ keepDatabase: true });
      }
    });
  });

  describe('request ids', () => {
    it('returns one on every response, and repeats it in every error body', async () => {
      const responses = [
        await api().get('/api/health/live').expect(200),
        await api()
          .post('/api/send-sms')
          .set('Authorization', admin)
          .send(buildSmsEvent())
          .expect(201),
        await api().get('/api/no-such-route').expect(404),
        await api().post('/api/send-sms').send(buildSmsEvent()).expect(401),
        await api().post('/api/send-sms').set('Authorization', admin).send({}).expect(400),
        await api()
          .post('/api/send-sms')
          .set('Authorization', admin)
          .set('Content-Type', 'application/json')
          .send('{"uuid": ')
          .expect(400),
        await api()
          .post('/api/send-sms')
          .set('Authorization', admin)
          .send({ ...buildSmsEvent(), padding: 'x'.repeat(70_000) })
          .expect(413),
        await api().get('/metrics').expect(200),
      ];
      const ids = responses.map((response) => response.headers['x-request-id']);
      for (const id of ids) expect(id).toMatch(UUID);
      expect(new Set(ids).size).toBe(ids.length);
      for (const response of responses.filter((r) => r.status >= 400)) {
        expect(response.body.requestId, `${response.status}`).toBe(
          response.headers['x-request-id'],
        );
      }
    });

    it("keeps the client's own X-Request-Id when acceptable, and replaces it otherwise", async () => {
      const mine = await api()
        .get('/api/no-such-route')
        .set('X-Request-Id', 'gateway-7.retry_2')
        .expect(404);
      expect(mine.headers['x-request-id']).toBe('gateway-7.retry_2');
      expect(mine.body.requestId).toBe('gateway-7.retry_2');

      for (const bad of ['x'.repeat(129), 'with space', '<script>']) {
        const response = await api().get('/api/health/live').set('X-Request-Id', bad).expect(200);
        expect(response.headers['x-request-id']).toMatch(UUID);
      }
    });
  });
});

/** The compiled app as a child process: its real stdout, in each mode. */
describe.each(['express', 'fastify'])('Logs on %s (e2e)', (platform) => {
  let database: TestDatabase;
  let app: AppProcess | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterEach(async () => {
    await app?.dispose();
    app = undefined;
  });

  afterAll(async () => {
    await database?.drop();
  });

  /** Sends requests of every kind, each with its own X-Request-Id. */
  async function traffic(target: AppProcess, secretText: string, phone: string) {
    const call = (id: string, path: string, init: RequestInit = {}) =>
      fetch(`${target.baseUrl}${path}`, {
        ...init,
        headers: {
          Authorization: target.authorization,
          'Content-Type': 'application/json',
          'X-Request-Id': id,
          ...init.headers,
        },
      }).then((response) => response.arrayBuffer());
    const event = buildSmsEvent({ senderPhone: phone, messageText: secretText });
    await call('log-send', '/api/send-sms', { method: 'POST', body: JSON.stringify(event) });
    await call('log-read', `/api/get-conversation/${encodeURIComponent(phone)}`);
    await call('log-malformed', '/api/send-sms', { method: 'POST', body: '{"uuid": ' });
    await call('log-nowhere', '/api/nowhere?x=1');
    // Logs a line of its own while handled (the key's creation).
    await call('log-key', '/api/keys', {
      method: 'POST',
      body: JSON.stringify({ label: 'log test', phones: [randomPhone()] }),
    });
    await call('log-no-key', '/api/send-sms', {
      method: 'POST',
      body: JSON.stringify(buildSmsEvent()),
      headers: { Authorization: '' },
    });
  }

  it('writes one JSON line per request in production: id, method, route, status, duration', async () => {
    app = await startAppProcess({
      DATABASE_URL: database.url,
      HTTP_ADAPTER: platform,
      LOG_LEVEL: 'info',
    });
    await app.waitUntilReady();
    const secretText = `secret text ${Math.random()}`;
    const phone = randomPhone();
    await traffic(app, secretText, phone);

    const target = app;
    const requestLine = (id: string) =>
      target.records().filter((record) => record.requestId === id && 'status' in record);
    await expect.poll(() => requestLine('log-no-key').length).toBe(1);

    expect(requestLine('log-send')).toEqual([
      expect.objectContaining({
        level: 'info',
        method: 'POST',
        route: '/api/send-sms',
        status: 201,
        durationMs: expect.any(Number),
        msg: expect.stringMatching(/^POST \/api\/send-sms 201 [\d.]+ ms$/),
      }),
    ]);
    expect(requestLine('log-read')).toEqual([
      expect.objectContaining({ route: '/api/get-conversation/:phone_number', status: 200 }),
    ]);
    expect(requestLine('log-malformed')).toEqual([expect.objectContaining({ status: 400 })]);
    expect(requestLine('log-nowhere')).toEqual([
      expect.objectContaining({ route: 'unmatched', path: '/api/nowhere', status: 404 }),
    ]);
    expect(requestLine('log-no-key')).toEqual([
      expect.objectContaining({ route: '/api/send-sms', status: 401 }),
    ]);
    // Lines logged while a request is handled carry its id too.
    expect(
      target.records().filter((record) => record.requestId === 'log-key' && 'context' in record),
    ).not.toEqual([]);

    // Every line is JSON once Nest starts (a module may warn while the app
    // module is still being put together); no line holds a message text or a key.
    const output = target.lines().filter((line) => line.trim() !== '');
    const fromStart = output.slice(output.findIndex((line) => line.startsWith('{')));
    expect(fromStart.filter((line) => !line.startsWith('{'))).toEqual([]);
    const everything = output.join('\n');
    expect(everything).not.toContain(secretText);
    expect(everything).not.toContain(target.env.ADMIN_API_KEY);
  });

  it('writes readable lines in development', async () => {
    app = await startAppProcess({
      NODE_ENV: 'development',
      DATABASE_URL: database.url,
      HTTP_ADAPTER: platform,
    });
    await app.waitUntilReady();
    await traffic(app, 'hello', randomPhone());
    const target = app;
    await expect
      .poll(() => target.lines().some((line) => /POST \/api\/send-sms 201 [\d.]+ ms/.test(line)))
      .toBe(true);
    expect(target.lines().filter((line) => line.startsWith('{"level"'))).toEqual([]);
  });
});
