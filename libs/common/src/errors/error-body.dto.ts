import { ApiProperty } from '@nestjs/swagger';

/** Error bodies are bounded, so a document can say how large they get: see errorBody(). */
export const MAX_ERROR_DETAILS = 100;
export const MAX_ERROR_FIELD_LENGTH = 256;
export const MAX_ERROR_TEXT_LENGTH = 2048;

/** One problem with one field of a request. */
export class ErrorDetail {
  /** The offending field, as a path into the request (`events[3].uuid`), or `path`/`query` names. @example "senderPhone" */
  @ApiProperty({ maxLength: MAX_ERROR_FIELD_LENGTH })
  field: string;
  /** What is wrong with it. @example "must be a phone number" */
  @ApiProperty({ maxLength: MAX_ERROR_TEXT_LENGTH })
  problem: string;
}

/**
 * The one error body of the API: Nest's usual keys plus the field list, so a
 * client can point at the field a person has to fix.
 */
export class ErrorBody {
  /** @example 400 */
  statusCode: number;
  /** The HTTP reason phrase. @example "Bad Request" */
  @ApiProperty({ maxLength: 64 })
  error: string;
  /** A sentence for a person. @example "senderPhone must be a phone number" */
  @ApiProperty({ maxLength: MAX_ERROR_TEXT_LENGTH })
  message: string;
  /** Present when specific fields are at fault. */
  @ApiProperty({ maxItems: MAX_ERROR_DETAILS })
  details?: ErrorDetail[];
  /** The X-Request-Id of this request, to quote when reporting a problem. @example "3f9a6c1e-27d4-4b0e-9f51-8c2d1e7a4b60" */
  @ApiProperty({ maxLength: 128, pattern: '^[A-Za-z0-9._-]{1,128}$' })
  requestId?: string;
}
