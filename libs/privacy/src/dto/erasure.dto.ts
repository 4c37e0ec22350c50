import { ApiProperty } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { MAX_PARTY_LENGTH } from '@app/common';

export class EraseQueryDto {
  /** The number again, in any format: required with a phone key, so that no slip erases a number. @example "+12025550143" */
  @IsOptional()
  @IsString()
  @MaxLength(MAX_PARTY_LENGTH)
  confirm?: string;
}

export class ErasureResultDto {
  /** Messages this call erased (0 when the number was already erased). @example 42 */
  messagesErased: number;
  /** Thread summaries removed: the number's own, and its counterparts' threads with it (merged into the pseudonym's). @example 6 */
  summariesRemoved: number;
  /** What the number is now in its counterparts' threads. @example "ERASED7K2QX" */
  @ApiProperty({ pattern: '^ERASED[0-9A-Z]{5}$', maxLength: 11 })
  pseudonym: string;
}
