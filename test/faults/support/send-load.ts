import pg from 'pg';
import {
  buildSmsEvent,
  randomPhone,
  type SmsEventBody,
} from '../../factories/sms-event.factory.js';

/** An HTTP status, or the network error a request ended with (ECONNREFUSED, ...). */
export type Outcome = number | string;

export interface SentRequest {
  event: SmsEventBody;
  outcome: Outcome;
  /** performance.now() at the start and end of the request. */
  startedAt: number;
  endedAt: number;
  retryAfter?: string;
}

export interface Target {
  baseUrl: string;
  authorization: string;
}

/** What became of one request: its status, or the network error's code. */
export async function send(
  target: Target,
  path: string,
  body: unknown,
  options: { requestId?: string; timeoutMs?: number } = {},
): Promise<{ outcome: Outcome; retryAfter?: string }> {
  const { requestId, timeoutMs = 15_000 } = options;
  try {
    const response = await fetch(`${target.baseUrl}${path}`, {
      method: 'POST',
      headers: {
        Authorization: target.authorization,
        'Content-Type': 'application/json',
        ...(requestId ? { 'X-Request-Id': requestId } : {}),
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.arrayBuffer();
    return {
      outcome: response.status,
      ...(response.headers.has('retry-after')
        ? { retryAfter: response.headers.get('retry-after')! }
        : {}),
    };
  } catch (error) {
    return { outcome: networkErrorCode(error) };
  }
}

export function networkErrorCode(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; name?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.name === 'string') return cause.name;
  return (error as Error).name ?? String(error);
}

/**
 * Phones reporting sent messages as fast as the app answers: `concurrency`
 * clients, each sending its next event as soon as the previous one is
 * answered, over keep-alive connections (fetch's default). Every event has a
 * fresh uuid; the load remembers which ones were acknowledged (2xx).
 */
export class SendLoad {
  readonly acknowledged = new Map<string, SmsEventBody>();
  readonly unacknowledged = new Map<string, { event: SmsEventBody; outcome: Outcome }>();
  readonly outcomes = new Map<Outcome, number>();
  readonly senders = Array.from({ length: 4 }, () => randomPhone());
  readonly receivers = Array.from({ length: 4 }, () => randomPhone());
  private stopping = false;
  private workers: Promise<void>[] = [];
  private sequence = 0;

  constructor(
    private readonly target: Target,
    private readonly options: {
      concurrency: number;
      /** Called with every answer or failure, in order of completion. */
      onRequest?: (request: SentRequest) => void;
      /** A worker stops at its first outcome for which this says true. */
      stopOn?: (outcome: Outcome) => boolean;
    },
  ) {}

  start(): this {
    this.workers = Array.from({ length: this.options.concurrency }, () => this.work());
    return this;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.workers);
  }

  /** Resolves once `count` events are acknowledged (or after `timeoutMs`). */
  async acknowledgedAtLeast(count: number, timeoutMs = 30_000): Promise<void> {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
      if (this.acknowledged.size >= count) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`only ${this.acknowledged.size} of ${count} events acknowledged in time`);
  }

  count(predicate: (outcome: Outcome) => boolean): number {
    let total = 0;
    for (const [outcome, n] of this.outcomes) if (predicate(outcome)) total += n;
    return total;
  }

  private async work(): Promise<void> {
    while (!this.stopping) {
      this.sequence += 1;
      const event = buildSmsEvent({
        senderPhone: this.senders[this.sequence % this.senders.length],
        receiverPhone: this.receivers[Math.floor(this.sequence / 4) % this.receivers.length],
      });
      const startedAt = performance.now();
      // The uuid doubles as the request id, to find the request in the app's log.
      const { outcome, retryAfter } = await send(this.target, '/api/send-sms', event, {
        requestId: event.uuid,
      });
      const endedAt = performance.now();
      this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
      if (typeof outcome === 'number' && outcome >= 200 && outcome < 300) {
        this.acknowledged.set(event.uuid, event);
      } else {
        this.unacknowledged.set(event.uuid, { event, outcome });
      }
      this.options.onRequest?.({
        event,
        outcome,
        startedAt,
        endedAt,
        ...(retryAfter ? { retryAfter } : {}),
      });
      if (this.options.stopOn?.(outcome)) return;
      // Nobody is listening: do not spin.
      if (typeof outcome === 'string') await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

export interface StoredCount {
  /** uuid → rows with that uuid. */
  rows: Map<string, number>;
  /** Threads whose summary count differs from the messages stored for them. */
  miscountedThreads: Array<{ owner: string; counterpart: string; summary: number; actual: number }>;
}

/** Reads what the database holds for these uuids and these parties' thread summaries. */
export async function readStored(
  databaseUrl: string,
  uuids: string[],
  parties: string[],
): Promise<StoredCount> {
  const client = new pg.Client({ connectionString: databaseUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query<{ uuid: string; n: string }>(
      'SELECT uuid::text, count(*) AS n FROM messages WHERE uuid = ANY($1::uuid[]) GROUP BY uuid',
      [uuids],
    );
    const threads = await client.query<{
      owner: string;
      counterpart: string;
      summary: number;
      actual: string;
    }>(
      `SELECT c.owner_phone AS owner, c.counterpart_phone AS counterpart, c.message_count AS summary,
              (SELECT count(*) FROM messages m
                WHERE (m.sender_phone = c.owner_phone AND m.receiver_phone = c.counterpart_phone)
                   OR (m.sender_phone = c.counterpart_phone AND m.receiver_phone = c.owner_phone)) AS actual
         FROM conversations c
        WHERE c.owner_phone = ANY($1) OR c.counterpart_phone = ANY($1)`,
      [parties],
    );
    return {
      rows: new Map(rows.map((row) => [row.uuid, Number(row.n)])),
      miscountedThreads: threads.rows
        .map((row) => ({ ...row, actual: Number(row.actual) }))
        .filter((row) => row.summary !== row.actual),
    };
  } finally {
    await client.end();
  }
}
