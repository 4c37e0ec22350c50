import { Readable } from 'node:stream';
import { readCsv } from './csv-reader.js';
import type { ReadItem } from './events.js';
import { EXPORT_COLUMNS } from './export-row.js';
import { messageUuid } from './message-uuid.js';
import { readNdjson } from './ndjson-reader.js';

interface ExportRow {
  uuid: string | null;
  senderPhone: string;
  receiverPhone: string;
  text: string;
  direction: 'sent' | 'received';
  status: string;
  sentAt: number | null;
  receivedAt: number | null;
  timestamp: number;
  encoding: string;
  segments: number;
}

let sequence = 0;
/** A thread message as `GET /api/phones/{phone}/export` writes it, seen from +12025550143. */
function buildExportRow(overrides: Partial<ExportRow> = {}): ExportRow {
  sequence += 1;
  return {
    uuid: `5f0c6f1e-8d2b-4c7e-9a51-${String(sequence).padStart(12, '0')}`,
    senderPhone: '+12025550143',
    receiverPhone: '+12025550178',
    text: `Hello #${sequence}`,
    direction: 'sent',
    status: 'delivered',
    sentAt: 1764072000 + sequence,
    receivedAt: 1764072004 + sequence,
    timestamp: 1764072000 + sequence,
    encoding: 'GSM-7',
    segments: 1,
    ...overrides,
  };
}

function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const toCsv = (rows: ExportRow[]) =>
  [
    EXPORT_COLUMNS.join(','),
    ...rows.map((row) => EXPORT_COLUMNS.map((c) => csvField(row[c])).join(',')),
  ]
    .map((line) => `${line}\r\n`)
    .join('');

async function collect(items: AsyncIterable<ReadItem>): Promise<ReadItem[]> {
  const all: ReadItem[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** The text's UTF-8 bytes in chunks of `size`, so multi-byte characters fall across chunks. */
function stream(text: string, size = 7): Readable {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return Readable.from(chunks);
}

describe.each([
  [
    'NDJSON',
    0,
    (rows: ExportRow[]) => readNdjson(stream(rows.map((row) => JSON.stringify(row)).join('\n'))),
  ],
  ['CSV', 1, (rows: ExportRow[]) => readCsv(stream(toCsv(rows)))],
])('the %s export reader', (_, header, read) => {
  it('makes a delivered message both reports, and a one-sided one its known side', async () => {
    const delivered = buildExportRow();
    const sentOnly = buildExportRow({ receivedAt: null, status: 'sent' });
    const receivedOnly = buildExportRow({
      direction: 'received',
      senderPhone: '+12025550178',
      receiverPhone: '+12025550143',
      sentAt: null,
      status: 'received',
    });
    const items = await collect(read([delivered, sentOnly, receivedOnly]));
    expect(
      items.map((item) => item.kind === 'message' && item.events.map((e) => [e.type, e.timestamp])),
    ).toEqual([
      [
        ['sent', delivered.sentAt],
        ['received', delivered.receivedAt],
      ],
      [['sent', sentOnly.sentAt]],
      [['received', receivedOnly.receivedAt]],
    ]);
    expect(items[0]).toMatchObject({
      events: [
        {
          uuid: delivered.uuid,
          senderPhone: '+12025550143',
          receiverPhone: '+12025550178',
          messageText: delivered.text,
        },
        { uuid: delivered.uuid },
      ],
    });
  });

  it('keeps text with commas, quotes, CRLF and emoji exactly', async () => {
    const messageText = 'Say "hi", then\r\nleave 😀';
    const [item] = await collect(read([buildExportRow({ text: messageText })]));
    expect(item).toMatchObject({ kind: 'message', events: [{ messageText }, { messageText }] });
  });

  it('derives a stable uuid for a row without one, from the owner side', async () => {
    const row = buildExportRow({ uuid: null, sentAt: null, receivedAt: null });
    const [first] = await collect(read([row]));
    const [again] = await collect(read([row]));
    const expected = messageUuid({
      owner: row.senderPhone,
      counterpart: row.receiverPhone,
      time: row.timestamp,
      direction: 'sent',
      text: row.text,
    });
    expect(first).toMatchObject({
      events: [{ type: 'sent', timestamp: row.timestamp, uuid: expected }],
    });
    expect(again).toEqual(first);
  });

  it('reports a bad row with its line and reads on', async () => {
    const bad = {
      ...buildExportRow(),
      direction: 'sideways',
      timestamp: -1,
    } as unknown as ExportRow;
    const items = await collect(read([buildExportRow(), bad, buildExportRow()]));
    expect(items.map((item) => item.kind)).toEqual(['message', 'unreadable', 'message']);
    expect(items[1]).toEqual({
      kind: 'unreadable',
      line: 2 + header,
      reason: 'direction must be "sent" or "received"; timestamp must be unix seconds',
    });
  });
});

describe('readNdjson', () => {
  it('skips blank lines and reports a line that is not JSON, with its number', async () => {
    const row = JSON.stringify(buildExportRow());
    const items = await collect(readNdjson(stream(`\n${row}\r\n   \n{"uuid": \n${row}\n\n`)));
    expect(items.map((item) => [item.kind, item.line])).toEqual([
      ['message', 2],
      ['unreadable', 4],
      ['message', 5],
    ]);
    expect(items[1]).toMatchObject({ reason: expect.stringMatching(/^not JSON/) });
  });

  it('reports a line that is JSON but not an object', async () => {
    const items = await collect(readNdjson(stream('[1, 2]\n"text"\n')));
    expect(items).toEqual([
      { kind: 'unreadable', line: 1, reason: 'not a JSON object' },
      { kind: 'unreadable', line: 2, reason: 'not a JSON object' },
    ]);
  });
});

describe('readCsv', () => {
  it('reports a record with the wrong number of fields and reads on', async () => {
    const csv = toCsv([buildExportRow(), buildExportRow()]).replace(
      /\r\n(?=[^\r\n]*\r\n$)/,
      '\r\nshort,row\r\n',
    );
    const items = await collect(readCsv(stream(csv)));
    expect(items.map((item) => item.kind)).toEqual(['message', 'unreadable', 'message']);
    expect(items[1]).toMatchObject({
      line: 3,
      reason: expect.stringMatching(/^Invalid Record Length: columns length is 11, got 2/),
    });
  });

  it('numbers lines as a text editor does, past a quoted field that holds a CRLF', async () => {
    const csv =
      toCsv([buildExportRow({ text: 'two\r\nlines' })]) +
      'short,row\r\n' +
      toCsv([buildExportRow()]).split('\r\n')[1] +
      '\r\n';
    const items = await collect(readCsv(stream(csv)));
    expect(items.map((item) => [item.kind, item.line])).toEqual([
      ['message', 2],
      ['unreadable', 4],
      ['message', 5],
    ]);
  });

  it('refuses a file whose header is not the export format', async () => {
    await expect(collect(readCsv(stream('from,to,body\r\na,b,c\r\n')))).rejects.toThrow(
      /header lacks uuid, senderPhone, receiverPhone, text/,
    );
  });
});
