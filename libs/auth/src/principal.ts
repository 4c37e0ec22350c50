/**
 * Who is calling, as established by the API-key guard. Services that decide
 * per object (a message lookup, each event of a bulk import) take it as an
 * argument; route-level checks happen in the guard.
 */
export interface Principal {
  /** The key's id, for logs and rate limits; never the secret. */
  readonly keyId: string;
  readonly isAdmin: boolean;
  /** E.164 numbers (or other party addresses) this key acts for; empty for the admin key. */
  readonly phones: ReadonlySet<string>;
}

/** True when the principal may act for `party` (an already-normalized address). */
export function canActFor(principal: Principal, party: string): boolean {
  return principal.isAdmin || principal.phones.has(party);
}
