import type { ReadItem } from './events.js';
import { exportRowToItem } from './export-row.js';
import { MAX_RECORD_CHARS, textOf } from './text-chunks.js';

/** The service's NDJSON export, a line at a time; blank lines are allowed, a bad line is reported. */
export async function* readNdjson(
  input: AsyncIterable<string | Uint8Array>,
): AsyncGenerator<ReadItem> {
  let line = 0;
  let held = '';
  // A line too long to be an export's is reported once and not kept.
  let overlong = false;

  function* take(text: string): Generator<ReadItem> {
    line += 1;
    if (overlong || text.length > MAX_RECORD_CHARS) {
      overlong = false;
      yield { kind: 'unreadable', line, reason: `a line over ${MAX_RECORD_CHARS} characters` };
      return;
    }
    const content = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (content.trim() === '') return;
    let row: unknown;
    try {
      row = JSON.parse(content);
    } catch (error) {
      yield { kind: 'unreadable', line, reason: `not JSON (${(error as Error).message})` };
      return;
    }
    yield exportRowToItem(row, line);
  }

  for await (const chunk of textOf(input)) {
    const lines = (held + chunk).split('\n');
    held = lines.pop()!;
    for (const text of lines) yield* take(text);
    if (held.length > MAX_RECORD_CHARS) {
      overlong = true;
      held = '';
    }
  }
  if (held !== '' || overlong) yield* take(held);
}
