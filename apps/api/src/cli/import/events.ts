/**
 * What the readers produce and the uploader sends. The CLI is a plain HTTP
 * client: these mirror the import endpoint's contract (ImportEventDto,
 * ImportResponseDto in @app/messaging) instead of importing the Nest DTOs.
 */
export type EventKind = 'sent' | 'received';

/** One event of `POST /api/messages/import`. */
export interface ImportEvent {
  type: EventKind;
  senderPhone: string;
  receiverPhone: string;
  messageText: string;
  /** Unix seconds. */
  timestamp: number;
  uuid: string;
}

export const OUTCOMES = [
  'created',
  'merged',
  'replayed',
  'conflict',
  'invalid',
  'forbidden',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Outcomes that mean the event is stored as the file says. */
export const STORED_OUTCOMES: ReadonlySet<Outcome> = new Set(['created', 'merged', 'replayed']);

export interface ImportResult {
  index: number;
  uuid?: string;
  outcome: Outcome;
  details?: Array<{ field: string; problem: string }>;
}

export interface ImportResponse {
  results: ImportResult[];
  counts: Partial<Record<Outcome, number>>;
}

/** What a reader yields for each record of the file. */
export type ReadItem =
  | { kind: 'message'; line: number; events: ImportEvent[] }
  | { kind: 'skipped'; line: number; reason: string }
  | { kind: 'unreadable'; line: number; reason: string };

/** The owner's side of a message: the party whose report the event is. */
export function reporterOf(event: ImportEvent): string {
  return event.type === 'sent' ? event.senderPhone : event.receiverPhone;
}
