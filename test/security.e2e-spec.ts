import { createHash } from 'node:crypto';
import { Client } from 'pg';
import request from 'supertest';
import { generateApiKeySecret, RouteRules } from '@app/auth';
import { type IssuedKey, issuePhoneKey, revokeKey } from './factories/api-key.factory.js';
import { buildSmsEvent, randomPhone } from './factories/sms-event.factory.js';
import { startTestApp, type TestApp } from './setup/test-app.js';

/**
 * Who may do what, over HTTP on a real PostgreSQL, on both HTTP platforms:
 * every route × every kind of credential, each with its expected status, and
 * nothing written by a refused request.
 */

type Method = 'get' | 'post' | 'delete';

interface PreparedRequest {
  method: Method;
  path: string;
  body?: object;
  /** An event stream: read the status and headers, then hang up. */
  stream?: true;
}

interface Fixture {
  testApp: TestApp;
  /** The number the "right" phone key holds; every request acts for it. */
  me: string;
}

interface RouteCase {
  /** A request acting for `me`, built afresh for every credential (a new uuid, a new key to revoke). */
  prepare(fixture: Fixture): PreparedRequest | Promise<PreparedRequest>;
  /** With the key of `me`. */
  own: number;
  /** With the key of another number. */
  foreign: number;
  admin: number;
}

const inPath = encodeURIComponent;
const asAdmin = (testApp: TestApp) => `Bearer ${testApp.adminKey}`;

/** A public address (no DNS needed); test apps run no webhook worker, so nothing is posted. */
const PUBLIC_RECEIVER = 'https://93.184.215.14/hooks';

/** A webhook for `me`, created with the admin key. */
async function webhookFor({ testApp, me }: Fixture): Promise<string> {
  const response = await request(testApp.baseUrl)
    .post('/api/webhooks')
    .set('Authorization', asAdmin(testApp))
    .send({ url: PUBLIC_RECEIVER, events: ['message.created'], phones: [me] })
    .expect(201);
  return (response.body as { id: string }).id;
}

/** A finished attempt of webhook `id`, as the worker would have stored it. */
async function deliveryOf({ testApp }: Fixture, id: string): Promise<string> {
  const db = new Client({ connectionString: testApp.databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ id: string }>(
      `WITH e AS (
         INSERT INTO webhook_events (webhook_id, type, message_uuid, viewer, state, finished_at)
         VALUES ($1, 'message.created', gen_random_uuid(), '+12025550143', 'delivered', now())
         RETURNING id, event_id, message_uuid)
       INSERT INTO webhook_deliveries
         (webhook_id, event_row, event_id, type, message_uuid, status_code, latency_ms, accepted)
       SELECT $1, id, event_id, 'message.created', message_uuid, 200, 5, true FROM e
       RETURNING id::text`,
      [id],
    );
    return rows[0].id;
  } finally {
    await db.end();
  }
}

