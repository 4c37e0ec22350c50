// The benchmark's seed floor: the seed contract (send-sms, receive-sms,
// get-conversation) on raw node:http + pg, no framework (./contract.ts).
// Same durable upsert (INSERT ... ON CONFLICT (uuid) DO UPDATE), same
// indexes, named prepared statements, a small pool; validation kept minimal
// on purpose.
//
//   PORT=3100 DATABASE_URL=postgres://... DB_POOL_SIZE=4 node dist/bench/baseline/server.js
//
// Its schema is bench/baseline/schema.sql (applied by the bench runner).
import { type FloorEvent, floorPool, type Kind, serveFloor } from './contract.js';

const pool = floorPool('sms-baseline');

const upsert = (name: string, column: 'sent_at' | 'received_at') => ({
  name,
  text: `
    INSERT INTO messages AS m
      (uuid, sender_phone, receiver_phone, text, encoding, segments, ${column}, occurred_at)
    VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7), to_timestamp($7))
    ON CONFLICT (uuid) DO UPDATE
      SET sent_at = COALESCE(m.sent_at, EXCLUDED.sent_at),
          received_at = COALESCE(m.received_at, EXCLUDED.received_at),
          updated_at = now()
      WHERE m.sender_phone = EXCLUDED.sender_phone
        AND m.receiver_phone = EXCLUDED.receiver_phone
        AND m.text = EXCLUDED.text
        AND ((m.sent_at IS NULL AND EXCLUDED.sent_at IS NOT NULL)
          OR (m.received_at IS NULL AND EXCLUDED.received_at IS NOT NULL))
    RETURNING (xmax = 0) AS inserted`,
});
const RECORD: Record<Kind, { name: string; text: string }> = {
  sent: upsert('send_sms', 'sent_at'),
  received: upsert('receive_sms', 'received_at'),
};
const STORED = {
  name: 'find_stored',
  text: `SELECT sender_phone, receiver_phone, text,
                extract(epoch FROM sent_at)::float8 AS sent_at,
                extract(epoch FROM received_at)::float8 AS received_at
         FROM messages WHERE uuid = $1`,
};
// The newest $2 messages in which $1 takes part: one index range scan per side, merged.
const CONVERSATION = {
  name: 'get_conversation',
  text: `
    SELECT sender_phone, receiver_phone, text, extract(epoch FROM occurred_at)::float8 AS ts FROM (
      (SELECT * FROM messages WHERE sender_phone = $1 ORDER BY occurred_at DESC, uuid DESC LIMIT $2)
      UNION ALL
      (SELECT * FROM messages WHERE receiver_phone = $1 AND sender_phone <> $1
        ORDER BY occurred_at DESC, uuid DESC LIMIT $2)
    ) AS m
    ORDER BY occurred_at DESC, uuid DESC
    LIMIT $2`,
};

async function record(event: FloorEvent): Promise<200 | 201 | 409> {
  const { kind, uuid, senderPhone, receiverPhone, text, timestamp } = event;
  const written = await pool.query({
    ...RECORD[kind],
    values: [uuid, senderPhone, receiverPhone, text, event.encoding, event.segments, timestamp],
  });
  if (written.rows.length > 0) return 201;
  const { rows } = await pool.query<{
    sender_phone: string;
    receiver_phone: string;
    text: string;
    sent_at: number | null;
    received_at: number | null;
  }>({ ...STORED, values: [uuid] });
  const stored = rows[0];
  const replay =
    stored !== undefined &&
    stored.sender_phone === senderPhone &&
    stored.receiver_phone === receiverPhone &&
    stored.text === text &&
    (kind === 'sent' ? stored.sent_at : stored.received_at) === timestamp;
  return replay ? 200 : 409;
}

async function conversation(phone: string, limit: number) {
  const { rows } = await pool.query<{
    sender_phone: string;
    receiver_phone: string;
    text: string;
    ts: number;
  }>({ ...CONVERSATION, values: [phone, limit] });
  return rows.reverse().map((row) => {
    const sent = row.sender_phone === phone;
    return {
      phone_number: sent ? row.receiver_phone : row.sender_phone,
      message_text: row.text,
      timestamp: row.ts,
      direction: sent ? ('sent' as const) : ('received' as const),
    };
  });
}

serveFloor('seed floor', { record, conversation }, pool);
