import {
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
  type OnModuleInit,
} from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { type MessageRecorded, MessageEvents } from '@app/messaging';
import { encodeChanges, type MessageChange } from './live-event.js';
import { LIVE_CHANNEL } from './live-hub.js';
import { LiveRepository } from './live.repository.js';

const RETRY_DELAYS_MS = [100, 500, 2_000];
/**
 * At least this long between two NOTIFY rounds. Idle, a change goes out at
 * once; under load, the changes of this interval go out together instead of
 * one NOTIFY per event-loop turn, which cost 12% of a send's CPU at 2,000
 * sends/s. A live stream hears of a change at most this much later.
 */
export const NOTIFY_INTERVAL_MS = 20;

/** Payloads per NOTIFY statement: keeps one statement's parameter under 4 MB. */
export const MAX_PAYLOADS_PER_STATEMENT = 500;

/**
 * Tells every instance (this one included) about the messages this instance
 * wrote, with PostgreSQL NOTIFY. A burst is coalesced: changes recorded while
 * a NOTIFY is on its way go out together in the next one, packed into as few
 * payloads as fit PostgreSQL's 8000-byte limit. The NOTIFY runs after the
 * write committed and outside its transaction, so writes never wait on it.
 */
@Injectable()
export class LiveNotifier implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('LiveUpdates');
  private pending: MessageChange[] = [];
  private scheduled = false;
  private draining?: Promise<void>;
  private lastRoundAt = 0;
  private subscription?: Subscription;

  constructor(
    private readonly events: MessageEvents,
    private readonly repository: LiveRepository,
  ) {}

  onModuleInit(): void {
    this.subscription = this.events.recorded$.subscribe((event) => this.record(event));
    // A delivery status moving on is an update too.
    this.subscription.add(
      this.events.changed$.subscribe((change) => this.queue({ kind: 'updated', ...change })),
    );
  }

  /** Sends what is still pending before the pool closes. */
  async beforeApplicationShutdown(): Promise<void> {
    this.subscription?.unsubscribe();
    await this.draining;
    while (this.pending.length > 0) await this.drain();
  }

  private record(event: MessageRecorded): void {
    // Replays and conflicts change nothing, so nobody needs to hear about them.
    const kind =
      event.outcome === 'created' ? 'created' : event.outcome === 'merged' ? 'updated' : undefined;
    if (!kind) return;
    this.queue({
      kind,
      uuid: event.uuid,
      senderPhone: event.senderPhone,
      receiverPhone: event.receiverPhone,
    });
  }

  private queue(change: MessageChange): void {
    this.pending.push(change);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.draining) return;
    this.scheduled = true;
    const round = () => {
      this.scheduled = false;
      this.draining = this.drain().finally(() => {
        this.draining = undefined;
        if (this.pending.length > 0) this.schedule();
      });
    };
    const waitMs = this.lastRoundAt + NOTIFY_INTERVAL_MS - Date.now();
    if (waitMs > 0) setTimeout(round, waitMs);
    else setImmediate(round);
  }

  /**
   * One NOTIFY round: what is pending now, in as few payloads as fit, sent
   * together. (A round trip per payload fell behind a bulk import, whose
   * statements hold the pool: at 24,000 messages/s the changes waiting here
   * grew by 10,000 a second.)
   */
  private async drain(): Promise<void> {
    this.lastRoundAt = Date.now();
    const payloads = encodeChanges(this.pending.splice(0));
    for (let start = 0; start < payloads.length; start += MAX_PAYLOADS_PER_STATEMENT) {
      await this.send(payloads.slice(start, start + MAX_PAYLOADS_PER_STATEMENT));
    }
  }

  private async send(payloads: readonly string[]): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.repository.notify(LIVE_CHANNEL, payloads);
        return;
      } catch (error) {
        if (attempt >= RETRY_DELAYS_MS.length) {
          // Streams of other instances miss it until they reconnect; the
          // database being away usually drops their LISTEN connections too.
          this.logger.warn(`Live updates: NOTIFY failed: ${(error as Error).message}`);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAYS_MS[attempt]));
      }
    }
  }
}
