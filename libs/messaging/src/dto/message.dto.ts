import { ApiDateTime, ApiInteger, ApiParty, ApiText, ApiUuid } from '@app/common';
import { ApiProperty } from '@nestjs/swagger';
import { messageStatus } from '../message.entity.js';
import {
  DELIVERY_STATUSES,
  type DeliveryStatus,
  MESSAGE_STATUSES,
  type MessageDirection,
  type MessageRecordRow,
  type MessageRow,
  type MessageStatus,
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
  /**
   * A reported message: `sent` (only the send is known), `received` (only the receipt) or `delivered` (both). A message sent through a gateway: `queued`, `sending`, `sent` (the provider took it), `delivered` or `failed`.
   * @example "delivered"
   */
  @ApiProperty({ enum: MESSAGE_STATUSES })
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

/** The delivery of a message sent through a gateway (POST /api/messages). */
export class DeliveryDto {
  /** @example "sent" */
  @ApiProperty({ enum: DELIVERY_STATUSES })
  status: DeliveryStatus;
  /** The connection it goes out through. @example "6d1f2c1e-5a47-4b8e-9f0c-2b7a4d9e3c11" */
  @ApiUuid()
  gatewayId: string;
  /** The provider's id of the message, once it took it. @example "SM0123456789abcdef0123456789abcdef" */
  @ApiProperty({ type: String, nullable: true, maxLength: 128 })
  providerMessageId: string | null;
  /** Hand-overs tried so far. @example 1 */
  @ApiInteger(0, 32767)
  attempts: number;
  /** The provider's error code (Twilio ErrorCode, SMPP status or receipt error), when it failed. @example null */
  @ApiProperty({ type: String, nullable: true, maxLength: 64 })
  errorCode: string | null;
  /** A readable reason, when it failed. @example null */
  @ApiProperty({ type: String, nullable: true, maxLength: 500 })
  errorReason: string | null;
  /** ISO 8601. @example "2025-11-25T12:00:00.000Z" */
  @ApiDateTime()
  queuedAt: string;
  /** When the provider took it (ISO 8601). @example "2025-11-25T12:00:00.200Z" */
  @ApiDateTime(true)
  sentAt: string | null;
  /** When its delivery was reported (ISO 8601). @example "2025-11-25T12:00:03.000Z" */
  @ApiDateTime(true)
  deliveredAt: string | null;
  /** When it failed for good (ISO 8601). @example null */
  @ApiDateTime(true)
  failedAt: string | null;
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
  /** As in threads: see ThreadMessage.status. @example "delivered" */
  @ApiProperty({ enum: MESSAGE_STATUSES })
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
  /** How it went out, for a message sent through a gateway; null for reported messages. */
  @ApiProperty({ type: () => DeliveryDto, nullable: true })
  delivery: DeliveryDto | null;
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
    delivery: toDeliveryDto(row),
  };
}

function toDeliveryDto(row: MessageRecordRow): DeliveryDto | null {
  if (row.gatewayId === null || row.deliveryStatus === null || row.queuedAt === null) return null;
  return {
    status: row.deliveryStatus,
    gatewayId: row.gatewayId,
    providerMessageId: row.providerMessageId,
    attempts: row.attempts ?? 0,
    errorCode: row.errorCode,
    errorReason: row.errorReason,
    queuedAt: row.queuedAt.toISOString(),
    sentAt: row.handedOverAt?.toISOString() ?? null,
    deliveredAt: row.deliveredAt?.toISOString() ?? null,
    failedAt: row.failedAt?.toISOString() ?? null,
  };
}
