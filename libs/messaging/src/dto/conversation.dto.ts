import { ApiProperty } from '@nestjs/swagger';
import { ApiCursor, ApiInteger, ApiMaxItems, ApiParty, ApiText } from '@app/common';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import type { MessageDirection } from '../messages.types.js';

export const DEFAULT_CONVERSATION_LIMIT = 100;
export const MAX_CONVERSATION_LIMIT = 1000;

export class ConversationQueryDto {
  /**
   * How many of the newest messages to return (they still come oldest first).
   * @example 100
   */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_CONVERSATION_LIMIT)
  @ApiInteger(1, MAX_CONVERSATION_LIMIT)
  limit?: number = DEFAULT_CONVERSATION_LIMIT;

  /** The `nextCursor` of a previous answer: the messages before it come next. */
  @IsOptional()
  @IsString()
  @MaxLength(512)
  before?: string;
}

/** One message as seen from the requested number. */
export class ConversationMessageDto {
  /** The other party. @example "+12025550178" */
  @ApiParty()
  phone_number: string;
  /** @example "Running 10 minutes late, see you at 7" */
  @ApiText()
  message_text: string;
  /** Unix seconds: the send time when known, else the receipt time. @example 1764072000 */
  timestamp: number;
  /** `sent` when the requested number sent it, `received` when it received it. @example "sent" */
  direction: MessageDirection;
}

export class ConversationDto {
  /** Oldest first; at most `limit` (1000). */
  @ApiMaxItems(MAX_CONVERSATION_LIMIT)
  messages: ConversationMessageDto[];
  /** Present when older messages exist: pass it as `before` to get them. */
  @ApiCursor()
  nextCursor?: string;
}

export class SmsAcceptedDto {
  /** @example "SMS sent successfully" */
  @ApiProperty({ enum: ['SMS sent successfully', 'SMS received successfully'] })
  message: string;
}
