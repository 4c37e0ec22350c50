import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { ReadItem } from './events.js';
import { exportRowToItem } from './export-row.js';

/** The service's NDJSON export, a line at a time; blank lines are allowed, a bad line is reported. */
export async function* readNdjson(input: Readable): AsyncGenerator<ReadItem> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  for await (const text of lines) {
    line += 1;
    if (text.trim() === '') continue;
    let row: unknown;
    try {
      row = JSON.parse(text);
    } catch (error) {
      yield { kind: 'unreadable', line, reason: `not JSON (${(error as Error).message})` };
      continue;
    }
    yield exportRowToItem(row, line);
  }
}
