import { type ReadItem, reporterOf } from './events.js';

/** `GET /api/session`: what the key in use may do. */
export interface Session {
  isAdmin: boolean;
  phones: string[];
}

export const OTHER_SIDE = "the other party's report (this key does not act for it)";

/**
 * A phone key may report only its own numbers' side of a message: an export's
 * delivered message becomes the owner's event alone, and the other side is
 * skipped rather than sent to be `forbidden`. When the key acts for neither
 * side, both go, so that the service says so.
 */
export async function* withinScope(
  items: AsyncIterable<ReadItem>,
  session: Session,
): AsyncGenerator<ReadItem> {
  const phones = new Set(session.phones);
  for await (const item of items) {
    if (session.isAdmin || item.kind !== 'message' || item.events.length < 2) {
      yield item;
      continue;
    }
    const own = item.events.filter((event) => phones.has(reporterOf(event)));
    if (own.length === 0 || own.length === item.events.length) {
      yield item;
      continue;
    }
    yield { ...item, events: own };
    for (let i = own.length; i < item.events.length; i += 1) {
      yield { kind: 'skipped', line: item.line, reason: OTHER_SIDE };
    }
  }
}
