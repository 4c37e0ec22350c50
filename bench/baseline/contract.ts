// The seed contract on raw node:http, shared by both floors (server.ts and
// same-sql-server.ts), so that they answer alike by construction: the same
// routes, minimal validation, normalizePhone, encoding and bodies. What a
// floor brings is its storage.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import pg from 'pg';

export type Kind = 'sent' | 'received';

/** A valid event of send-sms or receive-sms, normalized. */
export interface FloorEvent {
  kind: Kind;
  /** Lower case. */
  uuid: string;
  senderPhone: string;
  receiverPhone: string;
  text: string;
  encoding: 'GSM-7' | 'UCS-2';
  segments: number;
  /** Unix seconds. */
  timestamp: number;
}

/** One message of get-conversation's answer, seen from the requested number. */
export interface WireMessage {
  phone_number: string;
  message_text: string;
  timestamp: number;
  direction: 'sent' | 'received';
}

export interface FloorStorage {
  /** 201: stored (new, or the other side's event); 200: the same event again; 409: uuid taken. */
  record(event: FloorEvent): Promise<200 | 201 | 409>;
  /** The newest `limit` messages in which `phone` takes part, oldest first. */
  conversation(phone: string, limit: number): Promise<WireMessage[]>;
  /** The answer to a request whose storage call threw; undefined (or absent): 503. */
  failure?(error: unknown): { status: number; body: unknown } | undefined;
}

const BODY_LIMIT = 64 * 1024;
const CONVERSATION_PREFIX = '/api/get-conversation/';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const GSM_LIKE = /^[\n\r\x20-\x7e]*$/;

/** E.164 for the usual spellings of a number (US by default), else null. */
export function normalizePhone(raw: unknown): string | null {
  if (typeof raw !== 'string' || raw.length > 32) return null;
  const compact = raw.replace(/[\s().-]/g, '');
  if (/^\+[1-9][0-9]{7,14}$/.test(compact)) return compact;
  if (/^1[0-9]{10}$/.test(compact)) return `+${compact}`;
  if (/^[0-9]{10}$/.test(compact)) return `+1${compact}`;
  return null;
}

/** The pool of DATABASE_URL, DB_POOL_SIZE connections. */
export function floorPool(applicationName: string): pg.Pool {
  const pool = new pg.Pool({
    connectionString: process.env.DATABASE_URL,
    max: Number(process.env.DB_POOL_SIZE ?? 4),
    application_name: applicationName,
  });
  pool.on('error', () => undefined);
  return pool;
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

async function record(
  storage: FloorStorage,
  kind: Kind,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { body, error } = await readJson(req);
  if (error) return send(res, error, { statusCode: error, message: 'Bad body' });
  if (body === null || typeof body !== 'object') {
    return send(res, 400, { statusCode: 400, message: 'body must be an object' });
  }
  const input = body as Record<string, unknown>;
  const sender = normalizePhone(input.senderPhone);
  const receiver = normalizePhone(input.receiverPhone);
  const { messageText: text, timestamp, uuid } = input;
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
  const event: FloorEvent = {
    kind,
    uuid: uuid.toLowerCase(),
    senderPhone: sender,
    receiverPhone: receiver,
    text,
    encoding: gsm ? 'GSM-7' : 'UCS-2',
    segments,
    timestamp,
  };
  const status = await storage.record(event);
  if (status === 409) {
    return send(res, 409, {
      statusCode: 409,
      message: `uuid ${event.uuid} is already used by another message`,
    });
  }
  send(res, status, {
    message: kind === 'sent' ? 'SMS sent successfully' : 'SMS received successfully',
  });
}

async function conversation(
  storage: FloorStorage,
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
  send(res, 200, { messages: await storage.conversation(phone, limit) });
}

const UNAVAILABLE = { status: 503, body: { statusCode: 503, message: 'Database unavailable' } };

/** Serves the seed contract from `storage` on HOST:PORT until SIGTERM/SIGINT. */
export function serveFloor(name: string, storage: FloorStorage, pool: pg.Pool): void {
  const port = Number(process.env.PORT ?? 3100);
  const host = process.env.HOST ?? '127.0.0.1';
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    let work: Promise<void>;
    if (req.method === 'POST' && path === '/api/send-sms') work = record(storage, 'sent', req, res);
    else if (req.method === 'POST' && path === '/api/receive-sms') {
      work = record(storage, 'received', req, res);
    } else if (
      req.method === 'GET' &&
      path.startsWith(CONVERSATION_PREFIX) &&
      path.length > CONVERSATION_PREFIX.length
    ) {
      const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
      work = conversation(storage, path.slice(CONVERSATION_PREFIX.length), query, res);
    } else {
      req.resume();
      return send(res, 404, { statusCode: 404, message: 'Not Found' });
    }
    work.catch((error: unknown) => {
      if (res.headersSent) return res.destroy();
      const { status, body } = storage.failure?.(error) ?? UNAVAILABLE;
      send(res, status, body);
    });
  });

  server.listen(port, host, () => console.log(`${name} listening on http://${host}:${port}`));

  const stop = (): void => {
    server.close();
    server.closeAllConnections();
    void pool.end().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
