import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnModuleInit,
} from '@nestjs/common';
import type { ClientConfig } from 'pg';
import { SESSION_CONNECTION } from '@app/database';
import { toThreadMessageDto } from '@app/messaging';
import { decodeChanges, type LiveMessageEvent, type MessageChange } from './live-event.js';
import { LiveRepository } from './live.repository.js';
import { PgListener } from './pg-listener.js';

/** The PostgreSQL channel every instance of the app listens on. */
export const LIVE_CHANNEL = 'sms_message_changes';

/** One open stream of one number on this instance. */
export interface LiveSubscriber {
  next(event: LiveMessageEvent): void;
  /** The stream may have missed something: end it, the client resumes with Last-Event-ID. */
  end(): void;
}

/**
 * This instance's end of the live updates: it LISTENs for the changes every
 * instance announces (see LiveNotifier), reads the changed messages of the
 * numbers someone here follows, and hands each subscriber its events. It
 * never guesses: whenever it may have missed a change (the LISTEN connection
 * dropped, a read failed) it ends the streams concerned, and their clients
 * resume from their Last-Event-ID, which replays what they missed.
 */
@Injectable()
export class LiveHub implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('LiveUpdates');
  private readonly subscribers = new Map<string, Set<LiveSubscriber>>();
  private readonly listener: PgListener;
  /** Notifications are handled one at a time, so each stream sees changes in arrival order. */
  private queue = Promise.resolve();

  constructor(
    private readonly repository: LiveRepository,
    @Inject(SESSION_CONNECTION) session: ClientConfig,
  ) {
    this.listener = new PgListener({
      connection: { ...session, application_name: 'sms-service-live' },
      channel: LIVE_CHANNEL,
      logger: this.logger,
      onNotification: (payload) => this.received(payload),
      onListeningChange: (listening) => {
        if (!listening) this.endAll();
      },
    });
  }

  async onModuleInit(): Promise<void> {
    await this.listener.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    // Open streams would keep the HTTP server from closing.
    await this.listener.stop();
    this.endAll();
  }

  /** False while the LISTEN connection is down: a new stream would miss changes. */
  get isLive(): boolean {
    return this.listener.isListening;
  }

  /** Follows `party` (normalized); returns the way to stop. */
  subscribe(party: string, subscriber: LiveSubscriber): () => void {
    let set = this.subscribers.get(party);
    if (!set) this.subscribers.set(party, (set = new Set()));
    set.add(subscriber);
    return () => {
      const current = this.subscribers.get(party);
      if (!current?.delete(subscriber)) return;
      if (current.size === 0) this.subscribers.delete(party);
    };
  }

  /** How many streams are open here, for tests and metrics. */
  get subscriberCount(): number {
    let count = 0;
    for (const set of this.subscribers.values()) count += set.size;
    return count;
  }

  private received(payload: string): void {
    // Only changes someone here follows cost a read.
    const changes = decodeChanges(payload).filter(
      (change) =>
        this.subscribers.has(change.senderPhone) || this.subscribers.has(change.receiverPhone),
    );
    if (changes.length === 0) return;
    this.queue = this.queue
      .then(() => this.deliver(changes))
      .catch((error: unknown) =>
        this.logger.error(`Live updates: delivery failed: ${(error as Error).message}`),
      );
  }

  private async deliver(changes: MessageChange[]): Promise<void> {
    let rows;
    try {
      rows = await this.repository.findChanged(changes.map((change) => change.uuid));
    } catch (error) {
      this.logger.warn(
        `Live updates: could not read changed messages: ${(error as Error).message}`,
      );
      for (const change of changes) {
        this.endParty(change.senderPhone);
        this.endParty(change.receiverPhone);
      }
      return;
    }
    const byUuid = new Map(rows.map((row) => [row.uuid, row]));
    for (const change of changes) {
      const row = byUuid.get(change.uuid);
      if (!row) continue;
      for (const party of new Set([row.senderPhone, row.receiverPhone])) {
        const subscribers = this.subscribers.get(party);
        if (!subscribers) continue;
        const event: LiveMessageEvent = {
          type: change.kind,
          position: BigInt(row.position),
          message: toThreadMessageDto(row, party),
        };
        for (const subscriber of subscribers) subscriber.next(event);
      }
    }
  }

  private endParty(party: string): void {
    for (const subscriber of this.subscribers.get(party) ?? []) subscriber.end();
    this.subscribers.delete(party);
  }

  private endAll(): void {
    for (const party of [...this.subscribers.keys()]) this.endParty(party);
  }
}
