import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { ApiInteger, IsStorableText } from '@app/common';

export const MAX_RATE_PER_SECOND = 10_000;
const MAX_URL_LENGTH = 2048;
const MAX_CREDENTIAL_LENGTH = 256;

/**
 * A connection's outbound side. Each provider takes its own fields, and the
 * rest are refused:
 * - `smpp`: `url` (`smpp://<system_id>:<password>@<host>:<port>`), `systemType`?;
 * - `android-sms-gateway`: `url` (the app's local server or the cloud API base), `username`, `password`;
 * - `twilio`: `accountSid` (the auth token is the connection's `secret`).
 * Credentials are stored encrypted and never shown again.
 */
export class OutboundSettingsDto {
  /**
   * SMPP: `smpp://<system_id>:<password>@<host>:<port>`. SMS Gateway for Android: the app's local server (`http://192.168.1.5:8080`) or the cloud API (`https://api.sms-gate.app/3rdparty/v1`).
   * @example "smpp://shop:secret12@smsc.example.com:2775"
   */
  @IsOptional()
  @IsString()
  @MaxLength(MAX_URL_LENGTH)
  @Matches(/^(smpp|https?):\/\/\S+$/, { message: 'url must be an smpp:// or http(s):// URL' })
  @ApiProperty({ required: false, maxLength: MAX_URL_LENGTH })
  url?: string;

  /** SMPP: the bind's system_type, if the SMSC asks for one (at most 12 characters). @example "" */
  @IsOptional()
  @IsString()
  @MaxLength(12)
  @Matches(/^[\x20-\x7e]*$/, { message: 'systemType must be printable ASCII' })
  @ApiProperty({ required: false, maxLength: 12 })
  systemType?: string;

  /** SMS Gateway for Android: the username its server shows. @example "sms" */
  @IsOptional()
  @IsString()
  @IsStorableText()
  @MaxLength(MAX_CREDENTIAL_LENGTH)
  @ApiProperty({ required: false, maxLength: MAX_CREDENTIAL_LENGTH })
  username?: string;

  /** SMS Gateway for Android: its password. Stored encrypted; never shown again. @example "changeme" */
  @IsOptional()
  @IsString()
  @IsStorableText()
  @MaxLength(MAX_CREDENTIAL_LENGTH)
  @ApiProperty({ required: false, maxLength: MAX_CREDENTIAL_LENGTH, writeOnly: true })
  password?: string;

  /** Twilio: the account SID. @example "AC0123456789abcdef0123456789abcdef" */
  @IsOptional()
  @IsString()
  @Matches(/^AC[0-9a-fA-F]{32}$/, { message: 'accountSid must be AC followed by 32 hex digits' })
  @ApiProperty({ required: false, maxLength: 34 })
  accountSid?: string;

  /** Sends per second through this connection, across every instance; default 10. @example 10 */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_RATE_PER_SECOND)
  @ApiInteger(1, MAX_RATE_PER_SECOND)
  @ApiProperty({ required: false })
  ratePerSecond?: number;
}

/** The outbound side as the API shows it: the settings without credentials. */
export class OutboundDto {
  /** SMPP without its password, or the app's URL. @example "smpp://shop@smsc.example.com:2775" */
  @ApiProperty({ required: false, maxLength: MAX_URL_LENGTH })
  url?: string;
  /** @example "" */
  @ApiProperty({ required: false, maxLength: 12 })
  systemType?: string;
  /** @example "sms" */
  @ApiProperty({ required: false, maxLength: MAX_CREDENTIAL_LENGTH })
  username?: string;
  /** @example "AC0123456789abcdef0123456789abcdef" */
  @ApiProperty({ required: false, maxLength: 34 })
  accountSid?: string;
  /** @example 10 */
  @ApiInteger(1, MAX_RATE_PER_SECOND)
  ratePerSecond: number;
}
