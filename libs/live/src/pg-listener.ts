import type { Logger } from '@nestjs/common';
import pg from 'pg';

export interface PgListenerOptions {
  /** How to connect; usually the options of the app's pool, so both reach the same database. */
  connection: pg.ClientConfig;
  channel: string;
  logger: Pick<Logger, 'log' | 'warn'>;
  onNotification(payload: string): void;
  /** Called with false as soon as the connection is lost, with true once it listens again. */
  onListeningChange(listening: boolean): void;
  /** First reconnection delay; doubles per failed attempt up to `maxDelayMs`. */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** How often the idle connection is checked, so a silently dropped one is noticed. */
  pingIntervalMs?: number;
}

/**
 * One dedicated connection that LISTENs on a channel. A pooled connection
 * cannot do this: LISTEN belongs to a session, and the pool hands sessions
 * out per query. The connection is re-established with exponential backoff
 * (with jitter, so instances do not reconnect in lockstep) whenever it is
 * lost, and checked with a ping, as an idle socket can die without a word.
 */
export class PgListener {
  private client?: pg.Client;
  private listening = false;
  private stopped = false;
  private attempt = 0;
  private retryTimer?: NodeJS.Timeout;
  private pingTimer?: NodeJS.Timeout;

  constructor(private readonly options: PgListenerOptions) {}

  get isListening(): boolean {
    return this.listening;
  }

  /** Connects once; on failure keeps retrying in the background. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    const client = this.client;
    this.client = undefined;
    this.setListening(false);
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ ...this.options.connection, keepAlive: true });
    this.client = client;
    // Registered before connecting: an 'error' without a listener would crash the process.
    client.on('error', (error) => this.lost(client, error.message));
    client.on('end', () => this.lost(client, 'connection closed'));
    client.on('notification', (message) => {
      if (message.channel === this.options.channel && message.payload !== undefined) {
        this.options.onNotification(message.payload);
      }
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${client.escapeIdentifier(this.options.channel)}`);
    } catch (error) {
      this.lost(client, (error as Error).message);
      return;
    }
    if (this.client !== client) return;
    if (this.attempt > 0) this.options.logger.log(`Listening on ${this.options.channel} again`);
    this.attempt = 0;
    this.setListening(true);
    this.pingTimer = setInterval(
      () => void this.ping(client),
      this.options.pingIntervalMs ?? 30_000,
    );
    this.pingTimer.unref();
  }

  private async ping(client: pg.Client): Promise<void> {
    try {
      await client.query({ text: 'SELECT 1', query_timeout: 10_000 } as pg.QueryConfig);
    } catch (error) {
      this.lost(client, `ping failed: ${(error as Error).message}`);
    }
  }

  /** Handles the loss of `client` once, however many of its events report it. */
  private lost(client: pg.Client, reason: string): void {
    if (this.client !== client) return;
    this.client = undefined;
    clearInterval(this.pingTimer);
    this.setListening(false);
    client.end().catch(() => undefined);
    if (this.stopped) return;
    const maxDelay = this.options.maxDelayMs ?? 30_000;
    const delay = Math.min(maxDelay, (this.options.minDelayMs ?? 250) * 2 ** this.attempt);
    this.attempt += 1;
    const jittered = Math.round(delay * (0.5 + Math.random() / 2));
    this.options.logger.warn(
      `Live updates: lost the LISTEN connection (${reason}); reconnecting in ${jittered} ms`,
    );
    this.retryTimer = setTimeout(() => void this.connect(), jittered);
    this.retryTimer.unref();
  }

  private setListening(listening: boolean): void {
    if (this.listening === listening) return;
    this.listening = listening;
    this.options.onListeningChange(listening);
  }
}
