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

/** The principal of the admin key (ADMIN_API_KEY). */
export const ADMIN_PRINCIPAL: Principal = Object.freeze({
  keyId: 'admin',
  isAdmin: true,
  phones: new Set<string>(),
});

/** Where the guard leaves the caller on the request (Express or Fastify). */
export const PRINCIPAL_REQUEST_KEY = 'principal';

/** Attached by the guard once the request's key is known. */
export function attachPrincipal(request: object, principal: Principal): void {
  (request as Record<string, unknown>)[PRINCIPAL_REQUEST_KEY] = principal;
}

/** The principal the guard attached to a request; undefined on public routes. */
export function principalOf(request: object): Principal | undefined {
  return (request as Record<string, Principal | undefined>)[PRINCIPAL_REQUEST_KEY];
}
