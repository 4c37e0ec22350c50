/** The files `npm run import` and the page read, told apart by their names' extensions. */
export const FORMATS = ['ndjson', 'csv', 'xml'] as const;
export type Format = (typeof FORMATS)[number];

const EXTENSIONS: Record<string, Format> = {
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
  '.csv': 'csv',
  '.xml': 'xml',
};

/** The extensions, for a file picker's `accept`. */
export const FILE_EXTENSIONS = Object.keys(EXTENSIONS);

export function isFormat(value: string): value is Format {
  return (FORMATS as readonly string[]).includes(value);
}

/** The format a file's name says, read as path.extname does: `.xml` alone has no extension. */
export function formatOf(fileName: string): Format | undefined {
  const base = fileName.slice(Math.max(fileName.lastIndexOf('/'), fileName.lastIndexOf('\\')) + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? EXTENSIONS[base.slice(dot).toLowerCase()] : undefined;
}
