import type { ImportEvent, ImportResponse, ReadItem } from './events.js';
import { STORED_OUTCOMES } from './events.js';
import type { Tally } from './tally.js';

export const IMPORT_PATH = '/api/messages/import';
/** The endpoint's own limit. */
export const MAX_BATCH_SIZE = 1000;

/** What the uploader needs of a client: the CLI's ServiceClient, or the page's Api. */
export interface ImportClient {
  post(path: typeof IMPORT_PATH, body: { events: ImportEvent[] }): Promise<ImportResponse>;
}

export interface UploaderOptions {
  batchSize: number;
  /** Requests in flight at once: the reader waits for a free one, so memory stays flat. */
  concurrency: number;
  /** Told after each batch's answer. */
  onBatch?: (batch: { number: number; events: number }) => void;
}

interface Batch {
  events: ImportEvent[];
  /** The file line of each event, to say where a failure came from. */
  lines: number[];
}

/**
 * Sends what a reader yields in batches through the import endpoint, with a
 * bounded number of requests in flight, and tallies the outcomes. A message's
 * events always travel in one batch, so its second event merges with the first.
 */
export class Uploader {
  private batches = 0;

  constructor(
    private readonly client: ImportClient,
    private readonly tally: Tally,
    private readonly options: UploaderOptions,
  ) {}

  async run(items: AsyncIterable<ReadItem>): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    let stopped: Error | undefined;
    let batch: Batch = { events: [], lines: [] };

    const flush = async () => {
      if (batch.events.length === 0) return;
      const full = batch;
      batch = { events: [], lines: [] };
      while (inFlight.size >= this.options.concurrency) await Promise.race(inFlight);
      if (stopped !== undefined) return;
      const sending: Promise<void> = this.send(full)
        .catch((error: unknown) => {
          stopped ??= error instanceof Error ? error : new Error(String(error));
        })
        .finally(() => inFlight.delete(sending));
      inFlight.add(sending);
    };

    try {
      for await (const item of items) {
        if (stopped !== undefined) break;
        switch (item.kind) {
          case 'message':
            if (batch.events.length + item.events.length > this.options.batchSize) await flush();
            this.tally.messages += 1;
            for (const event of item.events) {
              batch.events.push(event);
              batch.lines.push(item.line);
            }
            break;
          case 'skipped':
            this.tally.skip(item.reason);
            break;
          case 'unreadable':
            this.tally.fail({ line: item.line, outcome: 'unreadable', reason: item.reason });
            break;
        }
      }
      if (stopped === undefined) await flush();
    } finally {
      // Also when the file turns out unreadable part way: the summary counts every answer.
      await Promise.all(inFlight);
    }
    if (stopped !== undefined) throw stopped;
  }

  private async send(batch: Batch): Promise<void> {
    const response = await this.client.post(IMPORT_PATH, { events: batch.events });
    for (const result of response.results) {
      this.tally.outcomes[result.outcome] += 1;
      if (STORED_OUTCOMES.has(result.outcome)) continue;
      this.tally.fail({
        line: batch.lines[result.index],
        uuid: result.uuid,
        outcome: result.outcome as 'conflict' | 'invalid' | 'forbidden',
        reason: (result.details ?? [])
          .map(({ field, problem }) => `${field} ${problem}`)
          .join('; '),
      });
    }
    this.tally.events += batch.events.length;
    this.batches += 1;
    this.options.onBatch?.({ number: this.batches, events: batch.events.length });
  }
}