/** One entry per route, keyed as in the OpenAPI document. */
const ROUTES: Record<string, RouteCase> = {
  'POST /api/send-sms': {
    prepare: ({ me }) => ({
      method: 'post',
      path: '/api/send-sms',
      body: buildSmsEvent({ senderPhone: me, receiverPhone: randomPhone() }),
    }),
    own: 201,
    foreign: 403,
    admin: 201,
  },
  'POST /api/receive-sms': {
    prepare: ({ me }) => ({
      method: 'post',
      path: '/api/receive-sms',
      body: buildSmsEvent({ senderPhone: randomPhone(), receiverPhone: me }),
    }),
    own: 201,
    foreign: 403,
    admin: 201,
  },
  'GET /api/get-conversation/{phone_number}': {
    prepare: ({ me }) => ({ method: 'get', path: `/api/get-conversation/${inPath(me)}` }),
    own: 200,
    foreign: 403,
    admin: 200,
  },
  'GET /api/phones/{phone}/conversations': {
    prepare: ({ me }) => ({ method: 'get', path: `/api/phones/${inPath(me)}/conversations` }),
    own: 200,
    foreign: 403,
    admin: 200,
  },
  'GET /api/phones/{phone}/conversations/{counterpart}/messages': {
    prepare: ({ me }) => ({
      method: 'get',
      path: `/api/phones/${inPath(me)}/conversations/${inPath(randomPhone())}/messages`,
    }),
    own: 200,
    foreign: 403,
    admin: 200,
  },
  'GET /api/phones/{phone}/search': {
    prepare: ({ me }) => ({ method: 'get', path: `/api/phones/${inPath(me)}/search?q=hello` }),
    own: 200,
    foreign: 403,
    admin: 200,
  },
  'GET /api/phones/{phone}/export': {
    prepare: ({ me }) => ({ method: 'get', path: `/api/phones/${inPath(me)}/export` }),
    own: 200,
    foreign: 403,
    admin: 200,
  },
  'GET /api/messages/{uuid}': {
    prepare: async ({ testApp, me }) => {
      const event = buildSmsEvent({ senderPhone: me, receiverPhone: randomPhone() });
      await request(testApp.baseUrl)
        .post('/api/send-sms')
        .set('Authorization', asAdmin(testApp))
        .send(event)
        .expect(201);
      return { method: 'get', path: `/api/messages/${event.uuid}` };
    },
    own: 200,
    // A stranger cannot even learn that the uuid exists.
    foreign: 404,
    admin: 200,
  },
  'POST /api/messages': {
    prepare: ({ me }) => ({
      method: 'post',
      path: '/api/messages',
      body: { from: me, to: randomPhone(), text: 'Sent for real' },
    }),
    // Allowed, and refused for the rule that comes next: the number has no outbound gateway.
    own: 422,
    foreign: 403,
    admin: 422,
  },
  'POST /api/messages/import': {
    prepare: ({ me }) => ({
      method: 'post',
      path: '/api/messages/import',
      body: { events: [{ ...buildSmsEvent({ senderPhone: me }), type: 'sent' }] },
    }),
    own: 200,
    // Answered per event ("forbidden"); the write check below proves nothing was stored.
    foreign: 200,
    admin: 200,
  },
  'GET /api/phones/{phone}/events': {
    prepare: ({ me }) => ({
      method: 'get',
      path: `/api/phones/${inPath(me)}/events`,
      stream: true,
    }),
    own: 200,
    foreign: 403,
    admin: 200,
  },
  'GET /api/session': {
    prepare: () => ({ method: 'get', path: '/api/session' }),
    // Every key may ask what it may do itself.
    own: 200,
    foreign: 200,
    admin: 200,
  },
  'DELETE /api/phones/{phone}/messages': {
    // Confirmed, as a phone key must; erasing `me` leaves every other route's answer as it was.
    prepare: ({ me }) => ({
      method: 'delete',
      path: `/api/phones/${inPath(me)}/messages?confirm=${inPath(me)}`,
    }),
    own: 200,
    foreign: 403,
    admin: 200,
  },
  'GET /api/audit': {
    prepare: () => ({ method: 'get', path: '/api/audit' }),
    own: 403,
    foreign: 403,
    admin: 200,
  },
  'POST /api/keys': {
    prepare: () => ({
      method: 'post',
      path: '/api/keys',
      body: { label: 'another phone', phones: [randomPhone()] },
    }),
    own: 403,
    foreign: 403,
    admin: 201,
  },
  'GET /api/keys': {
    prepare: () => ({ method: 'get', path: '/api/keys' }),
    own: 403,
    foreign: 403,
    admin: 200,
  },
  'DELETE /api/keys/{id}': {
    prepare: async ({ testApp }) => {
      const { id } = await issuePhoneKey(testApp, [randomPhone()]);
      return { method: 'delete', path: `/api/keys/${id}` };
    },
    own: 403,
    foreign: 403,
    admin: 204,
  },
  'POST /api/gateways': {
    prepare: () => ({
      method: 'post',
      path: '/api/gateways',
      body: {
        provider: 'textbee',
        label: 'a phone',
        phones: [randomPhone()],
        secret: 'x'.repeat(32),
      },
    }),
    own: 403,
    foreign: 403,
    admin: 201,
  },
  'GET /api/gateways': {
    prepare: () => ({ method: 'get', path: '/api/gateways' }),
    own: 403,
    foreign: 403,
    admin: 200,
  },
  'DELETE /api/gateways/{id}': {
    prepare: async ({ testApp }) => {
      const response = await request(testApp.baseUrl)
        .post('/api/gateways')
        .set('Authorization', asAdmin(testApp))
        .send({ provider: 'textbee', label: 'x', phones: [randomPhone()], secret: 'x'.repeat(32) })
        .expect(201);
      return { method: 'delete', path: `/api/gateways/${(response.body as { id: string }).id}` };
    },
    own: 403,
    foreign: 403,
    admin: 204,
  },
  'POST /api/webhooks': {
    prepare: ({ me }) => ({
      method: 'post',
      path: '/api/webhooks',
      body: { url: PUBLIC_RECEIVER, events: ['message.created'], phones: [me] },
    }),
    own: 201,
    foreign: 403,
    admin: 201,
  },
  'GET /api/webhooks': {
    // Each key sees the webhooks it manages.
    prepare: () => ({ method: 'get', path: '/api/webhooks' }),
    own: 200,
    foreign: 200,
    admin: 200,
  },
  'DELETE /api/webhooks/{id}': {
    prepare: async (fixture) => ({
      method: 'delete',
      path: `/api/webhooks/${await webhookFor(fixture)}`,
    }),
    own: 204,
    foreign: 404,
    admin: 204,
  },
  'GET /api/webhooks/{id}/deliveries': {
    prepare: async (fixture) => ({
      method: 'get',
      path: `/api/webhooks/${await webhookFor(fixture)}/deliveries`,
    }),
    own: 200,
    foreign: 404,
    admin: 200,
  },
  'POST /api/webhooks/{id}/deliveries/{deliveryId}/redeliver': {
    prepare: async (fixture) => {
      const id = await webhookFor(fixture);
      return {
        method: 'post',
        path: `/api/webhooks/${id}/deliveries/${await deliveryOf(fixture, id)}/redeliver`,
      };
    },
    own: 202,
    foreign: 404,
    admin: 202,
  },
};

