import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { ApiCursor, ApiInteger, ApiMaxItems, ApiUuid, MAX_CURSOR_LENGTH } from '@app/common';
import type { AuditRow } from '../audit.repository.js';
import {
  AUDIT_ACTIONS,
  AUDIT_ACTORS,
  type AuditAction,
  type AuditActor,
} from '../erasure-audit.entity.js';

export const DEFAULT_AUDIT_LIMIT = 50;
export const MAX_AUDIT_LIMIT = 200;

export class AuditQueryDto {
  /** How many records per page. @example 50 */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_AUDIT_LIMIT)
  @ApiInteger(1, MAX_AUDIT_LIMIT)
  limit?: number = DEFAULT_AUDIT_LIMIT;

  /** The `nextCursor` of the previous page: older records come next. */
  @IsOptional()
  @IsString()
  @MaxLength(MAX_CURSOR_LENGTH)
  before?: string;
}

/** One erasure or retention run: who, when, what and how much, never a number or a text. */
export class AuditRecordDto {
  @ApiUuid()
  id: string;
  /** @example "erase" */
  @ApiProperty({ enum: AUDIT_ACTIONS })
  action: AuditAction;
  /** Who asked: the admin key, a phone key (`keyId`), or the retention schedule. @example "key" */
  @ApiProperty({ enum: AUDIT_ACTORS })
  actor: AuditActor;
  /** The phone key's id; null for the admin key and retention. */
  @ApiProperty({ format: 'uuid', maxLength: 36, nullable: true })
  keyId: string | null;
  /** HMAC-SHA256 (hex) of the erased number, under a secret derived from the admin key; null for retention. */
  @ApiProperty({ pattern: '^[0-9a-f]{64}$', maxLength: 64, nullable: true })
  phoneHash: string | null;
  /** Messages erased, or deleted by retention. @example 42 */
  messagesChanged: number;
  /** Thread summaries removed. @example 6 */
  summariesChanged: number;
  /** Unix seconds (milliseconds in the fraction). @example 1764072000.123 */
  startedAt: number;
  /** Unix seconds; null while under way, or when it was cut short (running it again completes it). */
  @ApiProperty({ type: Number, nullable: true })
  finishedAt: number | null;
}

export class AuditPageDto {
  /** Newest first. */
  @ApiMaxItems(MAX_AUDIT_LIMIT)
  records: AuditRecordDto[];
  /** Pass as `before` for the next page; null on the last page. */
  @ApiCursor(true)
  nextCursor: string | null;
}

/** Field by field, so a new column never reaches the answer. */
export function toAuditRecordDto(row: AuditRow): AuditRecordDto {
  return {
    id: row.id,
    action: row.action,
    actor: row.actor,
    keyId: row.keyId,
    phoneHash: row.phoneHash,
    messagesChanged: row.messagesChanged,
    summariesChanged: row.summariesChanged,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
  };
}
