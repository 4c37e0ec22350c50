import { readEventStream, StreamRefused } from './sse.js';
import type { ThreadMessage } from './types.js';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'stopped';

export interface LiveHandlers {
  message(type: 'message.created' | 'message.updated', message: ThreadMessage): void;
  /** The server could not replay everything missed: reload what is shown. */
  resync(): void;
  status(status: LiveStatus, detail?: string): void;
  /** The key was refused: the user has to sign in again. */
  unauthorized(): void;
}

const MIN_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;

/**
 * Keeps one number's event stream open: reconnects with backoff, resumes
 * with Last-Event-ID so nothing is missed in between, and reconnects when the
 * stream goes quiet for longer than its heartbeat promises (a connection can
 * die without an error, e.g. when a laptop sleeps).
 */
export class LiveConnection {
  private controller?: AbortController;
  private lastEventId?: string;
  private stopped = false;
  private failures = 0;
  private watchdog?: ReturnType<typeof setTimeout>;
  private heartbeatMs = 15_000;

  constructor(
    private readonly url: string,
    private readonly authorization: string,
    private readonly handlers: LiveHandlers,
  ) {}

  start(): void {
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.watchdog);
    this.controller?.abort();
    this.handlers.status('stopped');
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      this.handlers.status(
        this.failures === 0 && !this.lastEventId ? 'connecting' : 'reconnecting',
      );
      const controller = new AbortController();
      this.controller = controller;
      let retryAfterMs: number | undefined;
      try {
        await readEventStream(
          {
            url: this.url,
            headers: { Authorization: this.authorization },
            lastEventId: this.lastEventId,
            signal: controller.signal,
          },
          {
            open: () => this.alive(),
            comment: () => this.alive(),
            event: (event) => {
              this.alive();
              this.lastEventId = event.lastEventId || this.lastEventId;
              this.dispatch(event.type, event.data);
            },
          },
        );
      } catch (error) {
        if (this.stopped) return;
        if (error instanceof StreamRefused) {
          if (error.status === 401) {
            this.handlers.unauthorized();
            return;
          }
          if (error.status === 400 && this.lastEventId) {
            // Our resume point was refused: start afresh and reload.
            this.lastEventId = undefined;
            this.handlers.resync();
          } else if (error.status === 403 || error.status === 400) {
            this.handlers.status('stopped', error.message);
            return;
          }
          retryAfterMs = error.retryAfterSeconds && error.retryAfterSeconds * 1000;
        }
      } finally {
        clearTimeout(this.watchdog);
      }
      if (this.stopped) return;
      this.failures += 1;
      const backoff = Math.min(MAX_RETRY_MS, MIN_RETRY_MS * 2 ** (this.failures - 1));
      const delay = retryAfterMs ?? Math.round(backoff * (0.5 + Math.random() / 2));
      this.handlers.status('reconnecting', `Reconnecting in ${Math.ceil(delay / 1000)} s`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  private dispatch(type: string, data: string): void {
    switch (type) {
      case 'ready': {
        const ready = JSON.parse(data) as { heartbeatMs?: number };
        if (ready.heartbeatMs) this.heartbeatMs = ready.heartbeatMs;
        this.failures = 0;
        this.handlers.status('live');
        this.alive();
        return;
      }
      case 'resync':
        this.handlers.resync();
        return;
      case 'message.created':
      case 'message.updated':
        this.handlers.message(type, JSON.parse(data) as ThreadMessage);
        return;
      default:
      // Event types added later are ignored.
    }
  }

  /** Something arrived: the connection is alive for another few heartbeats. */
  private alive(): void {
    clearTimeout(this.watchdog);
    const controller = this.controller;
    this.watchdog = setTimeout(() => controller?.abort(), this.heartbeatMs * 2 + 5_000);
  }
}
