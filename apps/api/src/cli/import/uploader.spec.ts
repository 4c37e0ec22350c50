import type { ImportEvent, ImportResponse, ImportResult, ReadItem } from './events.js';
import { OTHER_SIDE, withinScope } from './scope.js';
import { ServiceClient, ServiceError, retryAfter } from './service-client.js';
import { Tally } from './tally.js';
import { Uploader } from './uploader.js';

let sequence = 0;
function buildEvent(overrides: Partial<ImportEvent> = {}): ImportEvent {
  sequence += 1;
  return {
    type: 'sent',
    senderPhone: '+12025550143',
    receiverPhone: '+12025550178',
    messageText: `Hello #${sequence}`,
    timestamp: 1764072000 + sequence,
    uuid: `5f0c6f1e-8d2b-4c7e-9a51-${String(sequence).padStart(12, '0')}`,
    ...overrides,
  };
}

const message = (line: number, ...events: ImportEvent[]): ReadItem => ({
  kind: 'message',
  line,
  events: events.length > 0 ? events : [buildEvent()],
});

/** A reader's output; each item a turn of the event loop later, as from a file. */
async function* items(...all: ReadItem[]): AsyncGenerator<ReadItem> {
  for (const item of all) yield await Promise.resolve(item);
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });

/** The endpoint as a fake: every event created unless `outcomeOf` says otherwise. */
function importAnswer(
  body: { events: ImportEvent[] },
  outcomeOf: (event: ImportEvent) => ImportResult['outcome'] = () => 'created',
): ImportResponse {
  const results = body.events.map((event, index): ImportResult => {
    const outcome = outcomeOf(event);
    return outcome === 'created'
      ? { index, uuid: event.uuid, outcome }
      : {
          index,
          uuid: event.uuid,
          outcome,
          details: [{ field: 'messageText', problem: 'is wrong' }],
        };
  });
  return { results, counts: {} };
}

function clientFor(fetch: typeof globalThis.fetch, retries = 3) {
  const delays: number[] = [];
  const client = new ServiceClient({
    url: 'http://sms.test',
    key: 'sms_secret',
    retries,
    fetch,
    sleep: (ms) => {
      delays.push(ms);
      return Promise.resolve();
    },
  });
  return { client, delays };
}

const answer = (...args: Parameters<typeof json>) => Promise.resolve(json(...args));

const bodyOf = (init?: RequestInit) =>
  JSON.parse(init!.body as string) as { events: ImportEvent[] };

describe('Uploader', () => {
  it('sends batches of at most batch-size events, never splitting a message, and tallies the outcomes', async () => {
    const batches: ImportEvent[][] = [];
    const fetch = vi.fn<typeof globalThis.fetch>((_, init) => {
      const body = bodyOf(init);
      batches.push(body.events);
      return answer(
        200,
        importAnswer(body, (event) => (event.messageText === 'bad' ? 'invalid' : 'created')),
      );
    });
    const tally = new Tally();
    const { client } = clientFor(fetch);
    const pair = buildEvent({ messageText: 'both sides' });
    await new Uploader(client, tally, { batchSize: 3, concurrency: 2 }).run(
      items(
        message(1),
        message(2),
        message(3, pair, { ...pair, type: 'received', timestamp: pair.timestamp + 4 }),
        { kind: 'skipped', line: 4, reason: 'draft' },
        message(5, buildEvent({ messageText: 'bad' })),
        { kind: 'unreadable', line: 6, reason: 'date is missing' },
      ),
    );
    expect(batches.map((batch) => batch.length)).toEqual([2, 3]);
    expect(batches[1].slice(0, 2).map((event) => [event.uuid, event.type])).toEqual([
      [pair.uuid, 'sent'],
      [pair.uuid, 'received'],
    ]);
    expect(fetch.mock.calls[0][1]?.headers).toMatchObject({ authorization: 'Bearer sms_secret' });
    expect(tally.outcomes).toMatchObject({ created: 4, invalid: 1 });
    expect(tally).toMatchObject({ messages: 4, events: 5, unreadable: 1, failureCount: 2 });
    expect(tally.skipped).toEqual(new Map([['draft', 1]]));
    expect(tally.failures).toEqual([
      { line: 6, outcome: 'unreadable', reason: 'date is missing' },
      { line: 5, uuid: expect.any(String), outcome: 'invalid', reason: 'messageText is wrong' },
    ]);
  });

  it('keeps no more than `concurrency` requests in flight, and reads no further ahead', async () => {
    let inFlight = 0;
    let most = 0;
    let read = 0;
    const fetch = vi.fn<typeof globalThis.fetch>(async (_, init) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      const sentWhenRead = read;
      await new Promise((resolve) => setTimeout(resolve, 5));
      // Two batches in flight and one being filled: the reader is at most three batches ahead.
      expect(read - sentWhenRead).toBeLessThanOrEqual(3 * 10);
      inFlight -= 1;
      return json(200, importAnswer(bodyOf(init)));
    });
    async function* many(): AsyncGenerator<ReadItem> {
      for (let line = 1; line <= 200; line += 1) {
        read += 1;
        yield await Promise.resolve(message(line));
      }
    }
    const tally = new Tally();
    await new Uploader(clientFor(fetch).client, tally, { batchSize: 10, concurrency: 2 }).run(
      many(),
    );
    expect(fetch).toHaveBeenCalledTimes(20);
    expect(most).toBe(2);
    expect(tally.outcomes.created).toBe(200);
  });

  it('stops at a refused key, with an auth error', async () => {
    const fetch = vi.fn<typeof globalThis.fetch>(() =>
      answer(401, {
        statusCode: 401,
        error: 'Unauthorized',
        message: 'Invalid or revoked API key',
      }),
    );
    const run = new Uploader(clientFor(fetch).client, new Tally(), {
      batchSize: 1,
      concurrency: 2,
    }).run(items(message(1), message(2), message(3)));
    await expect(run).rejects.toEqual(
      new ServiceError('auth', 'the service refused the key (401): Invalid or revoked API key'),
    );
    expect(fetch.mock.calls.length).toBeLessThanOrEqual(2);
  });
});

