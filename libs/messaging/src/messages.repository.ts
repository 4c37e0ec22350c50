import { Inject, Injectable } from '@nestjs/common';
import { epochSeconds, PRIMARY_SQL, READ_SQL, type Sql } from '@app/database';
import type {
  ChangedMessageRow,
  ConversationEntry,
  ConversationRows,
  ConversationSummaryRow,
  MessageRecordRow,
  MessagePosition,
  MessageRow,
  SmsEvent,
  StoredMessageEvents,
  StoreResult,
} from './messages.types.js';
import { isStopKeyword, OPT_OUT_KEYWORD_PREDICATE, type OptOutRow } from './opt-out.js';

/** Where a listing starts when the client sends no cursor: after everything. */
const NEWEST: MessagePosition = { time: Infinity, uuid: '00000000-0000-0000-0000-000000000000' };

/** A `messages AS m` row as a MessageRow; shared by every statement that returns messages. */
export const MESSAGE_COLUMNS = `
  m.uuid::text AS "uuid", m.sender_phone AS "senderPhone", m.receiver_phone AS "receiverPhone",
  m.text, m.encoding, m.segments,
  ${epochSeconds('m.sent_at')} AS "sentAt",
  ${epochSeconds('m.received_at')} AS "receivedAt",
  ${epochSeconds('m.occurred_at')} AS "occurredAt",
  m.delivery_status AS "deliveryStatus"`;

/**
 * Reads return only what their answer shows: every column costs decoding, and
 * a timestamptz costs a Date object per row (measured: 9% of a read's CPU).
 * The hot reads come as arrays (`Sql.mapRows`), turned into objects of one
 * fixed shape here as each row arrives: pg's object rows are built by keyed
 * stores that every statement of the process shares, which made them 40%
 * dearer per row than in a process running one statement (measured against
 * a minimal Nest app).
 */
const RECORD_COLUMNS = `${MESSAGE_COLUMNS},
  m.created_at AS "createdAt", m.updated_at AS "updatedAt",
  o.gateway_id::text AS "gatewayId", o.provider_message_id AS "providerMessageId",
  o.attempts, o.error_code AS "errorCode", o.error_reason AS "errorReason",
  o.queued_at AS "queuedAt", o.sent_at AS "handedOverAt", o.delivered_at AS "deliveredAt",
  o.failed_at AS "failedAt"`;

/** get-conversation's answer, seen from $1: the other party, text, time, sent by $1, and the cursor key. */
const CONVERSATION_COLUMNS = `
  CASE WHEN m.sender_phone = $1 THEN m.receiver_phone ELSE m.sender_phone END,
  m.text, ${epochSeconds('m.occurred_at')}, m.sender_phone = $1, m.uuid::text`;

/**
 * The one rule of a known uuid, shared by both recording statements: it gets
 * the event's timestamp only if that event is missing and sender, receiver
 * and text match (the other side's report); anything else leaves the row
 * alone and returns nothing for it.
 */
const MERGE_OTHER_SIDE = `
      ON CONFLICT (uuid) DO UPDATE
        SET sent_at = COALESCE(m.sent_at, EXCLUDED.sent_at),
            received_at = COALESCE(m.received_at, EXCLUDED.received_at),
            updated_at = now()
        WHERE m.sender_phone = EXCLUDED.sender_phone
          AND m.receiver_phone = EXCLUDED.receiver_phone
          AND m.text = EXCLUDED.text
          AND ((m.sent_at IS NULL AND EXCLUDED.sent_at IS NOT NULL)
            OR (m.received_at IS NULL AND EXCLUDED.received_at IS NOT NULL))
      RETURNING m.uuid, m.sender_phone, m.receiver_phone, m.occurred_at, (m.xmax = 0) AS inserted`;

/** A thread summary keeps its newest message (by time, then uuid), in both recording statements. */
const NEWEST_OF_THREAD = `
            last_message_uuid = CASE
              WHEN (EXCLUDED.last_occurred_at, EXCLUDED.last_message_uuid) > (c.last_occurred_at, c.last_message_uuid)
              THEN EXCLUDED.last_message_uuid ELSE c.last_message_uuid END,
            last_occurred_at = GREATEST(c.last_occurred_at, EXCLUDED.last_occurred_at),
            updated_at = now()`;

