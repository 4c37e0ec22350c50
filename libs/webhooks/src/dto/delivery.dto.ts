import { ApiProperty } from '@nestjs/swagger';
import { IsUUID, Matches } from 'class-validator';
import { ApiDateTime, ApiInteger, ApiMaxItems, ApiUuid } from '@app/common';
import {
  WEBHOOK_EVENT_STATES,
  WEBHOOK_EVENT_TYPES,
  type WebhookEventState,
  type WebhookEventType,
} from '../webhook-event-types.js';
import type { DeliveryRow } from '../webhooks.repository.js';

/** One attempt to deliver an event. */
export class DeliveryDto {
  /** The attempt's id, for a redelivery. @example "1042" */
  @ApiProperty({ pattern: '^[0-9]{1,19}$' })
  id: string;
  /** The event's id (also its `webhook-id` header). @example "3f1c2b7a-4d9e-4c11-8f0c-2b7a4d9e3c11" */
  @ApiUuid()
  eventId: string;
  /** @example "message.created" */
  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES })
  type: WebhookEventType;
  /** @example "5f0c6f1e-8d2b-4c7e-9a51-3c1d2b8e7f40" */
  @ApiUuid()
  messageUuid: string;
  /** ISO 8601. @example "2025-11-25T12:00:00.120Z" */
  @ApiDateTime()
  attemptedAt: string;
  /** The receiver's HTTP status; null when none came (refused, timed out, blocked). @example 200 */
  @ApiProperty({ type: Number, nullable: true, minimum: 100, maximum: 999 })
  statusCode: number | null;
  /** From the request's start to the answer's end. @example 84 */
  @ApiInteger(0, 2_147_483_647)
  latencyMs: number;
  /** Why it did not count as accepted; null when it did. @example null */
  @ApiProperty({ type: String, nullable: true, maxLength: 500 })
  error: string | null;
  /** Any 2xx. @example true */
  accepted: boolean;
}

export class DeliveryListDto {
  /** The last 100 attempts, newest first. */
  @ApiProperty({ type: () => [DeliveryDto] })
  @ApiMaxItems(100)
  deliveries: DeliveryDto[];
}

/** A redelivery, queued. */
export class RedeliveryDto {
  /** @example "3f1c2b7a-4d9e-4c11-8f0c-2b7a4d9e3c11" */
  @ApiUuid()
  eventId: string;
  /** Where the event stands now: `pending` until it is delivered again. @example "pending" */
  @ApiProperty({ enum: WEBHOOK_EVENT_STATES })
  state: WebhookEventState;
}

export function toDeliveryDto(row: DeliveryRow): DeliveryDto {
  return {
    id: row.id,
    eventId: row.eventId,
    type: row.type,
    messageUuid: row.messageUuid,
    attemptedAt: row.attemptedAt.toISOString(),
    statusCode: row.statusCode,
    latencyMs: row.latencyMs,
    error: row.error,
    accepted: row.accepted,
  };
}

/** The path of a redelivery. */
export class RedeliverParamsDto {
  @IsUUID('all', { message: 'id must be a UUID' })
  id: string;

  /** A delivery's id, as the deliveries list gives it. */
  @Matches(/^[1-9][0-9]{0,17}$/, { message: 'deliveryId must be a delivery id from the list' })
  deliveryId: string;
}
