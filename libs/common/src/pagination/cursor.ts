import { createHmac, timingSafeEqual } from 'node:crypto';
import { HttpStatus } from '@nestjs/common';
import { ApiException } from '../errors/api.exception.js';
import { MAX_UNIX_SECONDS } from '../validation/validators.js';

const CURSOR_VERSION = 2;
const MAX_CURSOR_LENGTH = 512;
/** Bytes of the HMAC-SHA256 kept in a cursor: 128 bits cannot be guessed. */
const MAC_BYTES = 16;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A stored party: E.164, a short code or a sender ID (see party-address.ts). */
const PARTY = /^\+?[0-9A-Z]{2,15}$/;

/** A keyset position: a time (unix seconds) and a tie-breaking key (a uuid, a party, or a rank and a uuid). */
export interface CursorPosition {
  time: number;
  key: string;
}

/**
 * What a listing's tie-breaking key is: a message's uuid, a thread's
 * counterpart, or for a ranked listing (search) the rank, an integer, and the
 * uuid: `123456:5f0c6f1e-…`.
 */
export type CursorKey = 'uuid' | 'party' | 'ranked';

const KEY_FORMATS: Record<CursorKey, RegExp> = {
  uuid: UUID,
  party: PARTY,
  ranked: new RegExp(`^(0|[1-9][0-9]{0,9}):${UUID.source.slice(1, -1)}$`),
};

/**
 * Opaque keyset cursors, signed (HMAC-SHA256) so that only cursors this
 * service issued are accepted: a hand-made one is refused with a 400 however
 * well formed it looks. The listing's scope (which endpoint, which numbers)
 * is inside, so a cursor from another listing is refused too, and every
 * decoded field is checked again, should the secret ever leak. The secret is
 * the same on every instance (see MessagingModule), so a cursor from one
 * works on any other.
 */
export class CursorCodec {
  constructor(private readonly secret: Buffer) {}

  encode(scope: string, position: CursorPosition): string {
    const payload = Buffer.from(
      JSON.stringify([CURSOR_VERSION, scope, position.time, position.key]),
    ).toString('base64url');
    return `${payload}.${this.mac(payload).toString('base64url')}`;
  }

  /** The position in a cursor of `scope`, or a 400 naming `field`. */
  decode(cursor: string, scope: string, field: string, key: CursorKey): CursorPosition {
    const invalid = (problem = 'is not a cursor returned by this API') =>
      ApiException.field(HttpStatus.BAD_REQUEST, field, problem);
    if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(cursor)) {
      throw invalid();
    }
    const [payload, mac] = cursor.split('.');
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== MAC_BYTES || !timingSafeEqual(given, this.mac(payload))) {
      throw invalid();
    }
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      throw invalid();
    }
    if (
      !Array.isArray(decoded) ||
      decoded.length !== 4 ||
      decoded[0] !== CURSOR_VERSION ||
      typeof decoded[1] !== 'string' ||
      typeof decoded[2] !== 'number' ||
      !(decoded[2] >= 0 && decoded[2] <= MAX_UNIX_SECONDS) ||
      typeof decoded[3] !== 'string' ||
      !KEY_FORMATS[key].test(decoded[3])
    ) {
      throw invalid();
    }
    if (decoded[1] !== scope) throw invalid('belongs to another listing');
    return { time: decoded[2], key: decoded[3] };
  }

  private mac(payload: string): Buffer {
    return createHmac('sha256', this.secret).update(payload).digest().subarray(0, MAC_BYTES);
  }
}
