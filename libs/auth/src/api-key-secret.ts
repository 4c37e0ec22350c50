import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Every key the service issues starts with this, so a leaked one is recognisable (and greppable). */
export const API_KEY_PREFIX = 'sms_';
const SECRET_BYTES = 32;
/** `sms_` plus 43 base64url characters (32 bytes, unpadded). */
const ISSUED_KEY = /^sms_[A-Za-z0-9_-]{43}$/;
/** What the key list shows: enough to tell keys apart, far too little to guess the rest. */
const VISIBLE_PREFIX_LENGTH = API_KEY_PREFIX.length + 6;

/** A new secret: 32 bytes from the CSPRNG, base64url, behind the `sms_` prefix. */
export function generateApiKeySecret(): string {
  return API_KEY_PREFIX + randomBytes(SECRET_BYTES).toString('base64url');
}

/**
 * Only this digest is stored. A plain SHA-256 (no salt, no stretching) is
 * enough because the secrets are 256 random bits, not passwords, and it lets
 * the database find a key by an index lookup.
 */
export function hashApiKey(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** Equal digests, compared in constant time. */
export function sameDigest(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** True when `token` has the shape of an issued key; anything else cannot be in the table. */
export function looksLikeIssuedKey(token: string): boolean {
  return ISSUED_KEY.test(token);
}

/** The recognisable start of a key, e.g. `sms_Ab12Cd`, for lists; never the whole secret. */
export function visiblePrefixOf(secret: string): string {
  return secret.slice(0, VISIBLE_PREFIX_LENGTH);
}
