import { v5 as uuidV5 } from 'uuid';
import type { EventKind } from './events.js';

/**
 * Our namespace for message uuids derived by `npm run import`. Fixed forever:
 * changing it would turn every resumed import into a second copy of the history.
 */
export const IMPORT_UUID_NAMESPACE = 'a16f4e4c-ba37-4c4c-b8f9-72c783e4f086';

export interface MessageIdentity {
  owner: string;
  counterpart: string;
  /** The file's own time, at the precision the file has (milliseconds for SMS Backup & Restore). */
  time: number;
  direction: EventKind;
  text: string;
}

/**
 * A uuid for a message whose file has none, derived from its content so that
 * importing the same file again finds the same messages (all `replayed`).
 * Numbers lose their formatting first, so "+1 (202) 555-0143" and
 * "+12025550143" name the same party; JSON keeps the fields apart.
 */
export function messageUuid({
  owner,
  counterpart,
  time,
  direction,
  text,
}: MessageIdentity): string {
  const name = JSON.stringify([
    canonicalParty(owner),
    canonicalParty(counterpart),
    time,
    direction,
    text,
  ]);
  return uuidV5(name, IMPORT_UUID_NAMESPACE);
}

function canonicalParty(party: string): string {
  return party.replace(/[\s().-]/g, '');
}
