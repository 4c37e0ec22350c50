import type { EventKind, ImportEvent, ReadItem } from './events.js';
import { messageUuid } from './message-uuid.js';

/** The columns of `GET /api/phones/{phone}/export`, in the CSV header's order. */
export const EXPORT_COLUMNS = [
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
] as const;

/**
 * One exported thread message (an NDJSON object, or a CSV row with its
 * numbers already read) as the events that recreate it: the sender's report
 * when `sentAt` is known and the receiver's when `receivedAt` is, so that a
 * delivered message arrives delivered. Both go in one request; the endpoint
 * puts a uuid's second event in a later round, so it merges.
 */
export function exportRowToItem(row: unknown, line: number): ReadItem {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) {
    return { kind: 'unreadable', line, reason: 'not a JSON object' };
  }
  const fields = row as Record<string, unknown>;
  const problems: string[] = [];
  const text = (name: string): string => {
    const value = fields[name];
    if (typeof value === 'string' && value !== '') return value;
    problems.push(`${name} is missing`);
    return '';
  };
  const time = (name: string, required: boolean): number | null => {
    const value = fields[name];
    if ((value === null || value === undefined) && !required) return null;
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
    problems.push(`${name} must be unix seconds${required ? '' : ' or null'}`);
    return null;
  };

  const senderPhone = text('senderPhone');
  const receiverPhone = text('receiverPhone');
  // Empty text is the service's to refuse (`invalid`), with its own words.
  const messageText =
    typeof fields.text === 'string' ? fields.text : (problems.push('text is missing'), '');
  const direction = fields.direction;
  if (direction !== 'sent' && direction !== 'received') {
    problems.push('direction must be "sent" or "received"');
  }
  const sentAt = time('sentAt', false);
  const receivedAt = time('receivedAt', false);
  const timestamp = time('timestamp', true);
  const given = fields.uuid;
  if (given !== undefined && given !== null && typeof given !== 'string') {
    problems.push('uuid must be a string');
  }
  if (problems.length > 0) return { kind: 'unreadable', line, reason: problems.join('; ') };

  const kind = direction as EventKind;
  const uuid =
    typeof given === 'string' && given !== ''
      ? given
      : messageUuid({
          owner: kind === 'sent' ? senderPhone : receiverPhone,
          counterpart: kind === 'sent' ? receiverPhone : senderPhone,
          time: timestamp!,
          direction: kind,
          text: messageText,
        });
  const event = (type: EventKind, at: number): ImportEvent => ({
    type,
    senderPhone,
    receiverPhone,
    messageText,
    timestamp: at,
    uuid,
  });
  const events: ImportEvent[] = [];
  if (sentAt !== null) events.push(event('sent', sentAt));
  if (receivedAt !== null) events.push(event('received', receivedAt));
  // Neither time known: the owner's side, at the message's time.
  if (events.length === 0) events.push(event(kind, timestamp!));
  return { kind: 'message', line, events };
}
