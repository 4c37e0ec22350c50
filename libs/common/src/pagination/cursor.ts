import { HttpStatus } from '@nestjs/common';
import { ApiException } from '../errors/api.exception.js';

const CURSOR_VERSION = 1;
const MAX_CURSOR_LENGTH = 512;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A keyset position: a time (unix seconds) and a tie-breaking key (a uuid or a party). */
export interface CursorPosition {
  time: number;
  key: string;
}

/**
 * Opaque keyset cursors. The listing's scope (which endpoint, which numbers)
 * is inside, so a cursor from another listing is refused instead of silently
 * paging through the wrong thing. Not signed: a cursor only positions a
 * listing the caller may read anyway, so forging one reveals nothing.
 */
export function encodeCursor(scope: string, position: CursorPosition): string {
  return Buffer.from(JSON.stringify([CURSOR_VERSION, scope, position.time, position.key])).toString(
    'base64url',
  );
}

/** Decodes a cursor for `scope`, or answers 400 naming `field`. */
export function decodeCursor(cursor: string, scope: string, field: string): CursorPosition {
  const invalid = (problem: string) => ApiException.field(HttpStatus.BAD_REQUEST, field, problem);
  if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw invalid('is not a cursor returned by this API');
  }
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid('is not a cursor returned by this API');
  }
  if (
    !Array.isArray(decoded) ||
    decoded.length !== 4 ||
    decoded[0] !== CURSOR_VERSION ||
    typeof decoded[1] !== 'string' ||
    typeof decoded[2] !== 'number' ||
    !Number.isFinite(decoded[2]) ||
    typeof decoded[3] !== 'string' ||
    decoded[3].length > 64
  ) {
    throw invalid('is not a cursor returned by this API');
  }
  if (decoded[1] !== scope) throw invalid('belongs to another listing');
  return { time: decoded[2], key: decoded[3] };
}

export function isUuid(value: string): boolean {
  return UUID.test(value);
}
