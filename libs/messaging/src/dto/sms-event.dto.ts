import { IsDefined, IsInt, IsString, IsUUID, MaxLength } from 'class-validator';
import {
  ApiInteger,
  ApiText,
  ApiUuid,
  HasCodePointLength,
  IsStorableText,
  IsUnixSeconds,
  MAX_UNIX_SECONDS,
} from '@app/common';

export const MAX_MESSAGE_LENGTH = 1600;
const MAX_ADDRESS_INPUT_LENGTH = 32;

/**
 * One SMS event as a phone (or its gateway) reports it. `send-sms` and
 * `receive-sms` take the same body; both reports of one message share its uuid.
 */
export class SmsEventDto {
  /**
   * The number that sent the SMS, in any format libphonenumber understands; stored as E.164. On `receive-sms` it may also be a short code (3–8 digits) or an alphanumeric sender ID (2–11 letters/digits).
   * @example "+12025550143"
   */
  @IsDefined()
  @IsString()
  @MaxLength(MAX_ADDRESS_INPUT_LENGTH)
  senderPhone: string;

  /**
   * The number that received the SMS. On `send-sms` it may also be a short code.
   * @example "+12025550178"
   */
  @IsDefined()
  @IsString()
  @MaxLength(MAX_ADDRESS_INPUT_LENGTH)
  receiverPhone: string;

  /**
   * The text, 1 to 1600 characters of any Unicode, stored exactly as given; not NUL (U+0000) or an unpaired surrogate, which PostgreSQL cannot store.
   * @example "Running 10 minutes late, see you at 7"
   */
  @IsDefined()
  @IsString()
  @IsStorableText()
  @HasCodePointLength(1, MAX_MESSAGE_LENGTH)
  @ApiText(MAX_MESSAGE_LENGTH)
  messageText: string;

  /**
   * When the event happened on the phone, in unix seconds (not milliseconds).
   * @example 1764072000
   */
  @IsDefined()
  @IsInt({ message: 'timestamp must be a whole number of unix seconds' })
  @IsUnixSeconds()
  @ApiInteger(0, MAX_UNIX_SECONDS)
  timestamp: number;

  /**
   * The message's id, chosen by the sending phone; the same for both events.
   * @example "5f0c6f1e-8d2b-4c7e-9a51-3c1d2b8e7f40"
   */
  @IsDefined()
  @IsUUID('all')
  @ApiUuid()
  uuid: string;
}
