import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { PartyClassification } from '@app/common';

const ACTING_PARTY = Symbol('actingParty');

/** Left on the request by the auth guard for an @ActsFor route. */
export function attachActingParty(request: object, party: PartyClassification): void {
  (request as Record<symbol, unknown>)[ACTING_PARTY] = party;
}

/**
 * The number an @ActsFor route acts for, as the auth guard read it, so the
 * handler does not parse it again. Undefined when the request carried no
 * string there (validation then answers).
 */
export const ActingParty = createParamDecorator(
  (_: unknown, context: ExecutionContext): PartyClassification | undefined =>
    context.switchToHttp().getRequest<Record<symbol, PartyClassification | undefined>>()[
      ACTING_PARTY
    ],
);
