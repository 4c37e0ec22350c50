import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { RecordSplitter } from './csv-reader.js';
import type { ReadItem } from './events.js';
import { EXPORT_COLUMNS } from './export-row.js';
import { formatOf } from './formats.js';
import { readImport } from './readers.js';
import { MAX_RECORD_CHARS } from './text-chunks.js';

const fixture = fileURLToPath(
  new URL('../../../../../test/fixtures/import/sms-backup.xml', import.meta.url),
);
const OWNER = '+12025550143';

async function collect(items: AsyncIterable<ReadItem>): Promise<ReadItem[]> {
  const all: ReadItem[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** The text cut at `cuts` (positions, in any order), as strings the page's TextDecoderStream hands on. */
async function* cutAt(text: string, cuts: number[]): AsyncGenerator<string> {
  let from = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    yield await Promise.resolve(text.slice(from, cut));
    from = cut;
  }
  yield text.slice(from);
}

let sequence = 0;
function csvRow(text: string): string {
  sequence += 1;
  const quoted = /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  return `5f0c6f1e-8d2b-4c7e-9a51-${String(sequence).padStart(12, '0')},+12025550143,+12025550178,${quoted},sent,sent,${1764072000 + sequence},,${1764072000 + sequence},GSM-7,1`;
}

const csvFile = () =>
  [
    EXPORT_COLUMNS.join(','),
    csvRow('plain'),
    csvRow('Say "hi", then\r\nleave 😀'),
    'short,row',
    csvRow('""'),
    csvRow('ends with a quote"'),
    csvRow('two\nlines, LF only'),
    '',
  ].join('\r\n');

const ndjsonFile = () =>
  [
    JSON.stringify({ uuid: null, senderPhone: OWNER, receiverPhone: '+12025550178' }),
    '',
    '{"not json',
    JSON.stringify({
      uuid: null,
      senderPhone: OWNER,
      receiverPhone: '+12025550178',
      text: 'line\r\nbreak 😀',
      direction: 'sent',
      sentAt: null,
      receivedAt: null,
      timestamp: 1764072000,
    }),
    '',
  ].join('\r\n');

describe('readImport', () => {
  it.each([
    ['csv', csvFile],
    ['ndjson', ndjsonFile],
    ['xml', () => readFile(fixture, 'utf8')],
  ] as const)(
    'reads a %s file the same however its text is cut into chunks',
    async (format, file) => {
      const text = await file();
      const whole = await collect(readImport(format, cutAt(text, []), OWNER));
      expect(whole.length).toBeGreaterThanOrEqual(3);
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 0, max: text.length }), { maxLength: 40 }),
          async (cuts) => {
            expect(await collect(readImport(format, cutAt(text, cuts), OWNER))).toEqual(whole);
          },
        ),
        { numRuns: 200 },
      );
    },
  );

  it("names a bad CSV record's line once: its own, counted from the start of the file", async () => {
    const items = await collect(readImport('csv', cutAt(csvFile(), []), undefined));
    expect(items.map((item) => [item.kind, item.line])).toEqual([
      ['message', 2],
      ['message', 3],
      ['unreadable', 5],
      ['message', 6],
      ['message', 7],
      ['message', 8],
    ]);
    expect(items[2]).toMatchObject({
      reason: 'Invalid Record Length: columns length is 11, got 2',
    });
  });

  it('refuses an XML backup without the number it came from', () => {
    expect(() => readImport('xml', cutAt('', []), undefined)).toThrow(/needs the number/);
  });

  it('reports an NDJSON line too long to be an export, and reads on', async () => {
    const long = `{"text":"${'x'.repeat(MAX_RECORD_CHARS)}"}`;
    const text = `${long}\n${JSON.stringify({ a: 1 })}\n`;
    const items = await collect(readImport('ndjson', cutAt(text, [1000, 600_000]), undefined));
    expect(items).toEqual([
      { kind: 'unreadable', line: 1, reason: `a line over ${MAX_RECORD_CHARS} characters` },
      expect.objectContaining({ kind: 'unreadable', line: 2, reason: expect.any(String) }),
    ]);
  });
});

describe('RecordSplitter', () => {
  it('hands on whole records only, telling a quoted line break from a record delimiter', () => {
    const splitter = new RecordSplitter();
    expect(splitter.push('a,"one\r\n')).toBe('');
    expect(splitter.push('two"",""')).toBe('');
    // The quote that ends a chunk may be the first of a doubled one.
    expect(splitter.push('"')).toBe('');
    expect(splitter.push('\r\nb,c\r\nd')).toBe('a,"one\r\ntwo"","""\r\nb,c\r\n');
    expect(splitter.end()).toBe('d');
  });

  it('gives up on a record that never ends, rather than holding the whole file', () => {
    const splitter = new RecordSplitter();
    splitter.push('a,"an unclosed quote\r\n');
    expect(() => splitter.push('x'.repeat(MAX_RECORD_CHARS))).toThrow(/unclosed quote/);
  });
});

describe('formatOf', () => {
  it.each([
    ['backup.xml', 'xml'],
    ['C:\\Users\\me\\sms-20251125.XML', 'xml'],
    ['/tmp/history.ndjson', 'ndjson'],
    ['history.jsonl', 'ndjson'],
    ['sms-+12025550143.csv', 'csv'],
    ['history.txt', undefined],
    ['.xml', undefined],
    ['archive.v2/backup', undefined],
  ])('reads %s as %s', (name, format) => {
    expect(formatOf(name)).toBe(format);
  });
});
