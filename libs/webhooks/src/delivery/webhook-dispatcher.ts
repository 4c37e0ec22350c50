import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { Subscription } from 'rxjs';
import { WakeSignal } from '@app/common';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { SecretBox } from '@app/gateways';
import { type ChangedMessageRow, MessageEvents, MessagesRepository } from '@app/messaging';
import {
  DISABLE_AFTER_MS,
  RETRY_MAX_MS,
  RETRY_WINDOW_MS,
  webhooksConfig,
} from '../webhooks.config.js';
import { WebhookDeliveryEvents } from '../webhook-delivery-events.js';
import { type ClaimedEvent, WebhooksRepository } from '../webhooks.repository.js';
import { eventBody } from './event-body.js';
import { type AttemptResult, WebhookSender } from './webhook-sender.js';

/** Expired leases, old events and attempts are cleaned up at most this often. */
const SWEEP_INTERVAL_MS = 10_000;
/** Each webhook's attempts shown by GET /api/webhooks/{id}/deliveries. */
export const KEPT_DELIVERIES = 100;
/** Finished events stay this long, for redelivery. */
const KEPT_EVENTS_MS = 7 * 24 * 3600_000;
const PRUNE_BATCH = 5_000;
/** Rounds follow each other no faster than this, however often they are kicked. */
const MIN_ROUND_INTERVAL_MS = 10;

