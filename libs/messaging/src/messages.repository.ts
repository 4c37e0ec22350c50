import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { PG_POOL } from '@app/database';
import type {
  ConversationRow,
  SmsEvent,
  SmsEventKind,
  StoredMessageEvents,
} from './messages.types.js';

/**
 * Records an event in one statement: a new uuid inserts; a known uuid whose
 * other event is still missing gets that timestamp, but only when sender,
 * receiver and text match. Anything else leaves the row untouched and returns
 * nothing, so the caller reads the row to tell a replay from a conflict.
 * The uniqueness of the uuid is the database's to enforce, not a read-then-write.
 */
function recordEventSql(column: 'sent_at' | 'received_at'): string {
  return `
    INSERT INTO messages (uuid, sender_phone, receiver_phone, text, encoding, segments, ${column})
    VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7))
    ON CONFLICT (uuid) DO UPDATE
      SET ${column} = EXCLUDED.${column}, updated_at = now()
      WHERE messages.${column} IS NULL
        AND messages.sender_phone = EXCLUDED.sender_phone
        AND messages.receiver_phone = EXCLUDED.receiver_phone
        AND messages.text = EXCLUDED.text
    RETURNING (xmax = 0) AS inserted`;
}

const RECORD_EVENT: Record<SmsEventKind, { name: string; text: string }> = {
  sent: { name: 'messages_record_sent', text: recordEventSql('sent_at') },
  received: { name: 'messages_record_received', text: recordEventSql('received_at') },
};

const FIND_EVENTS = {
  name: 'messages_find_events',
  text: `
    SELECT sender_phone AS "senderPhone", receiver_phone AS "receiverPhone", text,
           extract(epoch FROM sent_at)::float8 AS "sentAt",
           extract(epoch FROM received_at)::float8 AS "receivedAt"
    FROM messages WHERE uuid = $1`,
};

/**
 * The newest messages in which $1 takes part: one index range scan per side
 * (sender, receiver), each stopping after $2 rows, merged. A message to
 * oneself is taken from the sender side only.
 */
const FIND_CONVERSATION = {
  name: 'messages_find_conversation',
  text: `
    SELECT uuid, sender_phone AS "senderPhone", receiver_phone AS "receiverPhone", text,
           extract(epoch FROM occurred_at)::float8 AS "occurredAt"
    FROM (
      (SELECT uuid, sender_phone, receiver_phone, text, occurred_at FROM messages
        WHERE sender_phone = $1
        ORDER BY occurred_at DESC, uuid DESC LIMIT $2)
      UNION ALL
      (SELECT uuid, sender_phone, receiver_phone, text, occurred_at FROM messages
        WHERE receiver_phone = $1 AND sender_phone <> $1
        ORDER BY occurred_at DESC, uuid DESC LIMIT $2)
    ) AS newest
    ORDER BY occurred_at DESC, uuid DESC
    LIMIT $2`,
};

/**
 * Storage for messages. The hot paths run as named prepared statements on the
 * pool TypeORM manages: TypeORM sends unnamed statements, so PostgreSQL would
 * parse and plan each call again. Schema and migrations stay with TypeORM.
 */
@Injectable()
export class MessagesRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** True when a row was written (new message or merged event). */
  async recordEvent(event: SmsEvent): Promise<{ written: boolean; inserted: boolean }> {
    const statement = RECORD_EVENT[event.kind];
    const result = await this.pool.query<{ inserted: boolean }>({
      ...statement,
      values: [
        event.uuid,
        event.senderPhone,
        event.receiverPhone,
        event.text,
        event.encoding,
        event.segments,
        event.timestamp,
      ],
    });
    const row = result.rows[0];
    return { written: row !== undefined, inserted: row?.inserted ?? false };
  }

  async findEvents(uuid: string): Promise<StoredMessageEvents | undefined> {
    const result = await this.pool.query<StoredMessageEvents>({ ...FIND_EVENTS, values: [uuid] });
    return result.rows[0];
  }

  /** Newest first. */
  async findConversation(party: string, limit: number): Promise<ConversationRow[]> {
    const result = await this.pool.query<ConversationRow>({
      ...FIND_CONVERSATION,
      values: [party, limit],
    });
    return result.rows;
  }
}
