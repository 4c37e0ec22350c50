import { readCsv } from './csv-reader.js';
import type { ReadItem } from './events.js';
import type { Format } from './formats.js';
import { readNdjson } from './ndjson-reader.js';
import { readSmsBackup } from './xml-reader.js';

/**
 * A file's records as the events to import, from its text or its UTF-8 bytes;
 * nothing here needs Node.js, so the page reads files with it too. An export
 * names both parties of each message; an XML backup does not say whose phone
 * it came from, so it needs the owner.
 */
export function readImport(
  format: Format,
  input: AsyncIterable<string | Uint8Array>,
  owner: string | undefined,
): AsyncIterable<ReadItem> {
  switch (format) {
    case 'ndjson':
      return readNdjson(input);
    case 'csv':
      return readCsv(input);
    case 'xml':
      if (owner === undefined) throw new Error('an XML backup needs the number it came from');
      return readSmsBackup(input, owner);
  }
}
