// The benchmark's floor: the seed contract (send-sms, receive-sms,
// get-conversation) on raw node:http + pg, no framework. Same durable upsert
// (INSERT ... ON CONFLICT (uuid) DO UPDATE), same indexes, named prepared
// statements, a small pool; validation kept minimal on purpose.
//
//   PORT=3100 DATABASE_URL=postgres://... DB_POOL_SIZE=4 node dist/bench/baseline/server.js
//
// Its schema is bench/baseline/schema.sql (applied by the bench runner).
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import pg from 'pg';

type Kind = 'sent' | 'received';

const PORT = Number(process.env.PORT ?? 3100);
const HOST = process.env.HOST ?? '127.0.0.1';
const BODY_LIMIT = 64 * 1024;
const CONVERSATION_PREFIX = '/api/get-conversation/';

const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DB_POOL_SIZE ?? 4),
  application_name: 'sms-baseline',
});
pool.on('error', () => undefined);

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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const GSM_LIKE = /^[\n\r\x20-\x7e]*$/;

/** E.164 for the usual spellings of a number (US by default), else null. */
function normalizePhone(raw: unknown): string | null {
  if (typeof raw !== 'string' || raw.length > 32) return null;
  const compact = raw.replace(/[\s().-]/g, '');
  if (/^\+[1-9][0-9]{7,14}$/.test(compact)) return compact;
  if (/^1[0-9]{10}$/.test(compact)) return `+${compact}`;
  if (/^[0-9]{10}$/.test(compact)) return `+1${compact}`;
  return null;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
  });
  res.end(json);
}

function readJson(req: IncomingMessage): Promise<{ body?: unknown; error?: number }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= BODY_LIMIT) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > BODY_LIMIT) return resolve({ error: 413 });
      try {
        resolve({ body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      } catch {
        resolve({ error: 400 });
      }
    });
    req.on('error', () => resolve({ error: 400 }));
  });
}

async function record(kind: Kind, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { body, error } = await readJson(req);
  if (error) return send(res, error, { statusCode: error, message: 'Bad body' });
  if (body === null || typeof body !== 'object') {
    return send(res, 400, { statusCode: 400, message: 'body must be an object' });
  }
  const event = body as Record<string, unknown>;
  const sender = normalizePhone(event.senderPhone);
  const receiver = normalizePhone(event.receiverPhone);
  const { messageText: text, timestamp, uuid } = event;
  if (
    !sender ||
    !receiver ||
    typeof text !== 'string' ||
    text.length < 1 ||
    text.length > 1600 ||
    typeof timestamp !== 'number' ||
    !Number.isInteger(timestamp) ||
    timestamp < 0 ||
    timestamp > 1e11 ||
    typeof uuid !== 'string' ||
    !UUID.test(uuid)
  ) {
    return send(res, 400, { statusCode: 400, message: 'Invalid field' });
  }
  const gsm = GSM_LIKE.test(text);
  const perSegment = gsm ? [160, 153] : [70, 67];
  const segments = text.length <= perSegment[0] ? 1 : Math.ceil(text.length / perSegment[1]);
  const id = uuid.toLowerCase();
  const written = await pool.query({
    ...RECORD[kind],
    values: [id, sender, receiver, text, gsm ? 'GSM-7' : 'UCS-2', segments, timestamp],
  });
  const message = kind === 'sent' ? 'SMS sent successfully' : 'SMS received successfully';
  if (written.rows.length > 0) return send(res, 201, { message });
  const { rows } = await pool.query<{
    sender_phone: string;
    receiver_phone: string;
    text: string;
    sent_at: number | null;
    received_at: number | null;
  }>({ ...STORED, values: [id] });
  const stored = rows[0];
  const replay =
    stored !== undefined &&
    stored.sender_phone === sender &&
    stored.receiver_phone === receiver &&
    stored.text === text &&
    (kind === 'sent' ? stored.sent_at : stored.received_at) === timestamp;
  if (replay) return send(res, 200, { message });
  return send(res, 409, {
    statusCode: 409,
    message: `uuid ${id} is already used by another message`,
  });
}

async function conversation(
  rawPhone: string,
  query: URLSearchParams,
  res: ServerResponse,
): Promise<void> {
  let phone: string | null;
  try {
    phone = normalizePhone(decodeURIComponent(rawPhone));
  } catch {
    phone = null;
  }
  const limit = query.has('limit') ? Number(query.get('limit')) : 100;
  if (!phone || !Number.isInteger(limit) || limit < 1 || limit > 1000) {
    return send(res, 400, { statusCode: 400, message: 'Invalid phone_number or limit' });
  }
  const { rows } = await pool.query<{
    sender_phone: string;
    receiver_phone: string;
    text: string;
    ts: number;
  }>({ ...CONVERSATION, values: [phone, limit] });
  const messages = rows.reverse().map((row) => {
    const sent = row.sender_phone === phone;
    return {
      phone_number: sent ? row.receiver_phone : row.sender_phone,
      message_text: row.text,
      timestamp: row.ts,
      direction: sent ? 'sent' : 'received',
    };
  });
  return send(res, 200, { messages });
}

const server = http.createServer((req, res) => {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  let work: Promise<void>;
  if (req.method === 'POST' && path === '/api/send-sms') work = record('sent', req, res);
  else if (req.method === 'POST' && path === '/api/receive-sms') {
    work = record('received', req, res);
  } else if (
    req.method === 'GET' &&
    path.startsWith(CONVERSATION_PREFIX) &&
    path.length > CONVERSATION_PREFIX.length
  ) {
    const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
    work = conversation(path.slice(CONVERSATION_PREFIX.length), query, res);
  } else {
    req.resume();
    return send(res, 404, { statusCode: 404, message: 'Not Found' });
  }
  work.catch(() => {
    if (!res.headersSent) send(res, 503, { statusCode: 503, message: 'Database unavailable' });
    else res.destroy();
  });
});

server.listen(PORT, HOST, () => console.log(`baseline listening on http://${HOST}:${PORT}`));

function stop(): void {
  server.close();
  server.closeAllConnections();
  void pool.end().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
