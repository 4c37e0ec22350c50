import { createHmac } from 'node:crypto';

const PREFIX = 'ERASED';
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const RANDOM_CHARACTERS = 5;

/**
 * What an erased number becomes in its counterparts' threads: `ERASED` and
 * five characters of an HMAC of the number, e.g. `ERASED7K2QX`. It is a valid
 * alphanumeric sender ID (11 characters), so every listing, cursor and path
 * takes it as it takes any party, and the thread list shows "ERASED…" with no
 * change to its shape. The same number always gives the same pseudonym (under
 * the same admin key), so a later erasure of it joins the same thread.
 */
export const PSEUDONYM = /^ERASED[0-9A-Z]{5}$/;

export function isPseudonym(party: string): boolean {
  return PSEUDONYM.test(party);
}

/** Pseudonyms and audit hashes, under secrets derived from the admin key. */
export class PartyPseudonyms {
  constructor(
    private readonly pseudonymSecret: Buffer,
    private readonly hashSecret: Buffer,
  ) {}

  /** The stable pseudonym of a stored party. */
  pseudonymOf(party: string): string {
    let value = createHmac('sha256', this.pseudonymSecret).update(party).digest().readUInt32BE(0);
    let suffix = '';
    for (let index = 0; index < RANDOM_CHARACTERS; index += 1) {
      suffix += ALPHABET[value % ALPHABET.length];
      value = Math.floor(value / ALPHABET.length);
    }
    return PREFIX + suffix;
  }

  /** What the audit keeps of a number: HMAC-SHA256, hex; the number cannot be read back from it. */
  hashOf(party: string): string {
    return createHmac('sha256', this.hashSecret).update(party).digest('hex');
  }
}
