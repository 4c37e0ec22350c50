import { ApiParam, ApiProperty } from '@nestjs/swagger';

/**
 * The limits the code enforces, stated in the OpenAPI document too, so that a
 * client generated from it refuses what the server would refuse and knows
 * how long an answer's strings and lists can get. The Swagger CLI plugin
 * reads class-validator's common decorators; these cover our own validators
 * and the answers, which have none.
 */

/** A stored party (E.164, short code or sender ID); input in any format is at most as long. */
export const MAX_PARTY_LENGTH = 32;
/** A message's text, counted in Unicode code points as JSON Schema counts it. */
export const MAX_TEXT_LENGTH = 1600;
export const MAX_CURSOR_LENGTH = 512;

export const ApiUuid = (description?: string) =>
  ApiProperty({ format: 'uuid', maxLength: 36, ...(description ? { description } : {}) });

export const ApiParty = () => ApiProperty({ maxLength: MAX_PARTY_LENGTH });

export const ApiParties = (maxItems: number) =>
  ApiProperty({ maxItems, items: { type: 'string', maxLength: MAX_PARTY_LENGTH } });

export const ApiText = (maxLength = MAX_TEXT_LENGTH, minLength = 1) =>
  ApiProperty({ minLength, maxLength });

/** An ISO 8601 instant as `Date.toISOString()` writes it. */
export const ApiDateTime = (nullable = false) =>
  ApiProperty({ format: 'date-time', maxLength: 30, ...(nullable ? { nullable: true } : {}) });

export const ApiCursor = (nullable = false) =>
  ApiProperty({ maxLength: MAX_CURSOR_LENGTH, ...(nullable ? { nullable: true } : {}) });

export const ApiMaxItems = (maxItems: number) => ApiProperty({ maxItems });

/** A path parameter holding a number in any format the API reads. */
export const ApiPartyParam = (name: string, example: string) =>
  ApiParam({
    name,
    example,
    schema: { type: 'string', minLength: 1, maxLength: MAX_PARTY_LENGTH },
  });

/** A path parameter holding a uuid. */
export const ApiUuidParam = (name: string) =>
  ApiParam({ name, schema: { type: 'string', format: 'uuid', maxLength: 36 } });

/** A whole number between `minimum` and `maximum` (class-validator's @IsInt, which the plugin reads as `number`). */
export const ApiInteger = (minimum: number, maximum: number) =>
  ApiProperty({ type: 'integer', format: 'int64', minimum, maximum });
