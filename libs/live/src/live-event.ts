import type { ThreadMessageDto } from '@app/messaging';

/** The SSE event types of `GET /api/phones/{phone}/events`. */
export const LIVE_EVENT_TYPES = {
  /** A message in which the number takes part was recorded for the first time. */
  created: 'message.created',
  /** A known message changed: the other side's report arrived (status `delivered`). */
  updated: 'message.updated',
  /** The stream is live; sent once, after any replay. */
  ready: 'ready',
  /** Too much was missed to replay: reload the lists, then carry on with the stream. */
  resync: 'resync',
} as const;

export type LiveEventType = (typeof LIVE_EVENT_TYPES)[keyof typeof LIVE_EVENT_TYPES];

/** What a message change was; `updated` is a merge (the second side's report). */
export type ChangeKind = 'created' | 'updated';

/** One recorded change, as instances tell each other about it (no text: NOTIFY payloads are small). */
export interface MessageChange {
  kind: ChangeKind;
  uuid: string;
  senderPhone: string;
  receiverPhone: string;
}

/** One message event for one subscribed number. */
export interface LiveMessageEvent {
  type: ChangeKind;
  /** Where the change sits in the database's clock; see {@link formatEventId}. */
  position: bigint;
  message: ThreadMessageDto;
}

/**
 * PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; stay clear of it.
 * Every field is ASCII (uuids, E.164 numbers, short codes, sender IDs), so
 * characters are bytes.
 */
export const MAX_NOTIFY_PAYLOAD_BYTES = 7_900;
const PAYLOAD_VERSION = 1;
const KIND_CODES: Record<ChangeKind, string> = { created: 'c', updated: 'u' };

/**
 * Packs changes into as few NOTIFY payloads as fit under the size limit:
 * `{"v":1,"m":[["c",uuid,sender,receiver],...]}`.
 */
export function encodeChanges(
  changes: readonly MessageChange[],
  maxBytes = MAX_NOTIFY_PAYLOAD_BYTES,
): string[] {
  const envelope = (items: string[]) => `{"v":${PAYLOAD_VERSION},"m":[${items.join(',')}]}`;
  const emptySize = envelope([]).length;
  const payloads: string[] = [];
  let batch: string[] = [];
  let size = emptySize;
  for (const change of changes) {
    const item = JSON.stringify([
      KIND_CODES[change.kind],
      change.uuid,
      change.senderPhone,
      change.receiverPhone,
    ]);
    const added = item.length + (batch.length > 0 ? 1 : 0);
    if (batch.length > 0 && size + added > maxBytes) {
      payloads.push(envelope(batch));
      batch = [];
      size = emptySize;
    }
    batch.push(item);
    size += item.length + (batch.length > 1 ? 1 : 0);
  }
  if (batch.length > 0) payloads.push(envelope(batch));
  return payloads;
}

/** The changes of a payload; anything malformed (another version, a stray NOTIFY) is dropped. */
export function decodeChanges(payload: string): MessageChange[] {
  let decoded: unknown;
  try {
    decoded = JSON.parse(payload);
  } catch {
    return [];
  }
  const { v, m } = (decoded ?? {}) as { v?: unknown; m?: unknown };
  if (v !== PAYLOAD_VERSION || !Array.isArray(m)) return [];
  return m.flatMap((item: unknown): MessageChange[] => {
    if (!Array.isArray(item) || item.length !== 4 || !item.every((f) => typeof f === 'string')) {
      return [];
    }
    const [code, uuid, senderPhone, receiverPhone] = item as [string, string, string, string];
    const kind = code === 'c' ? 'created' : code === 'u' ? 'updated' : undefined;
    return kind ? [{ kind, uuid, senderPhone, receiverPhone }] : [];
  });
}

/**
 * Event ids are positions on the database's clock: the changed row's
 * `updated_at` in microseconds since the epoch, in decimal. Every instance
 * reads the same clock, so an id from one instance resumes on another.
 */
export function formatEventId(position: bigint): string {
  return position.toString();
}

const EVENT_ID = /^[0-9]{1,18}$/;

/** The position of a Last-Event-ID, or undefined when it is not one of ours. */
export function parseEventId(value: string): bigint | undefined {
  const trimmed = value.trim();
  return EVENT_ID.test(trimmed) ? BigInt(trimmed) : undefined;
}

/** A position as a timestamptz literal, exact to the microsecond (a float would round). */
export function positionToTimestamp(position: bigint): string {
  const micros = position < 0n ? 0n : position;
  const seconds = micros / 1_000_000n;
  const fraction = (micros % 1_000_000n).toString().padStart(6, '0');
  const whole = new Date(Number(seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, '');
  return `${whole}.${fraction}Z`;
}
