import type { Format } from '@cli/import/formats.js';
import { readImport } from '@cli/import/readers.js';
import { withinScope } from '@cli/import/scope.js';
import type { Tally } from '@cli/import/tally.js';
import { type ImportClient, MAX_BATCH_SIZE, Uploader } from '@cli/import/uploader.js';
import type { Api } from './api.js';

/** Requests in flight at once, as `npm run import` sends by default. */
export const IMPORT_CONCURRENCY = 2;

export interface ImportProgress {
  /** Bytes of the file read so far, of `totalBytes`. */
  bytesRead: number;
  totalBytes: number;
  tally: Tally;
}

export interface ImportOptions {
  api: Pick<Api, 'session' | 'importEvents'>;
  /** The open number: whose phone an XML backup is from. */
  phone: string;
  tally: Tally;
  /** Told after each batch's answer. */
  onProgress: (progress: ImportProgress) => void;
  batchSize?: number;
}

/**
 * Imports a file as `npm run import` does, with the same readers, uuids and
 * batches: read as a stream, a bounded number of batches in flight, so a big
 * backup never sits in memory whole. The outcomes go to `tally`, also when
 * the import stops part way (the promise rejects then): the service refused a
 * batch, or the file turned out not to be what its name says.
 */
export async function importFile(
  file: Pick<Blob, 'size' | 'stream'>,
  format: Format,
  options: ImportOptions,
): Promise<void> {
  const { api, tally, onProgress } = options;
  // Asked first, so a refused key fails before the file is read.
  const session = await api.session();

  let bytesRead = 0;
  const report = () => onProgress({ bytesRead, totalBytes: file.size, tally });
  const client: ImportClient = { post: (_path, body) => api.importEvents(body) };
  const uploader = new Uploader(client, tally, {
    batchSize: options.batchSize ?? MAX_BATCH_SIZE,
    concurrency: IMPORT_CONCURRENCY,
    onBatch: report,
  });
  const text = textOf(file, (bytes) => (bytesRead += bytes));
  try {
    await uploader.run(withinScope(readImport(format, text, options.phone), session));
  } finally {
    report();
  }
}

/** The file's text, decoded as it is read; `onRead` counts the bytes. */
export function textOf(
  file: Pick<Blob, 'stream'>,
  onRead: (bytes: number) => void,
): AsyncGenerator<string> {
  const counted = new TransformStream<Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>>({
    transform(chunk, controller) {
      onRead(chunk.byteLength);
      controller.enqueue(chunk);
    },
  });
  return chunksOf(file.stream().pipeThrough(counted).pipeThrough(new TextDecoderStream()));
}

/** A stream's chunks, through its reader: not every browser iterates streams itself. */
async function* chunksOf<T>(stream: ReadableStream<T>): AsyncGenerator<T> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    // The import stopped early: the rest of the file is not read.
    await reader.cancel().catch(() => undefined);
  }
}
