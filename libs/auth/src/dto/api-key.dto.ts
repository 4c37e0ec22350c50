import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDefined,
  IsString,
  Matches,
  MaxLength,
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
import type { ApiKey } from '../api-key.entity.js';

export const MAX_LABEL_LENGTH = 100;
export const MAX_PHONES_PER_KEY = 100;
const MAX_PHONE_INPUT_LENGTH = 32;

export class CreateApiKeyDto {
  /**
   * What the key is for, shown in the key list; 1 to 100 characters, no NUL (U+0000) or unpaired surrogate.
   * @example "Front desk phone"
   */
  @IsDefined()
  @IsString()
  @IsStorableText()
  @HasCodePointLength(1, MAX_LABEL_LENGTH)
  @Matches(/\S/, { message: 'label must not be blank' })
  @ApiText(MAX_LABEL_LENGTH)
  label: string;

  /**
   * The numbers the key acts for (1 to 100), in any format libphonenumber understands; stored as E.164.
   * @example ["+12025550143"]
   */
  @IsDefined()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_PHONES_PER_KEY)
  @IsString({ each: true })
  @MaxLength(MAX_PHONE_INPUT_LENGTH, { each: true })
  @ApiParties(MAX_PHONES_PER_KEY)
  phones: string[];
}

/** A key as the key list shows it: never the secret. */
export class ApiKeyDto {
  /** @example "0b7d6f0e-3c2a-4f57-9a3e-2f1d9c8b7a65" */
  @ApiUuid()
  id: string;
  /** @example "Front desk phone" */
  @ApiText(MAX_LABEL_LENGTH)
  label: string;
  /** The first characters of the secret, to recognise it. @example "sms_Xq3v9L" */
  @ApiProperty({ maxLength: 16 })
  keyPrefix: string;
  /** @example ["+12025550143"] */
  @ApiParties(MAX_PHONES_PER_KEY)
  phones: string[];
  /** ISO 8601. @example "2025-11-25T12:00:00.000Z" */
  @ApiDateTime()
  createdAt: string;
  /** ISO 8601; null while the key is active. @example null */
  @ApiDateTime(true)
  revokedAt: string | null;
}

export class ApiKeyListDto {
  /** Every key, oldest first, revoked ones included. */
  keys: ApiKeyDto[];
}

/** The answer to creating a key: the only time its secret is shown. */
export class CreatedApiKeyDto {
  /** @example "0b7d6f0e-3c2a-4f57-9a3e-2f1d9c8b7a65" */
  @ApiUuid()
  id: string;
  /**
   * The secret, for `Authorization: Bearer <key>`. Shown only in this answer; store it now.
   * @example "sms_Xq3v9LcT0mJ8w2bY5kRz1aN7dHf4uGp6sEo3iVl9QxC"
   */
  @ApiProperty({ minLength: 47, maxLength: 47, pattern: '^sms_[A-Za-z0-9_-]{43}$' })
  key: string;
  /** @example "Front desk phone" */
  @ApiText(MAX_LABEL_LENGTH)
  label: string;
  /** Normalized to E.164. @example ["+12025550143"] */
  @ApiParties(MAX_PHONES_PER_KEY)
  phones: string[];
  /** ISO 8601. @example "2025-11-25T12:00:00.000Z" */
  @ApiDateTime()
  createdAt: string;
}

/** The whitelist of what leaves the service about a key. */
export function toApiKeyDto(key: ApiKey): ApiKeyDto {
  return {
    id: key.id,
    label: key.label,
    keyPrefix: key.keyPrefix,
    phones: key.phones,
    createdAt: key.createdAt.toISOString(),
    revokedAt: key.revokedAt?.toISOString() ?? null,
  };
}

export function toCreatedApiKeyDto(key: ApiKey, secret: string): CreatedApiKeyDto {
  return {
    id: key.id,
    key: secret,
    label: key.label,
    phones: key.phones,
    createdAt: key.createdAt.toISOString(),
  };
}
