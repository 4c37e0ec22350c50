import { ApiProperty } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsDefined,
  IsIn,
  IsOptional,
  IsString,
  MaxLength,
} from 'class-validator';
import { ApiDateTime, ApiMaxItems, ApiParties, ApiUuid } from '@app/common';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../webhook-event-types.js';
import type { WebhookRow } from '../webhooks.repository.js';

export const MAX_URL_LENGTH = 2048;
export const MAX_WEBHOOK_PHONES = 100;
const MAX_PHONE_INPUT_LENGTH = 32;

export class CreateWebhookDto {
  /**
   * Where events are posted. https (plain http outside production); never to loopback, private, link-local or metadata addresses unless WEBHOOK_ALLOW_PRIVATE=true.
   * @example "https://hooks.example.com/sms"
   */
  @IsDefined()
  @IsString()
  @MaxLength(MAX_URL_LENGTH)
  @ApiProperty({ maxLength: MAX_URL_LENGTH, format: 'uri' })
  url: string;

  /** @example ["message.created", "message.updated"] */
  @IsDefined()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length)
  @ArrayUnique()
  @IsIn(WEBHOOK_EVENT_TYPES, { each: true })
  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true, maxItems: WEBHOOK_EVENT_TYPES.length })
  events: WebhookEventType[];

  /**
   * Only messages in which one of these numbers takes part. Omitted: every number for the admin key, the key's own numbers for a phone key (which may only name its own).
   * @example ["+12025550143"]
   */
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_WEBHOOK_PHONES)
  @IsString({ each: true })
  @MaxLength(MAX_PHONE_INPUT_LENGTH, { each: true })
  @ApiParties(MAX_WEBHOOK_PHONES)
  phones?: string[];
}

/** A webhook as the list shows it: never the secret. */
export class WebhookDto {
  /** @example "9b2f8c1e-6a47-4d8e-9f0c-2b7a4d9e3c11" */
  @ApiUuid()
  id: string;
  /** @example "https://hooks.example.com/sms" */
  @ApiProperty({ maxLength: MAX_URL_LENGTH, format: 'uri' })
  url: string;
  /** @example ["message.created", "message.updated"] */
  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true, maxItems: WEBHOOK_EVENT_TYPES.length })
  events: WebhookEventType[];
  /** The numbers it hears of; null: every number. @example ["+12025550143"] */
  @ApiParties(MAX_WEBHOOK_PHONES)
  @ApiProperty({ nullable: true })
  phones: string[] | null;
  /** False once disabled: its receiver answered 410, or failed for 3 days. @example true */
  enabled: boolean;
  /** Why it was disabled; null while enabled. @example null */
  @ApiProperty({ type: String, nullable: true, maxLength: 500 })
  disabledReason: string | null;
  /** ISO 8601; null while enabled. @example null */
  @ApiDateTime(true)
  disabledAt: string | null;
  /** Since when every attempt has failed (ISO 8601); null while it works. @example null */
  @ApiDateTime(true)
  failingSince: string | null;
  /** ISO 8601. @example "2025-11-25T12:00:00.000Z" */
  @ApiDateTime()
  createdAt: string;
}

/** A webhook just created, with its signing secret: shown this once. */
export class CreatedWebhookDto extends WebhookDto {
  /**
   * The Standard Webhooks signing secret (`whsec_` + base64); verify each request's `webhook-signature` with it.
   * @example "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
   */
  @ApiProperty({ maxLength: 64 })
  secret: string;
}

export class WebhookListDto {
  @ApiProperty({ type: () => [WebhookDto] })
  @ApiMaxItems(10_000)
  webhooks: WebhookDto[];
}

export function toWebhookDto(row: WebhookRow): WebhookDto {
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    phones: row.phones,
    enabled: row.enabled,
    disabledReason: row.disabledReason,
    disabledAt: row.disabledAt?.toISOString() ?? null,
    failingSince: row.failingSince?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}
