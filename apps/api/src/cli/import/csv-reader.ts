import { type CsvError, parse } from 'csv-parse/sync';
import type { ReadItem } from './events.js';
import { EXPORT_COLUMNS, exportRowToItem } from './export-row.js';
import { MAX_RECORD_CHARS, textOf } from './text-chunks.js';

const NUMBER_COLUMNS = new Set(['sentAt', 'receivedAt', 'timestamp', 'segments']);

/**
 * The service's CSV export (RFC 4180: a header row, CRLF, quoted fields with
 * doubled quotes, an empty field for null), a record at a time. A record with
 * the wrong number of fields is reported and the rest of the file still read.
 *
 * The text is cut into runs of whole records, each parsed by csv-parse's
 * stream-free API, so the same code runs in Node.js and in the page.
 */
export async function* readCsv(
  input: AsyncIterable<string | Uint8Array>,
): AsyncGenerator<ReadItem> {
  const records = new RecordSplitter();
  let header: string[] | undefined;
  // The line a record starts on, counted from the raw text: the parser's own count
  // takes a CRLF inside a quoted field for two lines, and starts again with each run.
  let nextLine = 2;
  const take = (raw: string | undefined): number => {
    const line = nextLine;
    nextLine += raw?.split('\n').length ?? 1;
    return line;
  };

  const read = (text: string): ReadItem[] => {
    if (text === '') return [];
    const items: ReadItem[] = [];
    parse(text, {
      bom: header === undefined,
      columns:
        header ??
        ((names: string[]) => {
          const missing = EXPORT_COLUMNS.filter(
            (column) => column !== 'status' && !names.includes(column),
          );
          if (missing.length > 0) {
            throw new Error(
              `the CSV header lacks ${missing.join(', ')}: not an export of this service`,
            );
          }
          header = names;
          return names;
        }),
      raw: true,
      skip_records_with_error: true,
      // With `raw`, a record comes wrapped as { record, raw }; kept here, in file order.
      on_record: ({ record }: { record: Record<string, string> }, context: { raw?: string }) => {
        items.push(exportRowToItem(typed(record), take(context.raw)));
        return undefined;
      },
      on_skip: (error: CsvError | undefined, raw: string | undefined) => {
        const line = take(raw);
        items.push({ kind: 'unreadable', line, reason: withoutLine(error?.message) });
        return undefined;
      },
    });
    return items;
  };

  for await (const chunk of textOf(input)) yield* read(records.push(chunk));
  yield* read(records.end());
}

/** CSV has only text: an empty field is null, a number column holds digits. */
function typed(record: Record<string, string>): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(record)) {
    if (value === '' && name !== 'text') row[name] = null;
    else if (NUMBER_COLUMNS.has(name) && /^\d+$/.test(value)) row[name] = Number(value);
    else row[name] = value;
  }
  return row;
}

/** The parser's line counts from the start of a run, not of the file: the item has the right one. */
function withoutLine(message = 'unreadable record'): string {
  return message.replace(/ (?:on|at) line \d+/, '');
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const NEWLINE = 0x0a;

type Place = 'fieldStart' | 'unquoted' | 'quoted' | 'quoteInQuoted';

/**
 * Holds back the text after the last record delimiter, so that each run
 * handed on ends with a whole record. It follows RFC 4180's quoting only as
 * far as it must to tell a delimiter from a line break inside a quoted field.
 */
export class RecordSplitter {
  private held = '';
  private scanned = 0;
  private place: Place = 'fieldStart';

  push(chunk: string): string {
    this.held += chunk;
    let cut = 0;
    for (let i = this.scanned; i < this.held.length; i += 1) {
      const code = this.held.charCodeAt(i);
      switch (this.place) {
        case 'quoted':
          if (code === QUOTE) this.place = 'quoteInQuoted';
          continue;
        case 'fieldStart':
          if (code === QUOTE) {
            this.place = 'quoted';
            continue;
          }
          break;
        case 'quoteInQuoted':
          // "" inside a quoted field is a quote; anything else closed the field.
          if (code === QUOTE) {
            this.place = 'quoted';
            continue;
          }
          break;
        case 'unquoted':
          break;
      }
      if (code === COMMA) this.place = 'fieldStart';
      else if (code === NEWLINE) {
        this.place = 'fieldStart';
        cut = i + 1;
      } else this.place = 'unquoted';
    }
    const run = this.held.slice(0, cut);
    this.held = this.held.slice(cut);
    this.scanned = this.held.length;
    if (this.held.length > MAX_RECORD_CHARS) {
      throw new Error(
        `a CSV record over ${MAX_RECORD_CHARS} characters (an unclosed quote?): not an export of this service`,
      );
    }
    return run;
  }

  end(): string {
    const rest = this.held;
    this.held = '';
    this.scanned = 0;
    this.place = 'fieldStart';
    return rest;
  }
}
