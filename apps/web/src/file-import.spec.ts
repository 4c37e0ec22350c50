import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { ImportEvent, ImportResult, ReadItem } from '@cli/import/events.js';
import { Tally } from '@cli/import/tally.js';
import { readSmsBackup } from '@cli/import/xml-reader.js';
import { ApiError } from './api.js';
import { type ImportProgress, importFile, textOf } from './file-import.js';
import type { Session } from './types.js';

const ME = '+12025550143';
const FRIEND = '+12025550178';
const fixture = fileURLToPath(
  new URL('../../../test/fixtures/import/sms-backup.xml', import.meta.url),
);

/** A file the way the browser hands it over: its bytes in chunks of `size`, as a slow disk might. */
function fileOf(text: string, size = 64 * 1024): { size: number; stream: () => ReadableStream } {
  const bytes = new TextEncoder().encode(text);
  return {
    size: bytes.byteLength,
    stream: () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += size) controller.enqueue(bytes.slice(i, i + size));
          controller.close();
        },
      }),
  };
}

let sequence = 0;
/** A row of the page's NDJSON download: a message from me, delivered. */
function buildExportRow(overrides: Record<string, unknown> = {}) {
  sequence += 1;
  return {
    uuid: `5f0c6f1e-8d2b-4c7e-9a51-${String(sequence).padStart(12, '0')}`,
    senderPhone: ME,
    receiverPhone: FRIEND,
    text: `Hello #${sequence} 😀`,
    direction: 'sent',
    status: 'delivered',
    sentAt: 1764072000 + sequence,
    receivedAt: 1764072004 + sequence,
    timestamp: 1764072000 + sequence,
    encoding: 'UCS-2',
    segments: 1,
    ...overrides,
  };
}

const ndjson = (rows: object[]) => rows.map((row) => `${JSON.stringify(row)}\n`).join('');

/** The import endpoint as a fake that remembers: a known uuid's event comes back replayed. */
function fakeService(session: Session = { isAdmin: false, phones: [ME] }) {
  const stored = new Map<string, Set<string>>();
  const batches: ImportEvent[][] = [];
  const api = {
    session: vi.fn(() => Promise.resolve(session)),
    importEvents: vi.fn(({ events }: { events: ImportEvent[] }) => {
      batches.push(events);
      const results = events.map((event, index): ImportResult => {
        const sides = stored.get(event.uuid) ?? new Set<string>();
        const outcome = sides.has(event.type) ? 'replayed' : sides.size > 0 ? 'merged' : 'created';
        stored.set(event.uuid, sides.add(event.type));
        return { index, uuid: event.uuid, outcome };
      });
      return Promise.resolve({ results, counts: {} });
    }),
  };
  return { api, batches };
}

