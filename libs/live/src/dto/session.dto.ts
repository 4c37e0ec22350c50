import { MAX_PHONES_PER_KEY, type Principal } from '@app/auth';
import { ApiParties } from '@app/common';

/** What the key in use may do, so a client can offer the right numbers. */
export class SessionDto {
  /** The admin key acts for every number. @example false */
  isAdmin: boolean;
  /** The numbers a phone key acts for (E.164); empty for the admin key. @example ["+12025550143"] */
  @ApiParties(MAX_PHONES_PER_KEY)
  phones: string[];
}

export function toSessionDto(principal: Principal): SessionDto {
  return { isAdmin: principal.isAdmin, phones: [...principal.phones] };
}
