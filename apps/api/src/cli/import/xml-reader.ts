import sax from 'sax';
import { CharacterReferenceRepair } from './character-references.js';
import type { EventKind, ReadItem } from './events.js';
import { messageUuid } from './message-uuid.js';
import { textOf } from './text-chunks.js';

/** SMS Backup & Restore's `type`: 1 inbox, 2 sent; the rest never left (or never reached) the phone. */
const SKIPPED_TYPES: Record<string, string> = {
  '3': 'draft',
  '4': 'outbox',
  '5': 'failed',
  '6': 'queued',
};

/**
 * An "SMS Backup & Restore" XML backup (`<smses><sms address date type body/>…`),
 * one `<sms>` at a time, as the owner's reports: type 1 was received by the
 * owner from `address`, type 2 sent by the owner to it. The backup has no
 * message ids, so each uuid is derived from the message's content.
 */
export async function* readSmsBackup(
  input: AsyncIterable<string | Uint8Array>,
  owner: string,
): AsyncGenerator<ReadItem> {
  const parser = sax.parser(true, { trim: false, normalize: false });
  const repair = new CharacterReferenceRepair();
  let items: ReadItem[] = [];
  let depth = 0;
  parser.onopentag = (tag) => {
    depth += 1;
    // Only the children of <smses>: an <mms> holds <part>s and <addr>s of its own.
    if (depth !== 2) return;
    const line = parser.line + 1;
    if (tag.name === 'sms')
      items.push(smsToItem(tag.attributes as Record<string, string>, owner, line));
    else items.push({ kind: 'skipped', line, reason: tag.name });
  };
  parser.onclosetag = () => {
    depth -= 1;
  };
  parser.onerror = (error) => {
    throw new Error(`not a well-formed XML backup: ${error.message.replace(/\n/g, ', ')}`);
  };

  for await (const chunk of textOf(input)) {
    parser.write(repair.push(chunk));
    yield* items;
    items = [];
  }
  parser.write(repair.end()).close();
  yield* items;
}

function smsToItem(attributes: Record<string, string>, owner: string, line: number): ReadItem {
  const { address, date, type, body } = attributes;
  if (type in SKIPPED_TYPES) return { kind: 'skipped', line, reason: SKIPPED_TYPES[type] };
  if (type !== '1' && type !== '2')
    return { kind: 'skipped', line, reason: `type ${type ?? 'missing'}` };
  const problems = [
    !address && 'address is missing',
    !/^\d+$/.test(date ?? '') && 'date must be milliseconds since 1970',
    body === undefined && 'body is missing',
  ].filter((problem) => problem !== false);
  if (problems.length > 0) return { kind: 'unreadable', line, reason: problems.join('; ') };

  const direction: EventKind = type === '1' ? 'received' : 'sent';
  const milliseconds = Number(date);
  return {
    kind: 'message',
    line,
    events: [
      {
        type: direction,
        senderPhone: direction === 'sent' ? owner : address,
        receiverPhone: direction === 'sent' ? address : owner,
        messageText: body,
        timestamp: Math.floor(milliseconds / 1000),
        uuid: messageUuid({
          owner,
          counterpart: address,
          time: milliseconds,
          direction,
          text: body,
        }),
      },
    ],
  };
}
