import type { Readable } from 'node:stream';
import { type CsvError, parse } from 'csv-parse';
import type { ReadItem } from './events.js';
import { EXPORT_COLUMNS, exportRowToItem } from './export-row.js';

const NUMBER_COLUMNS = new Set(['sentAt', 'receivedAt', 'timestamp', 'segments']);

/**
 * The service's CSV export (RFC 4180: a header row, CRLF, quoted fields with
 * doubled quotes, an empty field for null), a record at a time. A record with
 * the wrong number of fields is reported and the rest of the file still read.
 */
export async function* readCsv(input: Readable): AsyncGenerator<ReadItem> {
  const rejected: ReadItem[] = [];
  // The line a record starts on, counted from the raw text: the parser's own count
  // takes a CRLF inside a quoted field for two lines.
  let nextLine = 2;
  const take = (raw: string | undefined): number => {
    const line = nextLine;
    nextLine += raw?.split('\n').length ?? 1;
    return line;
  };
  const parser = parse({
    bom: true,
    columns: (header: string[]) => {
      const missing = EXPORT_COLUMNS.filter(
        (column) => column !== 'status' && !header.includes(column),
      );
      if (missing.length > 0) {
        throw new Error(
          `the CSV header lacks ${missing.join(', ')}: not an export of this service`,
        );
      }
      return header;
    },
    raw: true,
    skip_records_with_error: true,
    // With `raw`, a record comes wrapped as { record, raw }.
    on_record: ({ record }: { record: Record<string, string> }, context: { raw?: string }) => ({
      row: typed(record),
      line: take(context.raw),
    }),
    on_skip: (error: CsvError | undefined, raw: string | undefined) => {
      const line = take(raw);
      rejected.push({ kind: 'unreadable', line, reason: error?.message ?? 'unreadable record' });
      return undefined;
    },
  });
  input.on('error', (error) => parser.destroy(error));
  input.pipe(parser);
  for await (const record of parser as AsyncIterable<{
    row: Record<string, unknown>;
    line: number;
  }>) {
    // The parser reports a bad record before it hands over the good ones ahead of it.
    while (rejected.length > 0 && rejected[0].line < record.line) yield rejected.shift()!;
    yield exportRowToItem(record.row, record.line);
  }
  yield* rejected.splice(0);
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
