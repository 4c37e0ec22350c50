import cliProgress from 'cli-progress';
import type { Tally } from './tally.js';

export interface Progress {
  /** After each batch's answer. */
  update(bytesRead: number, batch: { number: number; events: number }): void;
  /** A line that must not be drawn over (a retry). */
  note(text: string): void;
  stop(): void;
}

/**
 * A bar over the file's bytes on a terminal; elsewhere (a log, CI) one plain
 * line per batch, which reads well in a file.
 */
export function createProgress(
  stream: NodeJS.WriteStream,
  totalBytes: number,
  tally: Tally,
): Progress {
  const startedAt = Date.now();
  const rate = () => Math.round(tally.events / Math.max((Date.now() - startedAt) / 1000, 0.001));
  if (!stream.isTTY) {
    return {
      update(bytesRead, batch) {
        const percent = totalBytes > 0 ? Math.floor((100 * bytesRead) / totalBytes) : 100;
        stream.write(
          `batch ${batch.number}: ${batch.events} events; ${tally.events} events, ` +
            `${tally.failureCount} failed, ${percent}% of the file, ${rate()} events/s\n`,
        );
      },
      note(text) {
        stream.write(`${text}\n`);
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format:
        '{bar} {percentage}% | {events} events, {failed} failed | {rate} events/s | ETA {eta_formatted}',
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(totalBytes, 0, { events: 0, failed: 0, rate: 0 });
  return {
    update(bytesRead) {
      bar.update(bytesRead, { events: tally.events, failed: tally.failureCount, rate: rate() });
    },
    note(text) {
      stream.write(`\r\x1b[K${text}\n`);
    },
    stop() {
      bar.stop();
    },
  };
}