/**
 * Records a batch of events (one for send-sms/receive-sms, up to 1000 for an
 * import; at most one per uuid) in one statement, so a message and both
 * parties' thread summaries commit together:
 * - a new uuid inserts the message;
 * - a known uuid gets the event's timestamp only if that event is missing and
 *   sender, receiver and text match (the other side's report);
 * - anything else leaves the row alone and returns nothing for it, and the
 *   caller reads the row to tell a replay from a conflict.
 * Each new message adds one to both parties' summaries. Rows are written in
 * key order, so concurrent batches lock in the same order and cannot deadlock.
 */
const RECORD_EVENTS = {
  name: 'messages_record_events',
  text: `
    WITH input AS (
      SELECT * FROM unnest($1::uuid[], $2::varchar[], $3::varchar[], $4::text[], $5::varchar[],
                           $6::int2[], $7::float8[], $8::text[])
        AS t(uuid, sender_phone, receiver_phone, text, encoding, segments, at, kind)
    ),
    upsert AS (
      INSERT INTO messages AS m
        (uuid, sender_phone, receiver_phone, text, encoding, segments, sent_at, received_at, occurred_at)
      SELECT uuid, sender_phone, receiver_phone, text, encoding, segments,
             CASE WHEN kind = 'sent' THEN to_timestamp(at) END,
             CASE WHEN kind = 'received' THEN to_timestamp(at) END,
             to_timestamp(at)
      FROM input ORDER BY uuid
      ${MERGE_OTHER_SIDE}
    ),
    sides AS (
      SELECT sender_phone AS owner, receiver_phone AS counterpart, uuid, occurred_at FROM upsert WHERE inserted
      UNION
      SELECT receiver_phone, sender_phone, uuid, occurred_at FROM upsert WHERE inserted
    ),
    summaries AS (
      INSERT INTO conversations AS c
        (owner_phone, counterpart_phone, last_message_uuid, last_occurred_at, message_count)
      SELECT owner, counterpart, (array_agg(uuid ORDER BY occurred_at DESC, uuid DESC))[1],
             max(occurred_at), count(*)
      FROM sides GROUP BY owner, counterpart ORDER BY owner, counterpart
      ON CONFLICT (owner_phone, counterpart_phone) DO UPDATE
        SET message_count = c.message_count + EXCLUDED.message_count,
            ${NEWEST_OF_THREAD}
    )
    SELECT uuid::text AS uuid, inserted FROM upsert`,
};

/** Both parties' summaries for the one message `upsert` inserted (none when it inserted nothing). */
const SUMMARIES_OF_ONE = `
    summaries AS (
      INSERT INTO conversations AS c
        (owner_phone, counterpart_phone, last_message_uuid, last_occurred_at, message_count)
      SELECT sender_phone, receiver_phone, uuid, occurred_at, 1 FROM upsert WHERE inserted
      UNION ALL
      SELECT receiver_phone, sender_phone, uuid, occurred_at, 1 FROM upsert
        WHERE inserted AND receiver_phone <> sender_phone
      ORDER BY 1, 2
      ON CONFLICT (owner_phone, counterpart_phone) DO UPDATE
        SET message_count = c.message_count + 1,
            ${NEWEST_OF_THREAD}
    )`;

/**
 * RECORD_EVENTS for the one event of send-sms/receive-sms, with the same
 * rules: no unnest, no grouping, the two summaries as two rows. A third less
 * PostgreSQL CPU per send than the batch statement with one element
 * (measured with pgbench on 200k messages).
 */
const RECORD_EVENT = {
  name: 'messages_record_event',
  text: `
    WITH upsert AS (
      INSERT INTO messages AS m
        (uuid, sender_phone, receiver_phone, text, encoding, segments, sent_at, received_at, occurred_at)
      VALUES ($1::uuid, $2::varchar, $3::varchar, $4::text, $5::varchar, $6::int2,
              CASE WHEN $8::text = 'sent' THEN to_timestamp($7::float8) END,
              CASE WHEN $8::text = 'received' THEN to_timestamp($7::float8) END,
              to_timestamp($7::float8))
      ${MERGE_OTHER_SIDE}
    ),
    ${SUMMARIES_OF_ONE}
    SELECT inserted FROM upsert`,
};

/**
 * A message sent through a gateway (POST /api/messages): the message, both
 * summaries and its delivery job ($7: the connection) in one statement, so an
 * acknowledged message always has its job. A known uuid writes nothing; the
 * caller reads what is stored to tell a replay from a conflict.
 */
