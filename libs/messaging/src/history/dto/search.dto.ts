import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { ApiCursor, ApiInteger, ApiMaxItems, MAX_UNIX_SECONDS } from '@app/common';
import { ThreadMessageDto } from '../../dto/message.dto.js';

export const DEFAULT_SEARCH_LIMIT = 20;
export const MAX_SEARCH_LIMIT = 100;
export const MAX_SEARCH_QUERY_LENGTH = 200;

export class SearchQueryDto {
  /**
   * What to look for. Every word must match, as a prefix (`tomor` finds "tomorrow", `4821` finds "48213"), accents and case folded (`cafe` finds "Café"); `"see you"` in double quotes matches the words in that order.
   * @example "cafe tomor"
   */
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_SEARCH_QUERY_LENGTH)
  @ApiProperty({ minLength: 1, maxLength: MAX_SEARCH_QUERY_LENGTH })
  q: string;

  /** Only the thread with this number (E.164, a short code or a sender ID). @example "+12025550178" */
  @IsOptional()
  @IsString()
  @MaxLength(32)
  @Matches(/^[^\p{Cc}]*$/u)
  @ApiProperty({ required: false, maxLength: 32 })
  counterpart?: string;

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

  /** How many results per page. @example 20 */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_SEARCH_LIMIT)
  @ApiInteger(1, MAX_SEARCH_LIMIT)
  limit?: number = DEFAULT_SEARCH_LIMIT;

  /** The `nextCursor` of the previous page of the same search. */
  @IsOptional()
  @IsString()
  @MaxLength(512)
  before?: string;
}

/** A message that matched, seen from the number searched, with where it matched. */
export class SearchHitDto extends ThreadMessageDto {
  /**
   * The text around the matches as HTML: the text escaped, each matched word in `<mark>`.
   * @example "Meet at the <mark>Café</mark> <mark>tomorrow</mark>"
   */
  @ApiProperty({ maxLength: 20_000 })
  snippet: string;
}

export class SearchPageDto {
  /** Best match first; newest first among equal ranks. */
  @ApiMaxItems(MAX_SEARCH_LIMIT)
  messages: SearchHitDto[];
  /** Pass as `before` (with the same search) for the next page; null on the last page. */
  @ApiCursor(true)
  nextCursor: string | null;
}

export const EXPORT_FORMATS = ['ndjson', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export class ExportQueryDto {
  /** `ndjson`: one thread message per line, as JSON. `csv`: RFC 4180, with a header row. @example "ndjson" */
  @IsOptional()
  @IsIn(EXPORT_FORMATS)
  @ApiProperty({ enum: EXPORT_FORMATS, required: false, default: 'ndjson' })
  format?: ExportFormat = 'ndjson';
}
