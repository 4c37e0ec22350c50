import { connect } from 'node:net';
import { Client } from 'pg';
import { buildSmsEvent, randomPhone } from './factories/sms-event.factory.js';
import { startTestApp, type TestApp } from './setup/test-app.js';

/**
 * Input an attacker or a broken client sends: each class gets a clear 4xx in
 * the one error shape, never a 500, and writes nothing.
 */
describe.each(['express', 'fastify'])('Hostile input on %s (e2e)', (platform) => {
  let testApp: TestApp;
  let db: Client;

  beforeAll(async () => {
    testApp = await startTestApp({
      HTTP_ADAPTER: platform,
      HTTP_HEADERS_TIMEOUT_MS: '1000',
      HTTP_REQUEST_TIMEOUT_MS: '2000',
    });
    db = new Client({ connectionString: testApp.databaseUrl });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await testApp?.close();
  });

  const headers = () => ({
    Authorization: `Bearer ${testApp.adminKey}`,
    'Content-Type': 'application/json',
  });
  const post = (path: string, body: string | Buffer) =>
    fetch(`${testApp.baseUrl}${path}`, {
      method: 'POST',
      headers: headers(),
      body: typeof body === 'string' ? body : new Uint8Array(body),
    });
  const get = (path: string) => fetch(`${testApp.baseUrl}${path}`, { headers: headers() });
  const stored = async (uuid: string) =>
    Number((await db.query('SELECT count(*) FROM messages WHERE uuid = $1', [uuid])).rows[0].count);

  /** A 4xx in the common error shape; returns its body. */
  async function refused(response: Response, status: number) {
    const body = (await response.json()) as {
      statusCode: number;
      error: string;
      message: string;
      details?: Array<{ field: string; problem: string }>;
    };
    expect(response.status, JSON.stringify(body)).toBe(status);
    expect(body).toMatchObject({ statusCode: status, error: expect.any(String) });
    expect(JSON.stringify(body)).not.toMatch(/at .*\.(js|ts):\d+/);
    return body;
  }

  describe('text PostgreSQL cannot store exactly', () => {
    it.each([
      ['NUL', 'hello\u0000world', /NUL/],
      ['a lone high surrogate', 'x\ud800y', /unpaired surrogate/],
      ['a lone low surrogate', 'x\udc00y', /unpaired surrogate/],
    ])(
      'refuses a messageText with %s, naming the field, and stores nothing',
      async (_, text, problem) => {
        const event = buildSmsEvent({ messageText: text });
        const body = await refused(await post('/api/send-sms', JSON.stringify(event)), 400);
        expect(body.details).toEqual([
          { field: 'messageText', problem: expect.stringMatching(problem) },
        ]);
        expect(await stored(event.uuid)).toBe(0);
      },
    );

    it('refuses a key label with NUL', async () => {
      const response = await post(
        '/api/keys',
        JSON.stringify({ label: 'front\u0000desk', phones: [randomPhone()] }),
      );
      const body = await refused(response, 400);
      expect(body.details?.[0]).toMatchObject({ field: 'label' });
    });

    it('gives each import event its own outcome, NUL and lone surrogates included', async () => {
      const phone = randomPhone();
      const events = [
        { ...buildSmsEvent({ senderPhone: phone }), type: 'sent' },
        { ...buildSmsEvent({ senderPhone: phone, messageText: 'a\u0000b' }), type: 'sent' },
        { ...buildSmsEvent({ senderPhone: phone, messageText: '\ud83d' }), type: 'sent' },
      ];
      const response = await post('/api/messages/import', JSON.stringify({ events }));
      expect(response.status).toBe(200);
      const body = (await response.json()) as { results: Array<{ outcome: string }> };
      expect(body.results.map((result) => result.outcome)).toEqual([
        'created',
        'invalid',
        'invalid',
      ]);
      expect(await stored(events[1].uuid)).toBe(0);
    });

    it('stores a well-formed surrogate pair exactly, and a replay of it is a replay', async () => {
      const event = buildSmsEvent({ messageText: 'emoji 😀 ok' });
      expect((await post('/api/send-sms', JSON.stringify(event))).status).toBe(201);
      expect((await post('/api/send-sms', JSON.stringify(event))).status).toBe(200);
    });
  });

  describe('bytes that are not UTF-8', () => {
    it.each([
      ['a stray ff', [0xff]],
      ['an overlong c0 af', [0xc0, 0xaf]],
      ['a truncated e2 82', [0xe2, 0x82]],
      ['an encoded surrogate ed a0 80', [0xed, 0xa0, 0x80]],
    ])('refuses %s inside a string with 400, storing nothing', async (_, bytes) => {
      const event = buildSmsEvent({ messageText: 'XX' });
      const [before, after] = JSON.stringify(event).split('XX');
      const body = Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]);
      const answer = await refused(await post('/api/send-sms', body), 400);
      expect(answer.details).toEqual([{ field: 'body', problem: 'is not valid UTF-8' }]);
      expect(await stored(event.uuid)).toBe(0);
    });
  });

  describe('deeply nested JSON', () => {
    const deep = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
    it.each([
      [
        'in a field',
        (e: string) => e.replace('"messageText":"', `"messageText":${deep(10_000)},"x":"`),
      ],
      ['in an extra field', (e: string) => e.replace('{', `{"extra":${deep(10_000)},`)],
      ['as the whole body', () => deep(10_000)],
    ])('refuses 10,000 levels %s with 400', async (_, build) => {
      const event = buildSmsEvent();
      const body = await refused(await post('/api/send-sms', build(JSON.stringify(event))), 400);
      expect(body.details).toEqual([{ field: 'body', problem: 'nests deeper than 32 levels' }]);
      expect(await stored(event.uuid)).toBe(0);
    });

    it('refuses it inside an import event with 400', async () => {
      const body = `{"events":[{"type":"sent","nested":${deep(10_000)}}]}`;
      await refused(await post('/api/messages/import', body), 400);
    });
  });

  describe('query numbers and cursors', () => {
    const me = randomPhone();
    const other = randomPhone();
    const thread = `/api/phones/${encodeURIComponent(me)}/conversations/${encodeURIComponent(other)}/messages`;

    it.each(['since=1e20', 'until=1e20', 'since=-1', 'until=99999999999999'])(
      'answers %s with 400',
      async (query) => {
        await refused(await get(`${thread}?${query}`), 400);
      },
    );

    const handMade = (payload: unknown) =>
      `${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${'A'.repeat(22)}`;
    it.each([
      ['a thread', thread, `thread:${[me, other].sort().join(':')}`],
      ['get-conversation', `/api/get-conversation/${encodeURIComponent(me)}`, `conversation:${me}`],
      ['the thread list', `/api/phones/${encodeURIComponent(me)}/conversations`, `threads:${me}`],
    ])('refuses hand-made cursors on %s with 400', async (_, path, scope) => {
      for (const payload of [
        [2, scope, 1_764_000_000, 'not-a-uuid'],
        [2, scope, 1e300, '5f0c6f1e-8d2b-4c7e-9a51-3c1d2b8e7f40'],
        [2, scope, -1e300, '+12025550143'],
        [1, scope, 1_764_000_000, '5f0c6f1e-8d2b-4c7e-9a51-3c1d2b8e7f40'],
      ]) {
        const body = await refused(await get(`${path}?before=${handMade(payload)}`), 400);
        expect(body.details?.[0].field).toBe('before');
      }
      // The version before cursors were signed, exactly as it used to look.
      const unsigned = Buffer.from(JSON.stringify([1, scope, 1, 'k'])).toString('base64url');
      await refused(await get(`${path}?before=${unsigned}`), 400);
    });
  });

  describe('slow clients', () => {
    /** Opens a raw connection, sends `data`, and resolves with what the server answered and when. */
    const stall = (data: string) =>
      new Promise<{ answer: string; afterMs: number }>((resolve) => {
        const started = Date.now();
        const { port } = new URL(testApp.baseUrl);
        const socket = connect(Number(port), '127.0.0.1', () => socket.write(data));
        let answer = '';
        socket.on('data', (chunk) => (answer += String(chunk)));
        socket.on('close', () => resolve({ answer, afterMs: Date.now() - started }));
        socket.on('error', () => undefined);
      });

    it('answers a stalled body with 408 and closes, while other clients are served', async () => {
      const stalled = stall(
        [
          'POST /api/send-sms HTTP/1.1',
          'Host: localhost',
          `Authorization: Bearer ${testApp.adminKey}`,
          'Content-Type: application/json',
          'Content-Length: 100',
          '',
          '{"uuid":"1',
        ].join('\r\n'),
      );
      // Served meanwhile.
      expect((await get(`/api/get-conversation/${encodeURIComponent(randomPhone())}`)).status).toBe(
        200,
      );
      const { answer, afterMs } = await stalled;
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
      // HTTP_REQUEST_TIMEOUT_MS is 2 s; Node checks every second.
      expect(afterMs).toBeGreaterThanOrEqual(1_900);
      expect(afterMs).toBeLessThan(4_500);
    });

    it('closes a connection whose headers never finish', async () => {
      const { answer, afterMs } = await stall('GET /api/health/live HTTP/1.1\r\nHost: local');
      expect(answer === '' || /^HTTP\/1\.1 408/.test(answer)).toBe(true);
      // HTTP_HEADERS_TIMEOUT_MS is 1 s.
      expect(afterMs).toBeLessThan(3_500);
    });
  });

  describe('overlong path parameters', () => {
    it('answers a 2,000-character number in the path with 400 in the common shape', async () => {
      await refused(await get(`/api/get-conversation/${'1'.repeat(2_000)}`), 400);
      await refused(await get(`/api/messages/${'a'.repeat(2_000)}`), 400);
    });
  });

  describe('caching', () => {
    it('marks answers with secrets or message texts no-store', async () => {
      const key = await post(
        '/api/keys',
        JSON.stringify({ label: 'cache test', phones: [randomPhone()] }),
      );
      expect(key.status).toBe(201);
      expect(key.headers.get('cache-control')).toBe('no-store');
      const conversation = await get(`/api/get-conversation/${encodeURIComponent(randomPhone())}`);
      expect(conversation.headers.get('cache-control')).toBe('no-store');
    });
  });
});