const RECORD_OUTGOING = {
  name: 'messages_record_outgoing',
  text: `
    WITH upsert AS (
      INSERT INTO messages AS m
        (uuid, sender_phone, receiver_phone, text, encoding, segments, sent_at, occurred_at,
         delivery_status)
      VALUES ($1::uuid, $2::varchar, $3::varchar, $4::text, $5::varchar, $6::int2,
              date_trunc('second', now()), date_trunc('second', now()),
              'queued')
      ON CONFLICT (uuid) DO NOTHING
      RETURNING m.uuid, m.sender_phone, m.receiver_phone, m.occurred_at, true AS inserted
    ),
    job AS (
      INSERT INTO outbound_messages (message_uuid, gateway_id, status)
      SELECT uuid, $7::uuid, 'queued' FROM upsert
    ),
    ${SUMMARIES_OF_ONE}
    SELECT inserted FROM upsert`,
};

const FIND_EVENTS = {
  name: 'messages_find_events',
  text: `
    SELECT uuid::text AS uuid, sender_phone AS "senderPhone", receiver_phone AS "receiverPhone", text,
           ${epochSeconds('sent_at')} AS "sentAt",
           ${epochSeconds('received_at')} AS "receivedAt"
    FROM messages WHERE uuid = ANY($1::uuid[])`,
};

/**
 * A page of the messages in which $1 takes part, newest first, before the
 * position ($3, $4): one index range scan per side (sender, receiver), each
 * stopping after $2 rows, merged. A message to oneself comes from the sender
 * side only. Each side selects only the columns the answer reads: PostgreSQL
 * keeps every column of a UNION ALL branch, and with `SELECT *` it decoded
 * and carried all fourteen (measured: 11–15% of the statement's time at 40
 * rows).
 */
const CONVERSATION_SIDE_COLUMNS = 'sender_phone, receiver_phone, text, occurred_at, uuid';
const FIND_CONVERSATION = {
  name: 'messages_find_conversation',
  text: `
    SELECT ${CONVERSATION_COLUMNS} FROM (
      (SELECT ${CONVERSATION_SIDE_COLUMNS} FROM messages
        WHERE sender_phone = $1 AND (occurred_at, uuid) < (to_timestamp($3), $4::uuid)
        ORDER BY occurred_at DESC, uuid DESC LIMIT $2)
      UNION ALL
      (SELECT ${CONVERSATION_SIDE_COLUMNS} FROM messages
        WHERE receiver_phone = $1 AND sender_phone <> $1
          AND (occurred_at, uuid) < (to_timestamp($3), $4::uuid)
        ORDER BY occurred_at DESC, uuid DESC LIMIT $2)
    ) AS m
    ORDER BY m.occurred_at DESC, m.uuid DESC
    LIMIT $2`,
};

/** A page of one two-party thread, newest first: one range scan of the thread index. */
const FIND_THREAD = {
  name: 'messages_find_thread',
  text: `
    SELECT ${MESSAGE_COLUMNS} FROM messages AS m
    WHERE m.party_low = LEAST($1::varchar, $2::varchar)
      AND m.party_high = GREATEST($1::varchar, $2::varchar)
      AND (m.occurred_at, m.uuid) < (to_timestamp($3), $4::uuid)
      AND m.occurred_at >= to_timestamp($5) AND m.occurred_at <= to_timestamp($6)
    ORDER BY m.occurred_at DESC, m.uuid DESC
    LIMIT $7`,
};

/**
 * The latest keyword message from $2 to $1 (the partial index of keyword
 * messages: a few rows at most); shared by the opt-out a send checks and the
 * one a thread's newest page shows.
 */
const LATEST_KEYWORD = `
  SELECT upper(btrim(k.text)) AS keyword, ${epochSeconds('k.occurred_at')} AS since
  FROM messages AS k
  WHERE k.receiver_phone = $1 AND k.sender_phone = $2 AND ${OPT_OUT_KEYWORD_PREDICATE.replace('"text"', 'k."text"')}
  ORDER BY k.occurred_at DESC
  LIMIT 1`;

/**
 * A thread's newest page with the latest keyword message, in one round trip
 * (a second statement would hold a second pooled connection per read). One
 * row with null message columns when the page is empty.
 */
