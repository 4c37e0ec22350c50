import { Client } from 'pg';
import request from 'supertest';
// Not part of @app/messaging's public face: only this EXPLAIN test needs the statements' text.
import { READ_STATEMENTS } from '@app/messaging/messages.repository.js';
import { buildSmsEvent, randomPhone } from './factories/sms-event.factory.js';
import { startTestApp, type TestApp } from './setup/test-app.js';

interface ThreadMessage {
  uuid: string;
  text: string;
  sentAt: number | null;
}

/** Threads, cursor pagination and the read plans, over HTTP on a real PostgreSQL. */
describe('Conversations at scale (e2e)', () => {
  let testApp: TestApp;
  let db: Client;
  const api = () =>
    request.agent(testApp.baseUrl).set('Authorization', `Bearer ${testApp.adminKey}`);
  const path = (phone: string) => encodeURIComponent(phone);

  beforeAll(async () => {
    testApp = await startTestApp();
    db = new Client({ connectionString: testApp.databaseUrl });
    await db.connect();
  });

  afterAll(async () => {
    await db.end();
    await testApp.close();
  });

  const send = (event: ReturnType<typeof buildSmsEvent>) =>
    api().post('/api/send-sms').send(event).expect(201);

  /** Walks every page of a thread, oldest page last; returns the pages in order. */
  async function walkThread(
    me: string,
    other: string,
    limit: number,
    between?: (page: number) => Promise<void>,
  ): Promise<ThreadMessage[][]> {
    const pages: ThreadMessage[][] = [];
    let cursor: string | null | undefined;
    do {
      const query = cursor ? `?limit=${limit}&before=${cursor}` : `?limit=${limit}`;
      const response = await api()
        .get(`/api/phones/${path(me)}/conversations/${path(other)}/messages${query}`)
        .expect(200);
      pages.push(response.body.messages);
      cursor = response.body.nextCursor;
      await between?.(pages.length);
    } while (cursor && pages.length < 100);
    return pages;
  }

  describe('a thread, page by page', () => {
    const me = randomPhone();
    const other = randomPhone();
    const sent: string[] = [];

    beforeAll(async () => {
      // 250 messages both ways, several per second so that ties on time are common.
      for (let index = 0; index < 250; index += 1) {
        const mine = index % 3 !== 0;
        const event = buildSmsEvent({
          senderPhone: mine ? me : other,
          receiverPhone: mine ? other : me,
          timestamp: 1_700_000_000 + Math.floor(index / 4),
          messageText: `m${index}`,
        });
        sent.push(event.uuid);
        await send(event);
      }
    });

    it('walks 250 messages in pages with no gap and no duplicate, newest page first', async () => {
      const pages = await walkThread(me, other, 40);
      expect(pages.map((page) => page.length)).toEqual([40, 40, 40, 40, 40, 40, 10]);
      const all = pages.flatMap((page) => page.map((message) => message.uuid));
      expect(new Set(all).size).toBe(250);
      expect([...all].sort()).toEqual([...sent].sort());
      // Oldest first within a page; each page older than the one before.
      for (const page of pages) {
        const times = page.map((message) => message.sentAt!);
        expect(times).toEqual([...times].sort((a, b) => a - b));
      }
      for (let index = 1; index < pages.length; index += 1) {
        expect(pages[index].at(-1)!.sentAt!).toBeLessThanOrEqual(pages[index - 1][0].sentAt!);
      }
    });

    it('gives either party the same thread, direction seen from the path number', async () => {
      const mine = await api()
        .get(`/api/phones/${path(me)}/conversations/${path(other)}/messages?limit=5`)
        .expect(200);
      const theirs = await api()
        .get(`/api/phones/${path(other)}/conversations/${path(me)}/messages?limit=5`)
        .expect(200);
      expect(mine.body.messages.map((m: ThreadMessage) => m.uuid)).toEqual(
        theirs.body.messages.map((m: ThreadMessage) => m.uuid),
      );
      for (const [index, message] of mine.body.messages.entries()) {
        expect(message.direction).not.toBe(theirs.body.messages[index].direction);
      }
      expect(mine.body.messages[0]).toEqual({
        uuid: expect.any(String),
        senderPhone: expect.any(String),
        receiverPhone: expect.any(String),
        text: expect.any(String),
        direction: expect.stringMatching(/^(sent|received)$/),
        status: 'sent',
        sentAt: expect.any(Number),
        receivedAt: null,
        timestamp: expect.any(Number),
        encoding: 'GSM-7',
        segments: 1,
      });
    });

    it('neither skips nor repeats while new messages arrive between pages', async () => {
      const seen: string[] = [];
      const pages = await walkThread(me, other, 30, async () => {
        await send(
          buildSmsEvent({
            senderPhone: me,
            receiverPhone: other,
            timestamp: 1_750_000_000 + seen.length,
          }),
        );
        seen.push('x');
      });
      const walked = pages.flatMap((page) => page.map((message) => message.uuid));
      expect(new Set(walked).size).toBe(walked.length);
      // Everything that existed when the walk started was seen exactly once.
      expect(sent.every((uuid) => walked.includes(uuid))).toBe(true);
    });

    it('filters by since/until', async () => {
      const response = await api()
        .get(
          `/api/phones/${path(me)}/conversations/${path(other)}/messages?since=1700000010&until=1700000011&limit=500`,
        )
        .expect(200);
      expect(response.body.messages).toHaveLength(8);
      expect(response.body.nextCursor).toBeNull();
    });
  });

  describe('thread summaries', () => {
    it('lists threads newest activity first with counts and the last message, paged', async () => {
      const me = randomPhone();
      const friends = Array.from({ length: 5 }, () => randomPhone());
      for (const [index, friend] of friends.entries()) {
        for (let n = 0; n <= index; n += 1) {
          await send(
            buildSmsEvent({
              senderPhone: me,
              receiverPhone: friend,
              timestamp: 1_700_000_000 + index * 10 + n,
              messageText: `to ${index}.${n}`,
            }),
          );
        }
      }
      const reply = buildSmsEvent({
        senderPhone: friends[0],
        receiverPhone: me,
        timestamp: 1_700_000_500,
        messageText: 'late reply',
      });
      await send(reply);

      const first = await api()
        .get(`/api/phones/${path(me)}/conversations?limit=3`)
        .expect(200);
      expect(first.body.conversations.map((c: { counterpart: string }) => c.counterpart)).toEqual([
        friends[0],
        friends[4],
        friends[3],
      ]);
      expect(first.body.conversations[0]).toEqual({
        counterpart: friends[0],
        lastMessage: {
          uuid: reply.uuid,
          text: 'late reply',
          timestamp: 1_700_000_500,
          direction: 'received',
          status: 'sent',
        },
        messageCount: 2,
      });
      expect(first.body.conversations[1].messageCount).toBe(5);
      const second = await api()
        .get(`/api/phones/${path(me)}/conversations?limit=3&before=${first.body.nextCursor}`)
        .expect(200);
      expect(second.body.conversations.map((c: { counterpart: string }) => c.counterpart)).toEqual([
        friends[2],
        friends[1],
      ]);
      expect(second.body.nextCursor).toBeNull();
    });

    it('stays right under concurrent writes from both parties', async () => {
      const alice = randomPhone();
      const bob = randomPhone();
      const events = Array.from({ length: 60 }, (_, index) =>
        buildSmsEvent({
          senderPhone: index % 2 ? alice : bob,
          receiverPhone: index % 2 ? bob : alice,
          timestamp: 1_700_001_000 + index,
        }),
      );
      const statuses = await Promise.all(
        events.map((event, index) =>
          api()
            .post(index % 4 === 0 ? '/api/receive-sms' : '/api/send-sms')
            .send(event)
            .then((r) => r.status),
        ),
      );
      expect(statuses.every((status) => status === 201)).toBe(true);
      const newest = events.at(-1)!;
      for (const [owner, counterpart] of [
        [alice, bob],
        [bob, alice],
      ]) {
        const response = await api()
          .get(`/api/phones/${path(owner)}/conversations`)
          .expect(200);
        expect(response.body.conversations).toHaveLength(1);
        expect(response.body.conversations[0]).toMatchObject({
          counterpart,
          messageCount: 60,
          lastMessage: { uuid: newest.uuid, timestamp: newest.timestamp },
        });
      }
      const { rows } = await db.query(
        `SELECT owner_phone, message_count FROM conversations WHERE owner_phone IN ($1, $2) ORDER BY owner_phone`,
        [alice, bob],
      );
      expect(rows.map((row) => row.message_count)).toEqual([60, 60]);
    });

    it('counts a message once when its second event arrives, and shows it delivered', async () => {
      const me = randomPhone();
      const friend = randomPhone();
      const event = buildSmsEvent({ senderPhone: me, receiverPhone: friend });
      await send(event);
      await api()
        .post('/api/receive-sms')
        .send({ ...event, timestamp: event.timestamp + 2 })
        .expect(201);
      const response = await api()
        .get(`/api/phones/${path(friend)}/conversations`)
        .expect(200);
      expect(response.body.conversations[0]).toMatchObject({
        messageCount: 1,
        lastMessage: {
          uuid: event.uuid,
          direction: 'received',
          status: 'delivered',
          timestamp: event.timestamp,
        },
      });
    });
  });

  describe('get-conversation with a cursor', () => {
    it('keeps the old answer without a cursor and pages back with one', async () => {
      const me = randomPhone();
      for (let index = 0; index < 7; index += 1) {
        await send(
          buildSmsEvent({
            senderPhone: me,
            receiverPhone: randomPhone(),
            timestamp: 1_700_000_000 + index,
            messageText: `c${index}`,
          }),
        );
      }
      const all = await api()
        .get(`/api/get-conversation/${path(me)}`)
        .expect(200);
      expect(Object.keys(all.body)).toEqual(['messages']);

      const texts: string[] = [];
      let cursor: string | undefined;
      do {
        const response = await api()
          .get(`/api/get-conversation/${path(me)}?limit=3${cursor ? `&before=${cursor}` : ''}`)
          .expect(200);
        texts.unshift(
          ...response.body.messages.map((m: { message_text: string }) => m.message_text),
        );
        cursor = response.body.nextCursor;
      } while (cursor);
      expect(texts).toEqual(['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6']);
    });
  });

  describe('cursors', () => {
    const me = randomPhone();
    const other = randomPhone();

    beforeAll(async () => {
      for (let index = 0; index < 3; index += 1) {
        await send(buildSmsEvent({ senderPhone: me, receiverPhone: other }));
      }
    });

    async function nextCursorOf(url: string): Promise<string> {
      const response = await api().get(url).expect(200);
      expect(response.body.nextCursor).toEqual(expect.any(String));
      return response.body.nextCursor;
    }

    it.each([
      ['garbage', () => 'definitely-not-a-cursor'],
      [
        'a flipped character',
        (cursor: string) =>
          `${cursor.slice(0, 5)}${cursor[5] === 'A' ? 'B' : 'A'}${cursor.slice(6)}`,
      ],
      ['base64 of JSON junk', () => Buffer.from('{"time":"now"}').toString('base64url')],
      ['an SQL fragment', () => encodeURIComponent("' OR 1=1 --")],
    ])('answers a cursor that is %s with 400, not 500', async (_, tamper) => {
      const url = `/api/phones/${path(me)}/conversations/${path(other)}/messages?limit=1`;
      const cursor = await nextCursorOf(url);
      const response = await api().get(`${url}&before=${tamper(cursor)}`);
      expect(response.status).toBe(400);
      expect(response.body.details[0].field).toBe('before');
    });

    it("refuses another listing's cursor", async () => {
      const threadCursor = await nextCursorOf(
        `/api/phones/${path(me)}/conversations/${path(other)}/messages?limit=1`,
      );
      const stranger = randomPhone();
      const foreign = await api().get(
        `/api/phones/${path(stranger)}/conversations/${path(other)}/messages?before=${threadCursor}`,
      );
      expect(foreign.status).toBe(400);
      expect(foreign.body.message).toMatch(/another listing/);
      const wrongEndpoint = await api().get(
        `/api/get-conversation/${path(me)}?before=${threadCursor}`,
      );
      expect(wrongEndpoint.status).toBe(400);
    });
  });

  describe('read plans', () => {
    beforeAll(async () => {
      // Enough rows across enough numbers that a sequential scan would be the
      // planner's choice if no index served a read.
      await db.query(`
        INSERT INTO messages (uuid, sender_phone, receiver_phone, text, encoding, segments, sent_at, occurred_at)
        SELECT gen_random_uuid(), '+1555' || lpad((n % 2000)::text, 7, '0'),
               '+1555' || lpad(((n * 7 + 1) % 2000)::text, 7, '0'),
               'bulk ' || n, 'GSM-7', 1, to_timestamp(1600000000 + n), to_timestamp(1600000000 + n)
        FROM generate_series(1, 60000) AS n`);
      await db.query(`
        INSERT INTO conversations (owner_phone, counterpart_phone, last_message_uuid, last_occurred_at, message_count)
        SELECT owner, counterpart, (array_agg(uuid ORDER BY occurred_at DESC, uuid DESC))[1], max(occurred_at), count(*)
        FROM (
          SELECT sender_phone AS owner, receiver_phone AS counterpart, uuid, occurred_at FROM messages WHERE text LIKE 'bulk %'
          UNION ALL
          SELECT receiver_phone, sender_phone, uuid, occurred_at FROM messages WHERE text LIKE 'bulk %'
        ) AS sides
        GROUP BY owner, counterpart`);
      await db.query('ANALYZE messages');
      await db.query('ANALYZE conversations');
    });

    const explain = async (name: string, text: string, values: unknown[]) => {
      await db.query(`PREPARE ${name} AS ${text}`);
      // Force the generic plan: the one a long-lived prepared statement ends up using.
      await db.query(`SET plan_cache_mode = force_generic_plan`);
      // EXPLAIN EXECUTE takes no bind parameters: pass the values as literals.
      const literals = values.map((value) => db.escapeLiteral(String(value))).join(', ');
      const { rows } = await db.query(`EXPLAIN (FORMAT JSON) EXECUTE ${name}(${literals})`);
      await db.query(`DEALLOCATE ${name}; RESET plan_cache_mode`);
      return JSON.stringify(rows[0]['QUERY PLAN']);
    };

    it.each([
      [
        'get-conversation',
        READ_STATEMENTS.FIND_CONVERSATION.text,
        ['+15550000042', 100, 'Infinity', '00000000-0000-0000-0000-000000000000'],
      ],
      [
        'a thread',
        READ_STATEMENTS.FIND_THREAD.text,
        [
          '+15550000042',
          '+15550000295',
          'Infinity',
          '00000000-0000-0000-0000-000000000000',
          '-Infinity',
          'Infinity',
          50,
        ],
      ],
      [
        "a thread's newest page with its opt-out",
        READ_STATEMENTS.FIND_THREAD_WITH_KEYWORD.text,
        [
          '+15550000042',
          '+15550000295',
          'Infinity',
          '00000000-0000-0000-0000-000000000000',
          '-Infinity',
          'Infinity',
          50,
        ],
      ],
      [
        'the thread list',
        READ_STATEMENTS.FIND_CONVERSATIONS.text,
        ['+15550000042', 'Infinity', '', 20],
      ],
      ['a message', READ_STATEMENTS.FIND_MESSAGE.text, ['5f0c6f1e-8d2b-4c7e-9a51-3c1d2b8e7f40']],
    ])(
      'reads %s with index scans, never a sequential scan of messages',
      async (name, text, values) => {
        const plan = await explain(`plan_${name.replace(/\W/g, '_')}`, text, values);
        expect(plan).toMatch(/Index (Only )?Scan/);
        expect(plan).not.toMatch(/Seq Scan/);
      },
    );
  });
});