describe('ServiceClient', () => {
  it('retries network errors, 429 and 503, honouring Retry-After', async () => {
    const answers = [
      () => Promise.reject(new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } })),
      () => Promise.resolve(json(429, { message: 'Too many requests' }, { 'retry-after': '7' })),
      () => Promise.resolve(json(503, { message: 'Database unavailable' }, { 'retry-after': '2' })),
      () => Promise.resolve(json(200, { isAdmin: true, phones: [] })),
    ];
    const fetch = vi.fn<typeof globalThis.fetch>(() => answers.shift()!());
    const { client, delays } = clientFor(fetch);
    await expect(client.get('/api/session')).resolves.toEqual({ isAdmin: true, phones: [] });
    expect(fetch).toHaveBeenCalledTimes(4);
    expect(delays[0]).toBeGreaterThanOrEqual(250);
    expect(delays.slice(1)).toEqual([7000, 2000]);
  });

  it('gives up after its retries as unavailable, naming the cause', async () => {
    const fetch = vi.fn<typeof globalThis.fetch>(() =>
      Promise.reject(new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } })),
    );
    await expect(clientFor(fetch, 2).client.get('/api/session')).rejects.toEqual(
      new ServiceError('unavailable', 'cannot reach http://sms.test: ECONNREFUSED'),
    );
    expect(fetch).toHaveBeenCalledTimes(3);
  });

  it('does not retry a request the service refuses', async () => {
    const fetch = vi.fn<typeof globalThis.fetch>(() =>
      answer(413, { message: 'Request body is larger than 8 MB' }),
    );
    await expect(clientFor(fetch).client.post('/api/messages/import', {})).rejects.toMatchObject({
      kind: 'refused',
      message: 'POST /api/messages/import answered 413: Request body is larger than 8 MB',
    });
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it('reads Retry-After as seconds or as a date, capped', () => {
    const headers = (value: string) => ({ headers: new Headers({ 'retry-after': value }) });
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfter(headers('3'), now)).toBe(3000);
    expect(retryAfter(headers('Thu, 01 Jan 2026 00:00:05 GMT'), now)).toBe(5000);
    expect(retryAfter(headers('3600'), now)).toBe(30_000);
    expect(retryAfter(headers('soon'), now)).toBeUndefined();
  });
});

describe('withinScope', () => {
  const me = '+12025550143';
  const delivered = () => {
    const sent = buildEvent({ senderPhone: me });
    return message(1, sent, { ...sent, type: 'received' });
  };
  const collect = async (session: { isAdmin: boolean; phones: string[] }, item: ReadItem) => {
    const out: ReadItem[] = [];
    for await (const each of withinScope(items(item), session)) out.push(each);
    return out;
  };

  it("drops the other party's report for a phone key, and says so", async () => {
    const out = await collect({ isAdmin: false, phones: [me] }, delivered());
    expect(out).toMatchObject([
      { kind: 'message', events: [{ type: 'sent' }] },
      { kind: 'skipped', reason: OTHER_SIDE },
    ]);
  });

  it('keeps both reports for the admin key, and both when the key acts for neither side', async () => {
    expect(await collect({ isAdmin: true, phones: [] }, delivered())).toMatchObject([
      { events: [{ type: 'sent' }, { type: 'received' }] },
    ]);
    expect(await collect({ isAdmin: false, phones: ['+12025550199'] }, delivered())).toMatchObject([
      { events: [{ type: 'sent' }, { type: 'received' }] },
    ]);
  });
});