const FIND_THREAD_WITH_KEYWORD = {
  name: 'messages_find_thread_with_keyword',
  text: `
    SELECT ${MESSAGE_COLUMNS}, opt.keyword, opt.since
    FROM (SELECT 1) AS one
    LEFT JOIN LATERAL (${FIND_THREAD.text.replace(`SELECT ${MESSAGE_COLUMNS} FROM messages AS m`, 'SELECT * FROM messages AS m')}) AS m ON true
    LEFT JOIN LATERAL (${LATEST_KEYWORD}) AS opt ON true
    ORDER BY m.occurred_at DESC, m.uuid DESC`,
};

/** A page of a party's thread summaries, most recent activity first. */
const FIND_CONVERSATIONS = {
  name: 'conversations_find_by_owner',
  text: `
    SELECT c.counterpart_phone AS counterpart, c.message_count AS "messageCount",
           ${epochSeconds('c.last_occurred_at')} AS "lastOccurredAt",
           ${MESSAGE_COLUMNS}
    FROM conversations AS c
    JOIN messages AS m ON m.uuid = c.last_message_uuid
    WHERE c.owner_phone = $1
      AND (c.last_occurred_at, c.counterpart_phone) < (to_timestamp($2), $3::varchar)
    ORDER BY c.last_occurred_at DESC, c.counterpart_phone DESC
    LIMIT $4`,
};

const FIND_MESSAGE = {
  name: 'messages_find_one',
  text: `
    SELECT ${RECORD_COLUMNS} FROM messages AS m
    LEFT JOIN outbound_messages AS o ON o.message_uuid = m.uuid
    WHERE m.uuid = $1::uuid`,
};

/**
 * Whether $2 has opted out of messages from $1: its latest keyword message
 * to $1, found in the partial index of keyword messages (a few rows at most).
 */
const FIND_OPT_OUT_KEYWORD = {
  name: 'messages_find_opt_out_keyword',
  text: LATEST_KEYWORD,
};

/** A message with where its last change sits on the database clock. */
const CHANGED_COLUMNS = `${MESSAGE_COLUMNS},
  (extract(epoch FROM m.updated_at) * 1000000)::int8::text AS "position"`;

/** The messages another instance announced (live stream), read once per NOTIFY. */
const FIND_CHANGED = {
  name: 'messages_find_changed',
  text: `SELECT ${CHANGED_COLUMNS} FROM messages AS m WHERE m.uuid = ANY($1::uuid[])`,
};

/**
 * What changed for $1 after $2, oldest change first, and whether each message
 * is newer than $4: one range scan per side of the (party, updated_at, uuid)
 * indexes, each stopping after $3 rows. A message to oneself comes from the
 * sender side only.
 */
const FIND_CHANGES_SINCE = {
  name: 'messages_find_changes_since',
  text: `
    SELECT ${CHANGED_COLUMNS}, m.created_at > $4::timestamptz AS "isNew" FROM (
      (SELECT * FROM messages
        WHERE sender_phone = $1 AND updated_at > $2::timestamptz
        ORDER BY updated_at, uuid LIMIT $3)
      UNION ALL
      (SELECT * FROM messages
        WHERE receiver_phone = $1 AND sender_phone <> $1 AND updated_at > $2::timestamptz
        ORDER BY updated_at, uuid LIMIT $3)
    ) AS m
    ORDER BY m.updated_at, m.uuid
    LIMIT $3`,
};

/** A MESSAGE_COLUMNS row as rowMode 'array' gives it. */
export type MessageTuple = [
  string,
  string,
  string,
  string,
  MessageRow['encoding'],
  number,
  number | null,
  number | null,
  number,
  MessageRow['deliveryStatus'],
];

export function toMessageRow([
  uuid,
  senderPhone,
  receiverPhone,
  text,
  encoding,
  segments,
  sentAt,
  receivedAt,
  occurredAt,
  deliveryStatus,
]: MessageTuple): MessageRow {
  return {
    uuid,
    senderPhone,
    receiverPhone,
    text,
    encoding,
    segments,
    sentAt,
    receivedAt,
    occurredAt,
    deliveryStatus,
  };
}

/** The recording statements, for the benchmark that measures what each index costs them. */
export const WRITE_STATEMENTS = { RECORD_EVENT, RECORD_EVENTS };

/** The read statements, for the EXPLAIN test that proves they stay index scans. */
export const READ_STATEMENTS = {
  FIND_CONVERSATION,
  FIND_THREAD,
  FIND_THREAD_WITH_KEYWORD,
  FIND_CONVERSATIONS,
  FIND_MESSAGE,
  FIND_OPT_OUT_KEYWORD,
};

