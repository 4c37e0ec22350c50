import { ApiCursor, ApiInteger, ApiMaxItems, ApiParty, ApiText, ApiUuid } from '@app/common';
import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { MAX_UNIX_SECONDS } from '@app/common';
import { messageStatus } from '../message.entity.js';
import type { ConversationSummaryRow, MessageDirection, MessageStatus } from '../messages.types.js';
import { STOP_KEYWORDS } from '../opt-out.js';
import { ThreadMessageDto } from './message.dto.js';

export const DEFAULT_THREADS_LIMIT = 20;
export const MAX_THREADS_LIMIT = 100;
export const DEFAULT_THREAD_LIMIT = 50;
export const MAX_THREAD_LIMIT = 500;

export class ConversationsQueryDto {
  /** How many threads per page. @example 20 */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_THREADS_LIMIT)
  @ApiInteger(1, MAX_THREADS_LIMIT)
  limit?: number = DEFAULT_THREADS_LIMIT;

  /** The `nextCursor` of the previous page. */
  @IsOptional()
  @IsString()
  @MaxLength(512)
  before?: string;
}

export class ThreadQueryDto {
  /** How many messages per page. @example 50 */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_THREAD_LIMIT)
  @ApiInteger(1, MAX_THREAD_LIMIT)
  limit?: number = DEFAULT_THREAD_LIMIT;

  /** The `nextCursor` of the previous page: older messages come next. */
  @IsOptional()
  @IsString()
  @MaxLength(512)
  before?: string;

  /** Only messages at or after this time (unix seconds). @example 1764000000 */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_UNIX_SECONDS)
  @ApiInteger(0, MAX_UNIX_SECONDS)
  since?: number;

  /** Only messages at or before this time (unix seconds). @example 1764100000 */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_UNIX_SECONDS)
  @ApiInteger(0, MAX_UNIX_SECONDS)
  until?: number;
}

/** The newest message of a thread. */
export class LastMessageDto {
  /** @example "5f0c6f1e-8d2b-4c7e-9a51-3c1d2b8e7f40" */
  @ApiUuid()
  uuid: string;
  /** @example "See you at 7" */
  @ApiText()
  text: string;
  /** Unix seconds. @example 1764072000 */
  timestamp: number;
  /** @example "received" */
  direction: MessageDirection;
  /** @example "delivered" */
  status: MessageStatus;
}

export class ConversationSummaryDto {
  /** The other party. @example "+12025550178" */
  @ApiParty()
  counterpart: string;
  lastMessage: LastMessageDto;
  /** Messages in this thread. @example 42 */
  messageCount: number;
}

export class ConversationsPageDto {
  /** Newest activity first. */
  @ApiMaxItems(MAX_THREADS_LIMIT)
  conversations: ConversationSummaryDto[];
  /** Pass as `before` for the next page; null on the last page. */
  @ApiCursor(true)
  nextCursor: string | null;
}

/** The counterpart texted a stop keyword to this number: nothing can be sent to it from here until it texts START or UNSTOP. */
export class OptOutDto {
  /** The keyword it sent, upper-cased. @example "STOP" */
  @ApiProperty({ enum: STOP_KEYWORDS })
  keyword: string;
  /** When it sent it, unix seconds. @example 1764072000 */
  @ApiInteger(0, MAX_UNIX_SECONDS)
  since: number;
}

export class ThreadPageDto {
  /** Oldest first within the page; pages go from newest to oldest. */
  @ApiMaxItems(MAX_THREAD_LIMIT)
  messages: ThreadMessageDto[];
  /** Pass as `before` for the older page; null when there is none. */
  @ApiCursor(true)
  nextCursor: string | null;
  /** The thread's opt-out, with the newest page (no `before`); null when there is none, and on older pages. */
  @ApiProperty({ type: () => OptOutDto, nullable: true })
  optOut: OptOutDto | null;
}

export function toConversationSummaryDto(
  row: ConversationSummaryRow,
  owner: string,
): ConversationSummaryDto {
  return {
    counterpart: row.counterpart,
    lastMessage: {
      uuid: row.lastMessage.uuid,
      text: row.lastMessage.text,
      timestamp: row.lastMessage.occurredAt,
      direction: row.lastMessage.senderPhone === owner ? 'sent' : 'received',
      status: messageStatus(row.lastMessage),
    },
    messageCount: row.messageCount,
  };
}