/** No API key at all: the sender's signature authenticates them (test/gateways.e2e-spec.ts). */
const SIGNED_BY_SENDER = ['POST /api/gateways/{id}/webhook'];

interface Keys {
  own: IssuedKey;
  foreign: IssuedKey;
  revoked: IssuedKey;
  admin: string;
}

const CREDENTIALS: Array<{
  credential: string;
  header: (keys: Keys) => string | undefined;
  expected: (route: RouteCase) => number;
}> = [
  { credential: 'no key', header: () => undefined, expected: () => 401 },
  { credential: 'a malformed header', header: () => 'Basic dXNlcjpwYXNz', expected: () => 401 },
  {
    credential: 'an unknown key',
    header: () => `Bearer ${generateApiKeySecret()}`,
    expected: () => 401,
  },
  {
    credential: 'a revoked key',
    header: (keys) => keys.revoked.authorization,
    expected: () => 401,
  },
  {
    credential: 'the key of another number',
    header: (keys) => keys.foreign.authorization,
    expected: (route) => route.foreign,
  },
  {
    credential: 'the right phone key',
    header: (keys) => keys.own.authorization,
    expected: (route) => route.own,
  },
  { credential: 'the admin key', header: (keys) => keys.admin, expected: (route) => route.admin },
];

const GRANTED = new Set(['the right phone key', 'the admin key']);