/**
 * Storage for messages and thread summaries. The statements run as named
 * prepared statements on the pool TypeORM manages: TypeORM sends unnamed
 * statements, so PostgreSQL would parse and plan every call. Schema and
 * migrations stay with TypeORM.
 *
 * Which server answers: writes, the idempotency lookups that decide a write,
 * one message by uuid (what a client reads right after writing it) and the
 * live stream's reads (it reads what a NOTIFY from the primary announced)
 * run on the primary. The three listings (get-conversation, the thread
 * list, a thread's messages) may be as far behind as the replicas are, and
 * run on them when there are any.
 */
@Injectable()
export class MessagesRepository {
  constructor(
    @Inject(PRIMARY_SQL) private readonly primary: Sql,
    @Inject(READ_SQL) private readonly reads: Sql,
  ) {}

  /**
   * Stores events whose uuids are distinct; returns a result per event, in
   * order. Events it did not write come with the row as stored.
   */
  async recordEvents(events: readonly SmsEvent[]): Promise<StoreResult[]> {
    if (events.length === 0) return [];
    if (events.length === 1) return [await this.recordEvent(events[0])];
    const written = await this.primary.query<{ uuid: string; inserted: boolean }>({
      ...RECORD_EVENTS,
      values: [
        events.map((event) => event.uuid),
        events.map((event) => event.senderPhone),
        events.map((event) => event.receiverPhone),
        events.map((event) => event.text),
        events.map((event) => event.encoding),
        events.map((event) => event.segments),
        events.map((event) => event.timestamp),
        events.map((event) => event.kind),
      ],
    });
    const writes = new Map(written.rows.map((row) => [row.uuid, row.inserted]));
    const untouched = events.filter((event) => !writes.has(event.uuid)).map((event) => event.uuid);
    const stored = new Map(
      (await this.findEvents(untouched)).map((row) => [row.uuid, row] as const),
    );
    return events.map((event): StoreResult => {
      const inserted = writes.get(event.uuid);
      if (inserted !== undefined) return { outcome: inserted ? 'created' : 'merged' };
      const row = stored.get(event.uuid);
      // Only retention deletes messages, and only old ones: an untouched uuid that
      // vanished in between is a race an import can retry.
      if (!row) throw new Error(`Message ${event.uuid} vanished while it was recorded`);
      return { outcome: 'unchanged', stored: row };
    });
  }

  /**
   * Stores a message to send through connection `gatewayId`, with its job;
   * false when the uuid is already taken (nothing written).
   */
  async recordOutgoing(
    message: Omit<SmsEvent, 'kind' | 'timestamp'>,
    gatewayId: string,
  ): Promise<boolean> {
    const written = await this.primary.query<{ inserted: boolean }>({
      ...RECORD_OUTGOING,
      values: [
        message.uuid,
        message.senderPhone,
        message.receiverPhone,
        message.text,
        message.encoding,
        message.segments,
        gatewayId,
      ],
    });
    return written.rows.length > 0;
  }

  private async recordEvent(event: SmsEvent, attempt = 1): Promise<StoreResult> {
    // mapRows: every send-sms and receive-sms runs this, and pg's result object
    // (a config copy and a field list) would be built for one boolean.
    const [inserted] = await this.primary.mapRows(
      RECORD_EVENT,
      [
        event.uuid,
        event.senderPhone,
        event.receiverPhone,
        event.text,
        event.encoding,
        event.segments,
        event.timestamp,
        event.kind,
      ],
      ([wasInserted]: [boolean]) => wasInserted,
    );
    if (inserted !== undefined) return { outcome: inserted ? 'created' : 'merged' };
    const [stored] = await this.findEvents([event.uuid]);
    // Only retention deletes messages: one it deleted between the two statements is
    // gone, so recording the event again stores it anew.
    if (!stored && attempt === 1) return this.recordEvent(event, 2);
    if (!stored) throw new Error(`Message ${event.uuid} vanished while it was recorded`);
    return { outcome: 'unchanged', stored };
  }

  private async findEvents(uuids: string[]): Promise<StoredMessageEvents[]> {
    if (uuids.length === 0) return [];
    const result = await this.primary.query<StoredMessageEvents>({
      ...FIND_EVENTS,
      values: [uuids],
    });
    return result.rows;
  }

