import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn } from 'class-validator';
import { ApiProperty } from '@nestjs/swagger';
import { ApiMaxItems, ApiUuid, type ErrorDetail, MAX_ERROR_DETAILS } from '@app/common';
import type { SmsEventKind } from '../messages.types.js';
import { SmsEventDto } from './sms-event.dto.js';

export const MAX_IMPORT_EVENTS = 1000;

/** One event of a bulk import: the body of send-sms/receive-sms plus which one it is. */
export class ImportEventDto extends SmsEventDto {
  /** `sent` as reported to send-sms, `received` as reported to receive-sms. @example "sent" */
  @IsIn(['sent', 'received'])
  type: SmsEventKind;
}

export class ImportRequestDto {
  /**
   * 1 to 1000 events. Each is validated on its own, so one bad event gets its
   * own result instead of failing the request.
   */
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_IMPORT_EVENTS)
  @ApiMaxItems(MAX_IMPORT_EVENTS)
  events: ImportEventDto[];
}

/** Listed explicitly: an enum inferred from the union type takes whatever order the compiler saw its members in. */
export const IMPORT_OUTCOMES = [
  'created',
  'merged',
  'replayed',
  'conflict',
  'invalid',
  'forbidden',
] as const;
export type ImportOutcome = (typeof IMPORT_OUTCOMES)[number];

export class ImportResultDto {
  /** Position of the event in the request. @example 0 */
  index: number;
  /** The event's uuid, when it had a valid one. @example "5f0c6f1e-8d2b-4c7e-9a51-3c1d2b8e7f40" */
  @ApiUuid()
  uuid?: string;
  /** What happened to the event, as the single endpoints would have answered (201 created/merged, 200 replayed, 409 conflict, 400 invalid, 403 forbidden). @example "created" */
  @ApiProperty({ enum: IMPORT_OUTCOMES })
  outcome: ImportOutcome;
  /** Why the event was not stored, for conflict, invalid and forbidden. */
  @ApiMaxItems(MAX_ERROR_DETAILS)
  details?: ErrorDetail[];
}

export class ImportResponseDto {
  /** One result per event, in request order. */
  @ApiMaxItems(MAX_IMPORT_EVENTS)
  results: ImportResultDto[];
  /** How many events had each outcome. @example {"created": 998, "conflict": 1, "invalid": 1} */
  counts: Partial<Record<ImportOutcome, number>>;
}