const MATRIX = Object.entries(ROUTES).flatMap(([route, routeCase]) =>
  CREDENTIALS.map(({ credential, header, expected }) => ({
    route,
    routeCase,
    credential,
    header,
    status: expected(routeCase),
  })),
);

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string | undefined>;
}

async function send(
  testApp: TestApp,
  prepared: PreparedRequest,
  authorization?: string,
): Promise<Answer> {
  if (prepared.stream) {
    const hangUp = new AbortController();
    const response = await fetch(`${testApp.baseUrl}${prepared.path}`, {
      headers: authorization === undefined ? {} : { Authorization: authorization },
      signal: hangUp.signal,
    });
    const body = response.ok ? {} : ((await response.json()) as Record<string, unknown>);
    hangUp.abort();
    return { status: response.status, body, headers: Object.fromEntries(response.headers) };
  }
  const test = request(testApp.baseUrl)[prepared.method](prepared.path);
  if (authorization !== undefined) test.set('Authorization', authorization);
  const response = await (prepared.body === undefined ? test : test.send(prepared.body));
  return { status: response.status, body: response.body, headers: response.headers };
}

/** A digest of every row of every table, to show that a refused request wrote nothing. */
async function fingerprint(db: Client): Promise<string> {
  const { rows: tables } = await db.query<{ name: string }>(
    `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migrations' ORDER BY 1`,
  );
  const digests: string[] = [];
  for (const { name } of tables) {
    const table = db.escapeIdentifier(name);
    const { rows } = await db.query<{ digest: string }>(
      `SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) AS digest FROM ${table} t`,
    );
    digests.push(`${name}:${rows[0].digest}`);
  }
  return digests.join(' ');
}

/** Nest's `:param` route as the OpenAPI document writes it, with the global prefix. */
const openApiKey = (method: string, path: string) =>
  `${method} /api${path.replace(/:(\w+)/g, '{$1}')}`;