  /** Newest first, in get-conversation's shape; `uuids[i]` is the key of `messages[i]`. */
  async findConversation(
    party: string,
    limit: number,
    before: MessagePosition = NEWEST,
  ): Promise<ConversationRows> {
    const uuids: string[] = [];
    const messages = await this.reads.mapRows(
      FIND_CONVERSATION,
      [party, limit, before.time, before.uuid],
      ([counterpart, text, timestamp, sent, uuid]: [string, string, number, boolean, string]) => {
        uuids.push(uuid);
        return {
          phone_number: counterpart,
          message_text: text,
          timestamp,
          direction: sent ? 'sent' : 'received',
        } satisfies ConversationEntry;
      },
    );
    return { messages, uuids };
  }

  /** Newest first, optionally within [since, until] (unix seconds). */
  async findThread(
    party: string,
    counterpart: string,
    limit: number,
    options: { before?: MessagePosition; since?: number; until?: number } = {},
  ): Promise<MessageRow[]> {
    const before = options.before ?? NEWEST;
    return this.reads.mapRows(
      FIND_THREAD,
      [
        party,
        counterpart,
        before.time,
        before.uuid,
        options.since ?? -Infinity,
        options.until ?? Infinity,
        limit,
      ],
      toMessageRow,
    );
  }

  /** findThread's newest page, with the opt-out `counterpart` holds against `party`. */
  async findNewestThreadPage(
    party: string,
    counterpart: string,
    limit: number,
    options: { since?: number; until?: number } = {},
  ): Promise<{ rows: MessageRow[]; optOut?: OptOutRow }> {
    // Every row carries the opt-out; a thread with no message in the window is one row of nulls and the opt-out.
    let optOut: OptOutRow | undefined;
    let first = true;
    const rows = await this.reads.mapRows(
      FIND_THREAD_WITH_KEYWORD,
      [
        party,
        counterpart,
        NEWEST.time,
        NEWEST.uuid,
        options.since ?? -Infinity,
        options.until ?? Infinity,
        limit,
      ],
      (row: [...MessageTuple, string | null, number | null]) => {
        if (first) {
          first = false;
          const [keyword, since] = [row[10], row[11]];
          if (keyword !== null && since !== null && isStopKeyword(keyword))
            optOut = { keyword, since };
        }
        return row[0] === null ? undefined : toMessageRow(row as unknown as MessageTuple);
      },
    );
    return { rows: rows.filter((row): row is MessageRow => row !== undefined), optOut };
  }

  /** Most recent activity first, before (time, counterpart). */
  async findConversations(
    owner: string,
    limit: number,
    before?: { time: number; counterpart: string },
  ): Promise<ConversationSummaryRow[]> {
    return this.reads.mapRows(
      FIND_CONVERSATIONS,
      [owner, before?.time ?? Infinity, before?.counterpart ?? '', limit],
      ([counterpart, messageCount, lastOccurredAt, ...message]: [
        string,
        number,
        number,
        ...MessageTuple,
      ]) => ({ counterpart, messageCount, lastOccurredAt, lastMessage: toMessageRow(message) }),
    );
  }

  async findMessage(uuid: string): Promise<MessageRecordRow | undefined> {
    const result = await this.primary.query<MessageRecordRow>({ ...FIND_MESSAGE, values: [uuid] });
    return result.rows[0];
  }

  /**
   * The opt-out `counterpart` holds against `owner`: its latest received
   * keyword message when that is a stop, else undefined. Read on the primary:
   * a send decides on it.
   */
  async findOptOut(owner: string, counterpart: string): Promise<OptOutRow | undefined> {
    const result = await this.primary.query<OptOutRow>({
      ...FIND_OPT_OUT_KEYWORD,
      values: [owner, counterpart],
    });
    const [latest] = result.rows;
    return latest && isStopKeyword(latest.keyword) ? latest : undefined;
  }

  /** These messages, with the position of their last change. */
  async findChanged(uuids: readonly string[]): Promise<ChangedMessageRow[]> {
    if (uuids.length === 0) return [];
    const result = await this.primary.query<ChangedMessageRow>({
      ...FIND_CHANGED,
      values: [uuids],
    });
    return result.rows;
  }

  /**
   * Up to `limit` changes of `party` after `since` (a timestamptz), oldest
   * change first; `isNew` tells the messages created after `newAfter`.
   */
  async findChangesSince(
    party: string,
    since: string,
    newAfter: string,
    limit: number,
  ): Promise<ChangedMessageRow[]> {
    const result = await this.primary.query<ChangedMessageRow>({
      ...FIND_CHANGES_SINCE,
      values: [party, since, limit, newAfter],
    });
    return result.rows;
  }
}
