import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDefined,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { ApiProperty } from '@nestjs/swagger';
import {
  ApiDateTime,
  ApiParties,
  ApiText,
  ApiUuid,
  HasCodePointLength,
  IsStorableText,
} from '@app/common';
import type { Gateway } from '../gateway.entity.js';
import {
  GATEWAY_PROVIDERS,
  type GatewayProviderName,
  hasWebhook,
} from '../gateway-provider-name.js';
import { publicOutbound } from '../outbound/outbound-settings.js';
import { OutboundDto, OutboundSettingsDto } from './outbound.dto.js';

export const MAX_GATEWAY_LABEL_LENGTH = 100;
export const MAX_PHONES_PER_GATEWAY = 100;
export const MIN_SECRET_LENGTH = 8;
export const MAX_SECRET_LENGTH = 512;
const MAX_PHONE_INPUT_LENGTH = 32;
/** `PUBLIC_BASE_URL` (at most 2048 characters) plus the webhook's path. */
const MAX_WEBHOOK_URL_LENGTH = 2048 + 64;

export class CreateGatewayDto {
  /**
   * The gateway: `twilio`, `android-sms-gateway` (SMS Gateway for Android), `textbee` (receive only) or `smpp` (send only, through an SMSC).
   * @example "twilio"
   */
  @IsDefined()
  @IsIn(GATEWAY_PROVIDERS)
  provider: GatewayProviderName;

  /**
   * What the connection is for, shown in the list; 1 to 100 characters.
   * @example "Shop's Twilio number"
   */
  @IsDefined()
  @IsString()
  @IsStorableText()
  @HasCodePointLength(1, MAX_GATEWAY_LABEL_LENGTH)
  @Matches(/\S/, { message: 'label must not be blank' })
  @ApiText(MAX_GATEWAY_LABEL_LENGTH)
  label: string;

  /**
   * The numbers this gateway receives SMS for and, with `outbound`, sends from (1 to 100), in any format libphonenumber understands; stored as E.164. A number sends through one connection only. For SMS Gateway for Android, list them in SIM order: the webhook's `simNumber` picks one.
   * @example ["+12025550143"]
   */
  @IsDefined()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_PHONES_PER_GATEWAY)
  @IsString({ each: true })
  @MaxLength(MAX_PHONE_INPUT_LENGTH, { each: true })
  @ApiParties(MAX_PHONES_PER_GATEWAY)
  phones: string[];

  /**
   * The provider's signing secret: the Twilio auth token (which also sends), the Android app's webhook signing key, or the textbee webhook secret. Required, except for `smpp`, which has no webhook and takes none. Stored encrypted; never shown again.
   * @example "0123456789abcdef0123456789abcdef"
   */
  @IsOptional()
  @IsString()
  @IsStorableText()
  @HasCodePointLength(MIN_SECRET_LENGTH, MAX_SECRET_LENGTH)
  @ApiText(MAX_SECRET_LENGTH, MIN_SECRET_LENGTH)
  @ApiProperty({ required: false, writeOnly: true })
  secret?: string;

  /** Send from the connection's numbers through it (POST /api/messages); required for `smpp`. */
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => OutboundSettingsDto)
  outbound?: OutboundSettingsDto;
}

/** A connection as the API shows it: never its secret. */
export class GatewayDto {
  /** @example "6d1f2c1e-5a47-4b8e-9f0c-2b7a4d9e3c11" */
  @ApiUuid()
  id: string;
  /** @example "twilio" */
  @ApiProperty({ enum: GATEWAY_PROVIDERS })
  provider: GatewayProviderName;
  /** @example "Shop's Twilio number" */
  @ApiText(MAX_GATEWAY_LABEL_LENGTH)
  label: string;
  /** Normalized to E.164. @example ["+12025550143"] */
  @ApiParties(MAX_PHONES_PER_GATEWAY)
  phones: string[];
  /**
   * Paste this into the gateway's webhook settings. Built from PUBLIC_BASE_URL, else from the address this request came to. Null for SMPP, which has no webhook.
   * @example "https://sms.example.com/api/gateways/6d1f2c1e-5a47-4b8e-9f0c-2b7a4d9e3c11/webhook"
   */
  @ApiProperty({ format: 'uri', maxLength: MAX_WEBHOOK_URL_LENGTH, nullable: true, type: String })
  webhookUrl: string | null;
  /** The outbound side without credentials; null when the connection only receives. */
  @ApiProperty({ type: () => OutboundDto, nullable: true })
  outbound: OutboundDto | null;
  /** ISO 8601. @example "2025-11-25T12:00:00.000Z" */
  @ApiDateTime()
  createdAt: string;
}

export class GatewayListDto {
  /** Every connection, oldest first. */
  gateways: GatewayDto[];
}

/** The whitelist of what leaves the service about a connection. */
export function toGatewayDto(gateway: Gateway, webhookUrl: string | null): GatewayDto {
  return {
    id: gateway.id,
    provider: gateway.provider,
    label: gateway.label,
    phones: gateway.phones,
    webhookUrl: hasWebhook(gateway.provider) ? webhookUrl : null,
    outbound: gateway.outbound && (publicOutbound(gateway.outbound) as unknown as OutboundDto),
    createdAt: gateway.createdAt.toISOString(),
  };
}
