import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Client } from 'pg';
import request from 'supertest';
// Not part of @app/messaging's public face: only this EXPLAIN test needs the statements' text.
import { HISTORY_STATEMENTS } from '@app/messaging/history/history.repository.js';
import { FRAGMENTS_HEADLINE, WHOLE_TEXT_HEADLINE } from '@app/messaging/history/search-query.js';
import { issuePhoneKey } from './factories/api-key.factory.js';
import { buildSmsEvent, randomPhone } from './factories/sms-event.factory.js';
import { startTestApp, type TestApp } from './setup/test-app.js';

interface Hit {
  uuid: string;
  text: string;
  direction: string;
  timestamp: number;
  snippet: string;
}

/** Search and export over a number's whole history, over HTTP on a real PostgreSQL. */
describe('History: search and export (e2e)', () => {
  let testApp: TestApp;
  let db: Client;
  const api = () =>
    request.agent(testApp.baseUrl).set('Authorization', `Bearer ${testApp.adminKey}`);
  const path = (phone: string) => encodeURIComponent(phone);

  const me = randomPhone();
  const friend = randomPhone();
  const other = randomPhone();
  const stranger = randomPhone();
  let clock = 1_764_000_000;

  async function record(from: string, to: string, text: string, timestamp = (clock += 10)) {
    const event = buildSmsEvent({
      senderPhone: from,
      receiverPhone: to,
      messageText: text,
      timestamp,
    });
    await api().post('/api/send-sms').send(event).expect(201);
    return event.uuid;
  }

  const search = (phone: string, query: Record<string, string | number>) =>
    api()
      .get(`/api/phones/${path(phone)}/search`)
      .query(query);

  beforeAll(async () => {
    testApp = await startTestApp();
    db = new Client({ connectionString: testApp.databaseUrl });
    await db.connect();
  });

  afterAll(async () => {
    await db.end();
    await testApp.close();
  });

  describe('search', () => {
    const uuids: Record<string, string> = {};

    beforeAll(async () => {
      uuids.cafe = await record(me, friend, 'Meet at the Café tomorrow?');
      uuids.code = await record(friend, me, 'Your code is 48213, a < b & "c"');
      uuids.phrase = await record(me, other, 'see you at 7');
      uuids.reversed = await record(other, me, 'you see, it is late');
      uuids.twice = await record(other, me, 'tomorrow, tomorrow, always tomorrow');
      uuids.once = await record(friend, me, 'tomorrow then');
      // Someone else's message with the same words: never found from `me`.
      await record(stranger, randomPhone(), 'Café tomorrow see you 48213');
    });

    it('folds accents and case, and matches prefixes', async () => {
      const { body } = await search(me, { q: 'CAFE tomor' }).expect(200);
      expect(body.messages.map((hit: Hit) => hit.uuid)).toEqual([uuids.cafe]);
      expect(body.messages[0]).toMatchObject({
        direction: 'sent',
        text: 'Meet at the Café tomorrow?',
      });
      expect(body.messages[0].snippet).toBe('Meet at the <mark>Café</mark> <mark>tomorrow</mark>?');
      expect(body.nextCursor).toBeNull();
    });

    it('finds part of a code, and escapes the snippet as HTML', async () => {
      const { body } = await search(me, { q: '4821' }).expect(200);
      expect(body.messages.map((hit: Hit) => hit.uuid)).toEqual([uuids.code]);
      expect(body.messages[0].direction).toBe('received');
      expect(body.messages[0].snippet).toBe(
        'Your code is <mark>48213</mark>, a &lt; b &amp; &quot;c&quot;',
      );
    });

    it('matches a quoted phrase in order only', async () => {
      const phrase = await search(me, { q: '"see you"' }).expect(200);
      expect(phrase.body.messages.map((hit: Hit) => hit.uuid)).toEqual([uuids.phrase]);
      const words = await search(me, { q: 'see you' }).expect(200);
      expect(words.body.messages.map((hit: Hit) => hit.uuid).sort()).toEqual(
        [uuids.phrase, uuids.reversed].sort(),
      );
    });

    it('ranks more matches first, then newest first, and pages without gaps', async () => {
      const { body } = await search(me, { q: 'tomorrow' }).expect(200);
      const found = body.messages.map((hit: Hit) => hit.uuid);
      expect(found[0]).toBe(uuids.twice);
      expect(new Set(found)).toEqual(new Set([uuids.twice, uuids.once, uuids.cafe]));

      const pages: string[] = [];
      let cursor: string | null = null;
      do {
        const page: request.Response = await search(me, {
          q: 'tomorrow',
          limit: 1,
          ...(cursor ? { before: cursor } : {}),
        }).expect(200);
        pages.push(...page.body.messages.map((hit: Hit) => hit.uuid));
        cursor = page.body.nextCursor;
      } while (cursor && pages.length < 10);
      expect(pages).toEqual(found);
    });

    it('narrows to one thread and a time window', async () => {
      const thread = await search(me, { q: 'tomorrow', counterpart: friend }).expect(200);
      expect(thread.body.messages.map((hit: Hit) => hit.uuid).sort()).toEqual(
        [uuids.cafe, uuids.once].sort(),
      );
      const { body: all } = await search(me, { q: 'tomorrow' }).expect(200);
      const cafeTime = all.messages.find((hit: Hit) => hit.uuid === uuids.cafe).timestamp;
      const windowed = await search(me, { q: 'tomorrow', until: cafeTime }).expect(200);
      expect(windowed.body.messages.map((hit: Hit) => hit.uuid)).toEqual([uuids.cafe]);
    });

    it('finds nothing of other numbers, and the counterpart sees its own side', async () => {
      const { body } = await search(friend, { q: '48213' }).expect(200);
      expect(body.messages).toHaveLength(1);
      expect(body.messages[0]).toMatchObject({ uuid: uuids.code, direction: 'sent' });
    });

    it('answers bad input with a 400 naming the field', async () => {
      for (const [query, field] of [
        [{ q: '!!! ???' }, 'q'],
        [{ q: 'x'.repeat(201) }, 'q'],
        [{}, 'q'],
        [{ q: 'a', limit: 0 }, 'limit'],
        [{ q: 'a', before: 'forged.cursor' }, 'before'],
        [{ q: 'a', counterpart: 'not a number' }, 'counterpart'],
      ] as const) {
        const response = await search(me, query).expect(400);
        expect(response.body.details.map((detail: { field: string }) => detail.field)).toContain(
          field,
        );
      }
      // A cursor belongs to its own search.
      const page = await search(me, { q: 'tomorrow', limit: 1 }).expect(200);
      await search(me, { q: 'see', before: page.body.nextCursor }).expect(400);
      // Operators in the text are plain characters.
      await search(me, { q: "a & b | !c ) ( ' \\ :*" }).expect(200);
    });

    it('follows the thread endpoints key rules', async () => {
      const key = await issuePhoneKey(testApp, [me]);
      await request(testApp.baseUrl)
        .get(`/api/phones/${path(me)}/search?q=tomorrow`)
        .set('Authorization', key.authorization)
        .expect(200);
      await request(testApp.baseUrl)
        .get(`/api/phones/${path(friend)}/search?q=tomorrow`)
        .set('Authorization', key.authorization)
        .expect(403);
      await request(testApp.baseUrl)
        .get(`/api/phones/${path(me)}/search?q=tomorrow`)
        .expect(401);
    });
  });

  describe('export', () => {
    const owner = randomPhone();
    const peer = randomPhone();
    const texts = ['first, with a comma', 'second with "quotes"', 'third\r\nwith a line break'];

    beforeAll(async () => {
      await record(owner, peer, texts[0], 1_700_000_000);
      await record(peer, owner, texts[1], 1_700_000_010);
      await record(owner, owner, texts[2], 1_700_000_020);
      await record(randomPhone(), peer, 'not the owner’s', 1_700_000_005);
    });

    it('streams every message of the number, oldest first, as NDJSON', async () => {
      const response = await api()
        .get(`/api/phones/${path(owner)}/export`)
        .expect(200);
      expect(response.headers['content-type']).toMatch(/^application\/x-ndjson/);
      expect(response.headers['content-disposition']).toMatch(/attachment; filename="sms-/);
      const lines = response.text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(lines.map((line) => line.text)).toEqual(texts);
      expect(lines.map((line) => line.direction)).toEqual(['sent', 'received', 'sent']);
      expect(Object.keys(lines[0])).toEqual([
        'uuid',
        'senderPhone',
        'receiverPhone',
        'text',
        'direction',
        'status',
        'sentAt',
        'receivedAt',
        'timestamp',
        'encoding',
        'segments',
      ]);
    });

    it('streams CSV with a header row and RFC 4180 quoting', async () => {
      const response = await api()
        .get(`/api/phones/${path(owner)}/export?format=csv`)
        .buffer(true)
        .parse((res, done) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
          res.on('end', () => done(null, text));
        })
        .expect(200);
      expect(response.headers['content-type']).toMatch(/^text\/csv/);
      const csv = response.body as string;
      const [header, ...rest] = csv.split('\r\n');
      expect(header).toBe(
        'uuid,senderPhone,receiverPhone,text,direction,status,sentAt,receivedAt,timestamp,encoding,segments',
      );
      expect(csv).toContain(',"second with ""quotes""",received,');
      expect(csv).toContain(',"third\r\nwith a line break",sent,');
      expect(csv).toContain(',"first, with a comma",sent,sent,1700000000,,1700000000,GSM-7,1\r\n');
      expect(rest.at(-1)).toBe('');
    });

    it('follows the key rules and refuses a bad format', async () => {
      const key = await issuePhoneKey(testApp, [owner]);
      await request(testApp.baseUrl)
        .get(`/api/phones/${path(peer)}/export`)
        .set('Authorization', key.authorization)
        .expect(403);
      const refused = await api()
        .get(`/api/phones/${path(owner)}/export?format=xml`)
        .expect(400);
      expect(refused.body.details[0].field).toBe('format');
    });

    it('keeps memory flat over 100,000 messages, and a client that leaves stops the query', async () => {
      const insert = (phone: string, count: number) =>
        db.query(
          `INSERT INTO messages (uuid, sender_phone, receiver_phone, text, encoding, segments, sent_at, occurred_at)
           SELECT gen_random_uuid(), $1, '+1303555' || lpad((i % 1000)::text, 4, '0'),
                  'export row ' || i || ' ' || repeat('x', 100), 'GSM-7', 1,
                  to_timestamp(1700000000 + i), to_timestamp(1700000000 + i)
           FROM generate_series(1, $2::int) AS i`,
          [phone, count],
        );
      // Live memory, not what the collector has yet to reclaim: a full collection before
      // each sample (every 10th chunk).
      setFlagsFromString('--expose-gc');
      const collect = runInNewContext('gc') as () => void;
      /** Downloads a number's export; its line count and how far live heap and RSS grew. */
      const exportOf = async (phone: string) => {
        collect();
        const heapBefore = process.memoryUsage().heapUsed;
        const rssBefore = process.memoryUsage().rss;
        let heapPeak = heapBefore;
        let rssPeak = rssBefore;
        let lines = 0;
        let bytes = 0;
        let chunks = 0;
        const download = await fetch(`${testApp.baseUrl}/api/phones/${path(phone)}/export`, {
          headers: { Authorization: `Bearer ${testApp.adminKey}` },
        });
        expect(download.status).toBe(200);
        for await (const chunk of download.body!) {
          bytes += chunk.length;
          for (const byte of chunk) if (byte === 10) lines += 1;
          rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
          if ((chunks += 1) % 10 === 0) {
            collect();
            heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
          }
        }
        const mb = (value: number) => value / 1024 / 1024;
        return {
          lines,
          mb: mb(bytes),
          heapMb: mb(heapPeak - heapBefore),
          rssMb: mb(rssPeak - rssBefore),
        };
      };
      const small = randomPhone();
      const big = randomPhone();
      await insert(small, 10_000);
      await insert(big, 100_000);

      const tenThousand = await exportOf(small);
      const hundredThousand = await exportOf(big);
      console.log(
        `export (app and client in one process; live heap sampled after full collections): 10,000 messages ${tenThousand.mb.toFixed(1)} MB, heap +${tenThousand.heapMb.toFixed(1)} MB, RSS +${tenThousand.rssMb.toFixed(1)} MB; ` +
          `100,000 messages ${hundredThousand.mb.toFixed(1)} MB, heap +${hundredThousand.heapMb.toFixed(1)} MB, RSS +${hundredThousand.rssMb.toFixed(1)} MB`,
      );
      expect(tenThousand.lines).toBe(10_000);
      expect(hundredThousand.lines).toBe(100_000);
      // Ten times the messages, not ten times the memory: an export holds a batch of
      // 1,000 rows and the chunks in flight, whatever its size.
      expect(hundredThousand.heapMb).toBeLessThan(tenThousand.heapMb + 8);
      expect(hundredThousand.heapMb).toBeLessThan(hundredThousand.mb / 4);

      // Leave after the first bytes: the export's session ends soon after.
      const exports = async () =>
        Number(
          (
            await db.query(
              `SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sms-service-export'`,
            )
          ).rows[0].count,
        );
      const controller = new AbortController();
      const response = await fetch(`${testApp.baseUrl}/api/phones/${path(big)}/export`, {
        headers: { Authorization: `Bearer ${testApp.adminKey}` },
        signal: controller.signal,
      });
      const reader = response.body!.getReader();
      await reader.read();
      expect(await exports()).toBe(1);
      controller.abort();
      await expect.poll(exports, { timeout: 10_000 }).toBe(0);

      // A number with many messages streams from the party indexes in order, without a sort.
      await db.query('ANALYZE messages');
      const text = HISTORY_STATEMENTS.EXPORT_CURSOR.replace(/^\s*DECLARE [\s\S]*? FOR/, '');
      await db.query(`PREPARE export_plan AS ${text}`);
      const { rows } = await db.query(
        `EXPLAIN (FORMAT JSON) EXECUTE export_plan(${db.escapeLiteral(big)})`,
      );
      await db.query('DEALLOCATE export_plan');
      const plan = JSON.stringify(rows[0]['QUERY PLAN']);
      expect(plan).toContain('Merge Append');
      expect(plan).toContain(
        '"Node Type":"Index Scan","Parent Relationship":"Subquery","Parallel Aware":false,"Async Capable":false,"Scan Direction":"Forward","Index Name":"IDX_messages_sender_time"',
      );
      expect(plan).not.toContain('Seq Scan');
      // The side with the number's 100,000 messages is read in order; only a side of a
      // few rows may be sorted.
      const sortedRows = [...plan.matchAll(/"Node Type":"Sort"[^{]*?"Plan Rows":(\d+)/g)].map(
        ([, planRows]) => Number(planRows),
      );
      expect(sortedRows.every((planRows) => planRows < 1000)).toBe(true);
    });
  });

  describe('plans', () => {
    const explain = async (text: string, values: unknown[]) => {
      await db.query(`PREPARE history_plan AS ${text}`);
      await db.query(`SET plan_cache_mode = force_generic_plan`);
      const literals = values.map((value) => db.escapeLiteral(String(value))).join(', ');
      const { rows } = await db.query(`EXPLAIN (FORMAT JSON) EXECUTE history_plan(${literals})`);
      await db.query(`DEALLOCATE history_plan; RESET plan_cache_mode`);
      return JSON.stringify(rows[0]['QUERY PLAN']);
    };

    it('searches through the number’s entries of the search index', async () => {
      await db.query('ANALYZE messages');
      const plan = await explain(HISTORY_STATEMENTS.SEARCH.text, [
        me,
        "'tomor':*",
        null,
        '-Infinity',
        'Infinity',
        2147483647,
        'Infinity',
        '00000000-0000-0000-0000-000000000000',
        21,
        WHOLE_TEXT_HEADLINE,
        FRAGMENTS_HEADLINE,
      ]);
      expect(plan).toContain('IDX_messages_search');
      expect(plan).not.toContain('Seq Scan');
      expect(plan).not.toContain('Gather');
    });
  });
});