async function run(
  file: ReturnType<typeof fileOf>,
  format: 'xml' | 'ndjson' | 'csv',
  api: ReturnType<typeof fakeService>['api'],
  batchSize?: number,
) {
  const tally = new Tally();
  const progress: ImportProgress[] = [];
  const outcome = await importFile(file, format, {
    api,
    phone: ME,
    tally,
    batchSize,
    onProgress: (report) => progress.push({ ...report }),
  }).then(
    () => undefined,
    (error: unknown) => error,
  );
  return { tally, progress, error: outcome };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

describe('importFile', () => {
  it("sends an XML backup's messages with the CLI's uuids, then finds them all replayed", async () => {
    const xml = await readFile(fixture, 'utf8');
    const { api, batches } = fakeService();
    const first = await run(fileOf(xml, 100), 'xml', api);
    expect(first.error).toBeUndefined();

    // The same events, uuids and all, as `npm run import` reads from the file on disk.
    const cli = (await collect<ReadItem>(readSmsBackup(createReadStream(fixture), ME))).flatMap(
      (item) => (item.kind === 'message' ? item.events : []),
    );
    expect(batches).toEqual([cli]);
    expect(first.tally.outcomes).toMatchObject({ created: 3, replayed: 0 });
    expect(first.tally.skipped).toEqual(
      new Map([
        ['draft', 1],
        ['failed', 1],
        ['mms', 1],
      ]),
    );
    expect(first.tally.failures).toEqual([
      { line: 18, outcome: 'unreadable', reason: 'date must be milliseconds since 1970' },
    ]);
    expect(first.progress.at(-1)).toMatchObject({ bytesRead: fileOf(xml).size });

    const again = await run(fileOf(xml), 'xml', api);
    expect(again.tally.outcomes).toMatchObject({ created: 0, merged: 0, replayed: 3 });
  });

  it('keeps a delivered message in one batch, never more than the batch size, and reports progress', async () => {
    const rows = Array.from({ length: 7 }, () => buildExportRow());
    const file = fileOf(ndjson(rows), 50);
    const { api, batches } = fakeService({ isAdmin: true, phones: [] });
    const { tally, progress } = await run(file, 'ndjson', api, 3);
    // Two events a message: a batch of 3 holds one message, then the last batch its remainder.
    expect(batches.map((batch) => batch.length)).toEqual([2, 2, 2, 2, 2, 2, 2]);
    for (const batch of batches) expect(batch[0].uuid).toBe(batch[1].uuid);
    expect(tally).toMatchObject({ messages: 7, events: 14, failureCount: 0 });
    expect(tally.outcomes).toMatchObject({ created: 7, merged: 7 });
    const read = progress.map((report) => report.bytesRead);
    expect(read).toEqual([...read].sort((a, b) => a - b));
    expect(read.at(-1)).toBe(file.size);
    expect(progress.every((report) => report.totalBytes === file.size)).toBe(true);
  });

  it("sends only the key's own side of an export, and reads a CSV download as the CLI does", async () => {
    const header =
      'uuid,senderPhone,receiverPhone,text,direction,status,sentAt,receivedAt,timestamp,encoding,segments';
    const csv = [
      header,
      `8b2e3d4f-5061-4b7c-9d8e-0f1a2b3c4d5e,${ME},${FRIEND},"Hi, it's ""me""\r\nagain 😀",sent,delivered,1764090000,1764090002,1764090000,UCS-2,1`,
      'short,row',
      '',
    ].join('\r\n');
    const { api, batches } = fakeService();
    const { tally } = await run(fileOf(csv, 5), 'csv', api);
    expect(batches).toEqual([
      [
        {
          type: 'sent',
          senderPhone: ME,
          receiverPhone: FRIEND,
          messageText: 'Hi, it\'s "me"\r\nagain 😀',
          timestamp: 1764090000,
          uuid: '8b2e3d4f-5061-4b7c-9d8e-0f1a2b3c4d5e',
        },
      ],
    ]);
    expect(tally.skipped).toEqual(
      new Map([["the other party's report (this key does not act for it)", 1]]),
    );
    expect(tally.failures).toEqual([
      {
        line: 4,
        outcome: 'unreadable',
        reason: 'Invalid Record Length: columns length is 11, got 2',
      },
    ]);
  });

  it('asks for the session first: a refused key stops the import before the file is read', async () => {
    const { api } = fakeService();
    api.session.mockRejectedValue(new ApiError(401, 'Invalid or revoked API key'));
    const stream = vi.fn(() => fileOf('').stream());
    const { error } = await run({ size: 0, stream }, 'xml', api);
    expect(error).toMatchObject({ status: 401, isUnauthorized: true });
    expect(stream).not.toHaveBeenCalled();
    expect(api.importEvents).not.toHaveBeenCalled();
  });

  it('stops sending when the service refuses a batch, and stops reading the file', async () => {
    const rows = Array.from({ length: 50 }, () => buildExportRow({ receivedAt: null }));
    const { api } = fakeService({ isAdmin: true, phones: [] });
    api.importEvents.mockRejectedValue(new ApiError(401, 'Invalid or revoked API key'));
    let cancelled = false;
    const file = fileOf(ndjson(rows), 200);
    const { tally, error } = await run(
      {
        size: file.size,
        stream: () => {
          const reader = file.stream().getReader();
          return new ReadableStream({
            pull: async (controller) => {
              const { done, value } = await reader.read();
              if (done) controller.close();
              else controller.enqueue(value);
            },
            cancel: () => {
              cancelled = true;
            },
          });
        },
      },
      'ndjson',
      api,
      1,
    );
    expect(error).toBeInstanceOf(ApiError);
    // At most the two requests in flight went out.
    expect(api.importEvents.mock.calls.length).toBeLessThanOrEqual(2);
    expect(tally.messages).toBeLessThan(50);
    expect(cancelled).toBe(true);
  });

  it("stops with the reader's words on a file that is not what its name says", async () => {
    const { api } = fakeService();
    const { error } = await run(fileOf('from,to,body\r\na,b,c\r\n'), 'csv', api);
    expect(error).toEqual(
      new Error(
        'the CSV header lacks uuid, senderPhone, receiverPhone, text, direction, sentAt, receivedAt, timestamp, encoding, segments: not an export of this service',
      ),
    );
  });
});

describe('textOf', () => {
  it('decodes characters whose bytes fall in different chunks, and counts the bytes', async () => {
    const text = 'café 😀 — ünïcödé';
    for (const size of [1, 2, 3, 5]) {
      let bytes = 0;
      const chunks = await collect(textOf(fileOf(text, size), (count) => (bytes += count)));
      expect(chunks.join(''), `chunks of ${size}`).toBe(text);
      expect(bytes).toBe(new TextEncoder().encode(text).byteLength);
    }
  });

  it('drops a leading byte order mark', async () => {
    const chunks = await collect(textOf(fileOf('\uFEFF{"a":1}'), () => undefined));
    expect(chunks.join('')).toBe('{"a":1}');
  });
});