/**
 * Delivers the queued webhook events. Every instance runs one; they share the
 * queue through PostgreSQL (FOR UPDATE SKIP LOCKED, a lease per attempt), so
 * an event is delivered at least once whatever stops. Attempts run in the
 * background with a bounded number in flight, a quarter of it at most per
 * webhook, so a slow receiver holds a few slots and never a request: the API
 * only ever pays the trigger's insert.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Webhooks');
  private running = false;
  private loop?: Promise<void>;
  private readonly signal = new WakeSignal();
  private lastSweepAt = 0;
  /** Whether any webhook may have work: only then do local writes kick a round. */
  private active = true;
  private readonly inFlight = new Map<string, number>();
  private inFlightTotal = 0;
  private readonly attempts = new Set<Promise<void>>();
  private readonly signers = new Map<string, StandardWebhook>();
  private subscription?: Subscription;

  constructor(
    private readonly repository: WebhooksRepository,
    private readonly messages: MessagesRepository,
    private readonly messageEvents: MessageEvents,
    private readonly secrets: SecretBox,
    private readonly events: WebhookDeliveryEvents,
    private readonly sender: WebhookSender,
    @Inject(webhooksConfig.KEY) private readonly config: ConfigType<typeof webhooksConfig>,
  ) {}

  private get perWebhook(): number {
    return Math.max(1, Math.floor(this.config.concurrency / 4));
  }

  private get leaseMs(): number {
    return this.config.timeoutMs + 60_000;
  }

  onApplicationBootstrap(): void {
    if (!this.config.worker) return;
    this.running = true;
    // An event written here goes out at once; other instances' are found by polling.
    const kickIfActive = () => {
      if (this.active) this.kick();
    };
    this.subscription = this.messageEvents.recorded$.subscribe(kickIfActive);
    this.subscription.add(this.messageEvents.changed$.subscribe(kickIfActive));
    this.loop = this.run();
  }

  /** Stops claiming and lets the attempts under way finish (each within WEBHOOK_TIMEOUT_MS). */
  async beforeApplicationShutdown(): Promise<void> {
    this.running = false;
    this.subscription?.unsubscribe();
    this.kick();
    await this.loop;
    await Promise.allSettled([...this.attempts]);
    this.sender.close();
  }

  /** A webhook was created or redelivered here: look now. */
  notifyWork(): void {
    this.active = true;
    this.kick();
  }

  private async run(): Promise<void> {
    while (this.running) {
      const started = Date.now();
      try {
        await this.round();
      } catch (error) {
        this.logger.warn(`Webhook round failed, retrying: ${(error as Error).message}`);
        await this.pause(1_000);
        continue;
      }
      const rest = MIN_ROUND_INTERVAL_MS - (Date.now() - started);
      if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
      await this.pause(this.config.pollMs);
    }
  }

  private async round(): Promise<void> {
    if (Date.now() - this.lastSweepAt >= SWEEP_INTERVAL_MS) await this.sweep();
    const free = this.config.concurrency - this.inFlightTotal;
    if (free <= 0) return;
    const busy = [...this.inFlight].filter(([, count]) => count >= this.perWebhook);
    const events = await this.repository.claim(
      free,
      busy.map(([id]) => id),
      this.perWebhook,
      this.leaseMs,
    );
    if (events.length === 0) return;
    this.active = true;
    const stored = await this.messages.findChanged(events.map((event) => event.messageUuid));
    const messages = new Map(stored.map((message) => [message.uuid, message]));
    for (const event of events) this.track(this.deliver(event, messages.get(event.messageUuid)));
    // A full claim: more may be due.
    if (events.length === free) this.kick();
  }

  private async sweep(): Promise<void> {
    this.lastSweepAt = Date.now();
    const recovered = await this.repository.recoverExpired(PRUNE_BATCH);
    if (recovered > 0) {
      this.logger.warn(`${recovered} webhook attempt(s) were cut short by a stop; queued again`);
    }
    await this.repository.pruneEvents(KEPT_EVENTS_MS, PRUNE_BATCH);
    await this.repository.pruneDeliveries(KEPT_DELIVERIES);
    this.active = (await this.repository.find()).some((webhook) => webhook.enabled);
    if (this.signers.size > 1_000) this.signers.clear();
  }

  private async deliver(
    event: ClaimedEvent,
    message: ChangedMessageRow | undefined,
  ): Promise<void> {
    this.inFlight.set(event.webhookId, (this.inFlight.get(event.webhookId) ?? 0) + 1);
    this.inFlightTotal += 1;
    try {
      if (!message) {
        await this.repository.drop(
          event.row,
          'The message is no longer stored (RETENTION_DAYS deleted it)',
        );
        return this.events.attempted$.next({ outcome: 'dropped' });
      }
      const result = await this.attempt(event, message);
      const attempt = {
        row: event.row,
        statusCode: result.statusCode ?? null,
        latencyMs: result.latencyMs,
        error: result.error ?? null,
      };
      if (!result.error) {
        await this.repository.settleAccepted(attempt);
        return this.events.attempted$.next({ outcome: 'accepted' });
      }
      const { givenUp, disabledReason } = await this.repository.settleFailed(attempt, {
        delayMs: Math.max(this.backoff(event.attempts), result.retryAfterMs ?? 0),
        windowMs: RETRY_WINDOW_MS,
        disableAfterMs: DISABLE_AFTER_MS,
        gone: result.statusCode === 410,
      });
      this.events.attempted$.next({ outcome: givenUp ? 'given_up' : 'retried' });
      if (disabledReason) {
        this.logger.warn(`Webhook ${event.webhookId} disabled: ${disabledReason}`);
        this.events.disabled$.next({ webhookId: event.webhookId, reason: disabledReason });
      }
    } finally {
      this.inFlight.set(event.webhookId, (this.inFlight.get(event.webhookId) ?? 1) - 1);
      if (this.inFlight.get(event.webhookId) === 0) this.inFlight.delete(event.webhookId);
      this.inFlightTotal -= 1;
      this.kick();
    }
  }

  /** Signs and posts the event; a secret that cannot be opened is a failed attempt too. */
  private async attempt(event: ClaimedEvent, message: ChangedMessageRow): Promise<AttemptResult> {
    let signer: StandardWebhook;
    try {
      signer = this.signer(event);
    } catch (error) {
      return {
        latencyMs: 0,
        error: `The signing secret cannot be opened: ${(error as Error).message}`,
      };
    }
    const body = eventBody(event, message);
    const now = new Date();
    const headers = {
      'webhook-id': event.eventId,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': signer.sign(event.eventId, now, body),
    };
    return this.sender.post(event.url, headers, body);
  }

  /** The webhook's signer (Standard Webhooks' own library), its secret opened once. */
  private signer(event: ClaimedEvent): StandardWebhook {
    let signer = this.signers.get(event.webhookId);
    if (!signer) {
      const secret = this.secrets.open(
        { keyId: event.secretKeyId, sealed: event.secretSealed },
        event.webhookId,
      );
      signer = new StandardWebhook(secret);
      this.signers.set(event.webhookId, signer);
    }
    return signer;
  }

  /** Four times longer each attempt, up to 3 hours, with equal jitter: half fixed, half random. */
  private backoff(attempts: number): number {
    const ceiling = Math.min(
      RETRY_MAX_MS,
      this.config.retryBaseMs * 4 ** Math.min(attempts - 1, 20),
    );
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  private track(attempt: Promise<void>): void {
    const tracked = attempt.catch((error: Error) =>
      this.logger.error(`A webhook attempt could not be stored: ${error.message}`),
    );
    this.attempts.add(tracked);
    void tracked.finally(() => this.attempts.delete(tracked));
  }

  private kick(): void {
    this.signal.kick();
  }

  /** Waits `ms`, or less when kicked: new work, a freed slot, or the stop. */
  private pause(ms: number): Promise<void> {
    return this.running ? this.signal.pause(ms) : Promise.resolve();
  }
}
