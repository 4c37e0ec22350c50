import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { ReadItem } from './events.js';
import { messageUuid } from './message-uuid.js';
import { readSmsBackup } from './xml-reader.js';

const fixture = fileURLToPath(
  new URL('../../../../../test/fixtures/import/sms-backup.xml', import.meta.url),
);
const OWNER = '+12025550143';

async function collect(items: AsyncIterable<ReadItem>): Promise<ReadItem[]> {
  const all: ReadItem[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** The text split into chunks of `size` characters, as a slow disk or pipe might deliver it. */
function chunked(text: string, size: number): Readable {
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
  return Readable.from(chunks.map((chunk) => Buffer.from(chunk)));
}

const backup = (...sms: string[]) =>
  `<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n<smses count="${sms.length}">\n${sms.join('\n')}\n</smses>\n`;

describe('readSmsBackup', () => {
  it('reads a real backup: received and sent messages, skipped types and MMS, a broken record', async () => {
    const items = await collect(readSmsBackup(createReadStream(fixture), OWNER));
    expect(items.map((item) => item.kind)).toEqual([
      'message',
      'message',
      'skipped',
      'skipped',
      'skipped',
      'message',
      'unreadable',
    ]);
    expect(items[0]).toEqual({
      kind: 'message',
      line: 5,
      events: [
        {
          type: 'received',
          senderPhone: '+12025550178',
          receiverPhone: OWNER,
          messageText: 'Running 10 minutes late',
          timestamp: 1764072000,
          uuid: messageUuid({
            owner: OWNER,
            counterpart: '+12025550178',
            time: 1764072000123,
            direction: 'received',
            text: 'Running 10 minutes late',
          }),
        },
      ],
    });
    expect(items[1]).toMatchObject({
      kind: 'message',
      events: [
        {
          type: 'sent',
          senderPhone: OWNER,
          // The service normalizes national numbers; the reader passes them on as written.
          receiverPhone: '(202) 555-0178',
          messageText: 'No worries 😀\nSee you at 7 & bring "the" book',
          timestamp: 1764072060,
        },
      ],
    });
    expect(items.slice(2, 5).map((item) => 'reason' in item && item.reason)).toEqual([
      'draft',
      'failed',
      'mms',
    ]);
    expect(items[5]).toMatchObject({
      events: [
        {
          type: 'received',
          senderPhone: '72345',
          messageText: "Your code is 481516. Don't share it.",
        },
      ],
    });
    expect(items[6]).toMatchObject({
      kind: 'unreadable',
      reason: 'date must be milliseconds since 1970',
    });
  });

  it('decodes a surrogate pair split across chunks, and a multi-byte character split across buffers', async () => {
    const xml = backup(
      '<sms address="+12025550178" date="1764072000000" type="2" body="&#55357;&#56832; caf\u00e9 &#x1F600; &#xD83D;&#xDE00;" />',
    );
    for (const size of [1, 2, 3, 7, 13, 64]) {
      const [item] = await collect(readSmsBackup(chunked(xml, size), OWNER));
      expect(item, `chunks of ${size}`).toMatchObject({
        events: [{ messageText: '😀 café 😀 😀' }],
      });
    }
  });

  it('turns a lone surrogate or a control character into U+FFFD instead of giving up on the file', async () => {
    const xml = backup(
      '<sms address="+12025550178" date="1764072000000" type="1" body="cut &#55357; here&#1;" />',
      '<sms address="+12025550178" date="1764072001000" type="1" body="next" />',
    );
    const items = await collect(readSmsBackup(chunked(xml, 5), OWNER));
    expect(items.map((item) => item.kind === 'message' && item.events[0].messageText)).toEqual([
      'cut \uFFFD here\uFFFD',
      'next',
    ]);
  });

  it('gives each message a uuid of its own, the same on every read', async () => {
    const xml = backup(
      '<sms address="+12025550178" date="1764072000000" type="1" body="hi" />',
      '<sms address="+12025550178" date="1764072000001" type="1" body="hi" />',
      '<sms address="+12025550178" date="1764072000000" type="2" body="hi" />',
    );
    const uuids = async () =>
      (await collect(readSmsBackup(chunked(xml, 100), OWNER))).map(
        (item) => item.kind === 'message' && item.events[0].uuid,
      );
    const first = await uuids();
    expect(new Set(first).size).toBe(3);
    expect(await uuids()).toEqual(first);
  });

  it('stops with the line of the fault on a file that is not well-formed XML', async () => {
    const xml = `<smses>\n<sms address="+1" date="1" type="1" body="a" />\n<sms address="x" body="b>\n</smses>`;
    await expect(collect(readSmsBackup(chunked(xml, 10), OWNER))).rejects.toThrow(
      /not a well-formed XML backup: .*Line: \d/,
    );
  });
});