describe.each(['express', 'fastify'])('Security on %s (e2e)', (platform) => {
  let testApp: TestApp;
  let db: Client;
  let keys: Keys;
  const me = randomPhone();
  const other = randomPhone();

  beforeAll(async () => {
    testApp = await startTestApp({ HTTP_ADAPTER: platform });
    db = new Client({ connectionString: testApp.databaseUrl });
    await db.connect();
    const revoked = await issuePhoneKey(testApp, [me]);
    await revokeKey(testApp, revoked.id);
    keys = {
      own: await issuePhoneKey(testApp, [me]),
      foreign: await issuePhoneKey(testApp, [other]),
      revoked,
      admin: asAdmin(testApp),
    };
  });

  afterAll(async () => {
    await db?.end();
    await testApp?.close();
  });

  describe('every route × every credential', () => {
    it.each(MATRIX)(
      '$route with $credential answers $status',
      async ({ routeCase, credential, header, status }) => {
        const prepared = await routeCase.prepare({ testApp, me });
        const before = await fingerprint(db);

        const response = await send(testApp, prepared, header(keys));

        expect(response.status, JSON.stringify(response.body)).toBe(status);
        if (status >= 400) {
          expect(response.body).toMatchObject({ statusCode: status, message: expect.any(String) });
        }
        if (status === 401) {
          expect(response.headers['www-authenticate']).toMatch(/^Bearer\b/);
        }
        if (!GRANTED.has(credential)) {
          expect(await fingerprint(db)).toBe(before);
        }
      },
    );

    it('covers every route the app serves, each with an auth rule, and documents them all', async () => {
      const routes = testApp.app.get(RouteRules).routes();
      expect(routes.filter((route) => route.rule === undefined)).toEqual([]);

      const guarded = routes
        .filter((route) => route.rule?.kind !== 'public' && route.rule?.kind !== 'signedBySender')
        .map((route) => openApiKey(route.method, route.path));
      expect(guarded.toSorted()).toEqual(Object.keys(ROUTES).toSorted());
      const signed = routes
        .filter((route) => route.rule?.kind === 'signedBySender')
        .map((route) => openApiKey(route.method, route.path));
      expect(signed).toEqual(SIGNED_BY_SENDER);

      const document = (await request(testApp.baseUrl).get('/api/docs-json').expect(200)).body;
      const documented = Object.entries(
        document.paths as Record<string, Record<string, unknown>>,
      ).flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
      );
      expect(documented).toEqual(expect.arrayContaining(guarded));
    });

    it('lets anyone reach the public routes', async () => {
      const publicRoutes = testApp.app
        .get(RouteRules)
        .routes()
        .filter((route) => route.rule?.kind === 'public' && route.method === 'GET')
        .filter((route) => !route.path.includes(':'));
      for (const route of publicRoutes) {
        // Under the global prefix, unless the route is excluded from it (like /metrics).
        const statuses = await Promise.all(
          [`/api${route.path}`, route.path].map(
            async (path) => (await request(testApp.baseUrl).get(path)).status,
          ),
        );
        const name = `${route.method} ${route.path}: ${statuses.join(', ')}`;
        expect(
          statuses.some((status) => status !== 404),
          name,
        ).toBe(true);
        expect(
          statuses.some((status) => status === 401 || status === 403),
          name,
        ).toBe(false);
      }
      await request(testApp.baseUrl).get('/api/docs-json').expect(200);
    });
  });

  describe('the OpenAPI document', () => {
    it('offers the bearer scheme and lists the 401/403/429 of every protected operation', async () => {
      const document = (await request(testApp.baseUrl).get('/api/docs-json').expect(200)).body;
      expect(document.components.securitySchemes.bearer).toMatchObject({
        type: 'http',
        scheme: 'bearer',
      });
      for (const route of testApp.app.get(RouteRules).routes()) {
        if (
          route.rule === undefined ||
          route.rule.kind === 'public' ||
          route.rule.kind === 'signedBySender'
        ) {
          continue;
        }
        const [method, path] = openApiKey(route.method, route.path).split(' ');
        const operation = document.paths[path][method.toLowerCase()];
        const name = `${method} ${path}`;
        expect(operation.security, name).toContainEqual({ bearer: [] });
        expect(Object.keys(operation.responses), name).toEqual(
          expect.arrayContaining(
            route.rule.kind === 'perObject' ? ['401', '429'] : ['401', '403', '429'],
          ),
        );
      }
    });
  });

  describe('what a phone key can tell', () => {
    it('accepts its number in any format the API reads', async () => {
      const national = me.replace(/^\+1(\d{3})(\d{3})(\d{4})$/, '($1) $2-$3');
      await request(testApp.baseUrl)
        .get(`/api/get-conversation/${inPath(national)}`)
        .set('Authorization', keys.own.authorization)
        .expect(200);
      await request(testApp.baseUrl)
        .post('/api/send-sms')
        .set('Authorization', keys.own.authorization)
        .send(buildSmsEvent({ senderPhone: national }))
        .expect(201);
    });

    it.each([
      ['an unreadable sender', { senderPhone: 'not a number' }],
      ['a missing sender', { senderPhone: undefined }],
      ['a sender ID', { senderPhone: 'ACMEBANK' }],
      ['a number as JSON number', { senderPhone: 12025550143 }],
    ])('gets 403 for %s, where the admin key gets 400', async (_, override) => {
      const event = { ...buildSmsEvent(), ...override };
      const before = await fingerprint(db);
      await request(testApp.baseUrl)
        .post('/api/send-sms')
        .set('Authorization', keys.own.authorization)
        .send(event)
        .expect(403);
      await request(testApp.baseUrl)
        .post('/api/send-sms')
        .set('Authorization', keys.admin)
        .send(event)
        .expect(400);
      expect(await fingerprint(db)).toBe(before);
    });

    it('gets 403 for an unreadable number in the path, where the admin key gets 400', async () => {
      const path = `/api/get-conversation/${inPath('garbage!')}`;
      await request(testApp.baseUrl)
        .get(path)
        .set('Authorization', keys.own.authorization)
        .expect(403);
      await request(testApp.baseUrl).get(path).set('Authorization', keys.admin).expect(400);
    });

    it('still gets 415 for a body that is not JSON', async () => {
      await request(testApp.baseUrl)
        .post('/api/send-sms')
        .set('Authorization', keys.own.authorization)
        .set('Content-Type', 'text/plain')
        .send('hello')
        .expect(415);
    });

    it('sees a foreign event of a batch refused on its own', async () => {
      const mine = { ...buildSmsEvent({ senderPhone: me }), type: 'sent' };
      const theirs = { ...buildSmsEvent({ senderPhone: other }), type: 'sent' };
      const response = await request(testApp.baseUrl)
        .post('/api/messages/import')
        .set('Authorization', keys.own.authorization)
        .send({ events: [mine, theirs] })
        .expect(200);
      expect(response.body.results.map((result: { outcome: string }) => result.outcome)).toEqual([
        'created',
        'forbidden',
      ]);
      const stored = await db.query('SELECT uuid FROM messages WHERE uuid = ANY($1)', [
        [mine.uuid, theirs.uuid],
      ]);
      expect(stored.rows.map((row) => row.uuid)).toEqual([mine.uuid]);
    });
  });

  describe('the Authorization header', () => {
    it.each([
      ['a Basic scheme', () => 'Basic dXNlcjpwYXNz'],
      ['a bare scheme', () => 'Bearer'],
      ['an empty token', () => 'Bearer '],
      ['two tokens', () => `${keys.admin} extra`],
      ['another scheme', () => keys.admin.replace('Bearer', 'Token')],
      ['characters a token cannot hold', () => 'Bearer sms_"quoted"'],
    ])('answers %s with 401 and a Bearer challenge', async (_, header) => {
      const response = await request(testApp.baseUrl)
        .get('/api/keys')
        .set('Authorization', header())
        .expect(401);
      expect(response.headers['www-authenticate']).toBe(
        'Bearer realm="sms-service", error="invalid_request"',
      );
      expect(response.body).toMatchObject({
        statusCode: 401,
        error: 'Unauthorized',
        message: 'The Authorization header must be "Bearer <API key>"',
      });
    });

    it('tells a missing key from an unknown one only in the challenge', async () => {
      const missing = await request(testApp.baseUrl).get('/api/keys').expect(401);
      expect(missing.headers['www-authenticate']).toBe('Bearer realm="sms-service"');
      const unknown = await request(testApp.baseUrl)
        .get('/api/keys')
        .set('Authorization', `Bearer ${generateApiKeySecret()}`)
        .expect(401);
      expect(unknown.headers['www-authenticate']).toBe(
        'Bearer realm="sms-service", error="invalid_token"',
      );
      const revoked = await request(testApp.baseUrl)
        .get('/api/keys')
        .set('Authorization', keys.revoked.authorization)
        .expect(401);
      expect(revoked.body.message).toBe(unknown.body.message);
      expect(revoked.headers['www-authenticate']).toBe(unknown.headers['www-authenticate']);
    });

    it('reads the scheme case-insensitively', async () => {
      await request(testApp.baseUrl)
        .get('/api/keys')
        .set('Authorization', keys.admin.replace('Bearer', 'bearer'))
        .expect(200);
    });
  });

  describe('the key endpoints', () => {
    const admin = () => request.agent(testApp.baseUrl).set('Authorization', keys.admin);

    it('store numbers normalized, once each, and only the hash of the secret', async () => {
      const created = await admin()
        .post('/api/keys')
        .send({ label: 'gateway', phones: ['+1 (202) 555-0143', '2025550143', other] })
        .expect(201);
      const { id, key } = created.body;
      expect(created.body).toMatchObject({ label: 'gateway', phones: ['+12025550143', other] });
      expect(key).toMatch(/^sms_[A-Za-z0-9_-]{43}$/);

      const listed = await admin().get('/api/keys').expect(200);
      expect(JSON.stringify(listed.body)).not.toContain(key);
      expect(listed.body.keys).toContainEqual({
        id,
        label: 'gateway',
        keyPrefix: key.slice(0, 10),
        phones: ['+12025550143', other],
        createdAt: created.body.createdAt,
        revokedAt: null,
      });

      const { rows } = await db.query('SELECT * FROM api_keys WHERE id = $1', [id]);
      expect(JSON.stringify(rows[0])).not.toContain(key.slice(10));
      expect(rows[0].key_hash.toString('hex')).toBe(createHash('sha256').update(key).digest('hex'));
    });

    it('refuse a bad number, naming it, and store nothing', async () => {
      const before = await fingerprint(db);
      const response = await admin()
        .post('/api/keys')
        .send({ label: 'x', phones: ['+12025550143', 'not a number'] })
        .expect(400);
      expect(response.body.details).toEqual([
        { field: 'phones[1]', problem: 'must be a phone number' },
      ]);
      expect(await fingerprint(db)).toBe(before);
    });

    it('revoke with 204, again harmlessly, and answer an unknown id with 404', async () => {
      const { id } = await issuePhoneKey(testApp, [randomPhone()]);
      await admin().delete(`/api/keys/${id}`).expect(204);
      const { rows } = await db.query('SELECT revoked_at FROM api_keys WHERE id = $1', [id]);
      await admin().delete(`/api/keys/${id}`).expect(204);
      const again = await db.query('SELECT revoked_at FROM api_keys WHERE id = $1', [id]);
      expect(again.rows[0].revoked_at).toEqual(rows[0].revoked_at);
      const listed = await admin().get('/api/keys').expect(200);
      expect(listed.body.keys.find((key: { id: string }) => key.id === id).revokedAt).toEqual(
        rows[0].revoked_at.toISOString(),
      );
      await admin().delete('/api/keys/0b7d6f0e-3c2a-4f57-9a3e-2f1d9c8b7a65').expect(404);
      await admin().delete('/api/keys/not-a-uuid').expect(400);
    });
  });

  describe('hardened HTTP', () => {
    it('sends the helmet headers and no x-powered-by, on answers and errors alike', async () => {
      for (const authorization of [keys.admin, undefined]) {
        const response = await send(testApp, { method: 'get', path: '/api/keys' }, authorization);
        expect(response.headers['x-powered-by']).toBeUndefined();
        expect(response.headers['x-content-type-options']).toBe('nosniff');
        expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
        expect(response.headers['strict-transport-security']).toMatch(/max-age=\d+/);
        expect(response.headers['content-security-policy']).toContain("default-src 'self'");
        expect(response.headers['content-security-policy']).not.toContain(
          'upgrade-insecure-requests',
        );
      }
    });

    it('answers no browser origin by default', async () => {
      const response = await request(testApp.baseUrl)
        .options('/api/keys')
        .set('Origin', 'https://evil.example')
        .set('Access-Control-Request-Method', 'GET');
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
    });
  });

  describe('with tight limits', () => {
    let limited: TestApp;
    let phoneKey: IssuedKey;

    beforeAll(async () => {
      limited = await startTestApp({
        HTTP_ADAPTER: platform,
        THROTTLE_LIMIT: '5',
        AUTH_FAILURE_LIMIT: '3',
        CORS_ORIGINS: 'https://app.example.com, https://admin.example.com',
      });
      phoneKey = await issuePhoneKey(limited, [me]);
    });

    afterAll(async () => {
      await limited?.close();
    });

    it('answers 429 with Retry-After once a key has used its requests, and only for that key', async () => {
      const conversation = `/api/get-conversation/${inPath(me)}`;
      for (let call = 1; call <= 5; call += 1) {
        await request(limited.baseUrl)
          .get(conversation)
          .set('Authorization', phoneKey.authorization)
          .expect(200);
      }
      const refused = await request(limited.baseUrl)
        .get(conversation)
        .set('Authorization', phoneKey.authorization)
        .expect(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(refused.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
      expect(refused.body.message).toMatch(/API key/);
      // The admin key has its own budget (it issued phoneKey: one request used).
      await request(limited.baseUrl)
        .get('/api/keys')
        .set('Authorization', asAdmin(limited))
        .expect(200);
    });

    it('answers 429 after the configured number of failed authentications, even to a right key', async () => {
      for (let attempt = 1; attempt <= 3; attempt += 1) {
        await request(limited.baseUrl)
          .get('/api/keys')
          .set('Authorization', `Bearer ${generateApiKeySecret()}`)
          .expect(401);
      }
      const blocked = await request(limited.baseUrl)
        .get('/api/keys')
        .set('Authorization', `Bearer ${generateApiKeySecret()}`)
        .expect(429);
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      expect(blocked.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
      // A blocked address cannot tell a right guess from a wrong one.
      await request(limited.baseUrl)
        .get('/api/keys')
        .set('Authorization', asAdmin(limited))
        .expect(429);
      // No key at all is not a guess: still a plain 401.
      await request(limited.baseUrl).get('/api/keys').expect(401);
    });

    it('answers CORS preflights for the listed origins only', async () => {
      const preflight = (origin: string) =>
        request(limited.baseUrl)
          .options('/api/send-sms')
          .set('Origin', origin)
          .set('Access-Control-Request-Method', 'POST')
          .set('Access-Control-Request-Headers', 'authorization, content-type');
      const allowed = await preflight('https://admin.example.com');
      expect(allowed.status).toBeLessThan(300);
      expect(allowed.headers['access-control-allow-origin']).toBe('https://admin.example.com');
      expect(allowed.headers['access-control-allow-headers']).toMatch(/authorization/i);
      const refused = await preflight('https://evil.example');
      expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    });
  });
});

describe('Revocation (e2e)', () => {
  let first: TestApp;
  let second: TestApp;

  beforeAll(async () => {
    first = await startTestApp();
    second = await startTestApp({ DATABASE_URL: first.databaseUrl, ADMIN_API_KEY: first.adminKey });
  });

  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it('takes effect within 5 s on another instance while a client keeps calling', async () => {
    const me = randomPhone();
    const key = await issuePhoneKey(first, [me]);
    const call = () =>
      request(first.baseUrl)
        .get(`/api/get-conversation/${inPath(me)}`)
        .set('Authorization', key.authorization)
        .then((response) => response.status);

    // The key is in use (and so cached) on the first instance...
    for (let i = 0; i < 3; i += 1) expect(await call()).toBe(200);
    // ...when the second instance revokes it.
    await revokeKey(second, key.id);
    const revokedAt = Date.now();

    const statuses: number[] = [];
    while (Date.now() - revokedAt < 6_000) {
      statuses.push(await call());
      if (statuses.at(-1) === 401) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const effectiveAfter = Date.now() - revokedAt;
    expect(statuses.at(-1)).toBe(401);
    expect(effectiveAfter).toBeLessThan(5_000);
    expect(statuses.slice(0, -1).every((status) => status === 200)).toBe(true);
    // And it stays revoked.
    for (let i = 0; i < 3; i += 1) expect(await call()).toBe(401);
  });

  it('takes effect at once on the instance that revoked it', async () => {
    const me = randomPhone();
    const key = await issuePhoneKey(first, [me]);
    const path = `/api/get-conversation/${inPath(me)}`;
    await request(first.baseUrl).get(path).set('Authorization', key.authorization).expect(200);
    await revokeKey(first, key.id);
    await request(first.baseUrl).get(path).set('Authorization', key.authorization).expect(401);
  });
});
