import type { PartyKind, SmsEncoding } from '@app/common';

/** The two events of a message's life, reported by `send-sms` and `receive-sms`. */
export type SmsEventKind = 'sent' | 'received';

/** Seen from one party: did that number send the message or receive it? */
export type MessageDirection = 'sent' | 'received';

/**
 * Where a message sent through a gateway stands: `queued` → `sending` →
 * `sent` (the provider took it) → `delivered` or `failed`.
 */
export const DELIVERY_STATUSES = ['queued', 'sending', 'sent', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * Where a message stands: for a reported message, which of its two events are
 * known (`sent`, `received`, both: `delivered`); for one sent through a
 * gateway, its delivery status.
 */
export const MESSAGE_STATUSES = [
  'queued',
  'sending',
  'sent',
  'received',
  'delivered',
  'failed',
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** What recording one event did to the store. */
export type RecordOutcome =
  /** First event of a new message. */
  | 'created'
  /** Second event of a known message (the other side's report). */
  | 'merged'
  /** The same event again: nothing changed. */
  | 'replayed';

/** Which kinds of party each event accepts in each role. */
export const ACCEPTED_PARTIES: Record<
  SmsEventKind,
  { sender: PartyKind[]; receiver: PartyKind[] }
> = {
  // A phone sends from its own number, to a number or a short code ("STOP" to 12345).
  sent: { sender: ['phone'], receiver: ['phone', 'shortCode'] },
  // A phone receives on its own number, from anything a carrier delivers.
  received: { sender: ['phone', 'shortCode', 'senderId'], receiver: ['phone'] },
};

/** Every kind of party, for looking up a conversation. */
export const ANY_PARTY: PartyKind[] = ['phone', 'shortCode', 'senderId'];

/** A normalized event, ready to store. */
export interface SmsEvent {
  kind: SmsEventKind;
  uuid: string;
  senderPhone: string;
  receiverPhone: string;
  text: string;
  encoding: SmsEncoding;
  segments: number;
  /** Unix seconds. */
  timestamp: number;
}

/** What the store did with one event of a batch; `stored` is set when it did nothing. */
export type StoreResult =
  { outcome: 'created' | 'merged' } | { outcome: 'unchanged'; stored: StoredMessageEvents };

/** The stored fields that decide whether an event replays or conflicts. */
export interface StoredMessageEvents {
  uuid: string;
  senderPhone: string;
  receiverPhone: string;
  text: string;
  sentAt: number | null;
  receivedAt: number | null;
}

/** A stored message as threads show it; times in unix seconds. */
export interface MessageRow {
  uuid: string;
  senderPhone: string;
  receiverPhone: string;
  text: string;
  encoding: SmsEncoding;
  segments: number;
  sentAt: number | null;
  receivedAt: number | null;
  occurredAt: number;
  deliveryStatus: DeliveryStatus | null;
}

/** A message with the server's own timestamps, for the one endpoint that shows them. */
export interface MessageRecordRow extends MessageRow {
  createdAt: Date;
  updatedAt: Date;
  /** The delivery of a message sent through a gateway; all null for reported messages. */
  gatewayId: string | null;
  providerMessageId: string | null;
  attempts: number | null;
  errorCode: string | null;
  errorReason: string | null;
  queuedAt: Date | null;
  handedOverAt: Date | null;
  deliveredAt: Date | null;
  failedAt: Date | null;
}

/** One message of get-conversation's answer, as the repository reads it (the contract's four fields). */
export interface ConversationEntry {
  phone_number: string;
  message_text: string;
  timestamp: number;
  direction: MessageDirection;
}

/** get-conversation's rows, newest first; `uuids[i]` is the key of `messages[i]`, for the cursor. */
export interface ConversationRows {
  messages: ConversationEntry[];
  uuids: string[];
}

/** One row of a party's thread list, with its newest message. */
export interface ConversationSummaryRow {
  counterpart: string;
  messageCount: number;
  lastOccurredAt: number;
  lastMessage: MessageRow;
}

/** A keyset position: before this (time, uuid). */
export interface MessagePosition {
  time: number;
  uuid: string;
}

/** A message with where its last change sits on the database clock (the live stream). */
export interface ChangedMessageRow extends MessageRow {
  /** `updated_at` in microseconds since the epoch (int8 arrives as a string). */
  position: string;
  /** Created after the client's Last-Event-ID (replays only). */
  isNew?: boolean;
}
