import { ApiDateTime, ApiParty, ApiText, ApiUuid } from '@app/common';
import { messageStatus } from '../message.entity.js';
import type {
  MessageDirection,
  MessageRecordRow,
  MessageRow,
  MessageStatus,
} from '../messages.types.js';
import type { SmsEncoding } from '@app/common';

/** A message in a thread, seen from one party. */
export class ThreadMessageDto {
  /** @example "5f0c6f1e-8d2b-4c7e-9a51-3c1d2b8e7f40" */
  @ApiUuid()
  uuid: string;
  /** @example "+12025550143" */
  @ApiParty()
  senderPhone: string;
  /** @example "+12025550178" */
  @ApiParty()
  receiverPhone: string;
  /** @example "Running 10 minutes late, see you at 7" */
  @ApiText()
  text: string;
  /** Seen from the number in the path. @example "sent" */
  direction: MessageDirection;
  /** `sent`: only the send is known; `received`: only the receipt; `delivered`: both. @example "delivered" */
  status: MessageStatus;
  /** When the sender reported it sent, unix seconds; null until then. @example 1764072000 */
  sentAt: number | null;
  /** When the receiver reported it received, unix seconds; null until then. @example 1764072004 */
  receivedAt: number | null;
  /** Its place in the thread: the first reported event's time, unix seconds. @example 1764072000 */
  timestamp: number;
  /** `GSM-7` or `UCS-2` (3GPP TS 23.038). @example "GSM-7" */
  encoding: SmsEncoding;
  /** How many SMS segments the carrier bills. @example 1 */
  segments: number;
}

/** One message with its whole record. */
export class MessageDto {
  /** @example "5f0c6f1e-8d2b-4c7e-9a51-3c1d2b8e7f40" */
  @ApiUuid()
  uuid: string;
  /** @example "+12025550143" */
  @ApiParty()
  senderPhone: string;
  /** @example "+12025550178" */
  @ApiParty()
  receiverPhone: string;
  /** @example "Running 10 minutes late, see you at 7" */
  @ApiText()
  text: string;
  /** @example "delivered" */
  status: MessageStatus;
  /** Unix seconds, null until the send is reported. @example 1764072000 */
  sentAt: number | null;
  /** Unix seconds, null until the receipt is reported. @example 1764072004 */
  receivedAt: number | null;
  /** The message's place in its threads: the first reported event's time, unix seconds. @example 1764072000 */
  timestamp: number;
  /** @example "GSM-7" */
  encoding: SmsEncoding;
  /** @example 1 */
  segments: number;
  /** When the server first stored it (ISO 8601). @example "2025-11-25T12:00:00.123Z" */
  @ApiDateTime()
  createdAt: string;
  /** When the server last changed it (ISO 8601). @example "2025-11-25T12:00:04.456Z" */
  @ApiDateTime()
  updatedAt: string;
}

export function toThreadMessageDto(row: MessageRow, viewer: string): ThreadMessageDto {
  return {
    uuid: row.uuid,
    senderPhone: row.senderPhone,
    receiverPhone: row.receiverPhone,
    text: row.text,
    direction: row.senderPhone === viewer ? 'sent' : 'received',
    status: messageStatus(row),
    sentAt: row.sentAt,
    receivedAt: row.receivedAt,
    timestamp: row.occurredAt,
    encoding: row.encoding,
    segments: row.segments,
  };
}

export function toMessageDto(row: MessageRecordRow): MessageDto {
  return {
    uuid: row.uuid,
    senderPhone: row.senderPhone,
    receiverPhone: row.receiverPhone,
    text: row.text,
    status: messageStatus(row),
    sentAt: row.sentAt,
    receivedAt: row.receivedAt,
    timestamp: row.occurredAt,
    encoding: row.encoding,
    segments: row.segments,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
