import type { PartyKind } from '@app/common';

/** The two events of a message's life, reported by `send-sms` and `receive-sms`. */
export type SmsEventKind = 'sent' | 'received';

/** Seen from one party: did that number send the message or receive it? */
export type MessageDirection = 'sent' | 'received';

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

/** A normalized event, ready to store. */
export interface SmsEvent {
  kind: SmsEventKind;
  uuid: string;
  senderPhone: string;
  receiverPhone: string;
  text: string;
  encoding: 'GSM-7' | 'UCS-2';
  segments: number;
  /** Unix seconds. */
  timestamp: number;
}

/** The stored fields that decide whether an event replays, merges or conflicts. */
export interface StoredMessageEvents {
  senderPhone: string;
  receiverPhone: string;
  text: string;
  sentAt: number | null;
  receivedAt: number | null;
}

export interface ConversationRow {
  uuid: string;
  senderPhone: string;
  receiverPhone: string;
  text: string;
  /** Unix seconds. */
  occurredAt: number;
}
