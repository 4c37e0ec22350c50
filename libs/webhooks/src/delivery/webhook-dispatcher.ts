import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { Subscription } from 'rxjs';
import { PendingWork, WakeSignal } from '@app/common';
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
import {
  type ClaimedEvent,
  type SettledAttempt,
  WebhooksRepository,
} from '../webhooks.repository.js';
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
 * A worker claims up to this many times the events it may post at once, so
 * that one claim feeds many attempts: a claim is a statement and a commit.
 */
const CLAIM_AHEAD = 8;
/** Accepted answers are stored in batches: one statement for up to this many. */
const SETTLE_BATCH = 500;

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
  /** Per webhook: claimed and not yet stored (waiting, being posted, or being stored). */
  private readonly held = new Map<string, number>();
  private heldTotal = 0;
  /** Per webhook: claimed events waiting for a free slot, and the attempts being posted. */
  private readonly waiting = new Map<string, Held[]>();
  private readonly posting = new Map<string, number>();
  private waitingRows = new Set<string>();
  private accepted: Array<{ attempt: SettledAttempt; stored: () => void }> = [];
  private settling?: Promise<void>;
  private readonly attempts = new PendingWork((error) =>
    this.logger.error(`A webhook attempt could not be stored: ${error.message}`),
  );
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

  /** Attempts posted at once to one webhook: a quarter of the instance's. */
  private get perWebhook(): number {
    return Math.max(1, Math.floor(this.config.concurrency / 4));
  }

  /** Long enough for a webhook's claimed events to be posted one slot after another. */
  private get leaseMs(): number {
    return this.config.timeoutMs * CLAIM_AHEAD + 60_000;
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

  /**
   * Stops claiming, gives back what was claimed and not posted, and lets the
   * attempts under way finish (each within WEBHOOK_TIMEOUT_MS).
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.running = false;
    this.subscription?.unsubscribe();
    this.kick();
    await this.loop;
    const unsent = [...this.waitingRows];
    this.waiting.clear();
    await this.repository
      .release(unsent)
      .catch((error: Error) =>
        this.logger.warn(`Giving back ${unsent.length} webhook event(s) failed: ${error.message}`),
      );
    await this.attempts.settled();
    await this.settling;
    this.sender.close();
  }

  /**
   * Stops posting what this instance claimed for a webhook that was deleted
   * or disabled; a disabled one's events go back to its queue. (Another
   * instance drops its own at its next sweep.)
   */
  forget(webhookId: string): void {
    const queue = this.waiting.get(webhookId);
    if (!queue) return;
    this.waiting.delete(webhookId);
    for (const { event } of queue) this.unhold(event);
    const rows = queue.map(({ event }) => event.row);
    this.repository
      .release(rows)
      .catch((error: Error) =>
        this.logger.warn(`Giving back ${rows.length} webhook event(s) failed: ${error.message}`),
      );
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
    const perWebhook = this.perWebhook * CLAIM_AHEAD;
    const room = this.config.concurrency * CLAIM_AHEAD - this.heldTotal;
    if (room <= 0) return;
    const full = [...this.held].filter(([, count]) => count >= perWebhook).map(([id]) => id);
    const events = await this.repository.claim(room, full, perWebhook, this.leaseMs);
    if (events.length === 0) return;
    this.active = true;
    const stored = await this.messages.findChanged(events.map((event) => event.messageUuid));
    const messages = new Map(stored.map((message) => [message.uuid, message]));
    for (const event of events) this.hold(event, messages.get(event.messageUuid));
    // A full claim: more may be due.
    if (events.length === room) this.kick();
  }

  /** Queues a claimed event behind its webhook's slots. */
  private hold(event: ClaimedEvent, message: ChangedMessageRow | undefined): void {
    this.held.set(event.webhookId, (this.held.get(event.webhookId) ?? 0) + 1);
    this.heldTotal += 1;
    this.waitingRows.add(event.row);
    const queue = this.waiting.get(event.webhookId) ?? [];
    queue.push({ event, message });
    this.waiting.set(event.webhookId, queue);
    this.post(event.webhookId);
  }

  /** Starts the webhook's waiting attempts while it has free slots. */
  private post(webhookId: string): void {
    // Stopping: what still waits is given back to the queue.
    if (!this.running) return;
    const queue = this.waiting.get(webhookId);
    while (queue && queue.length > 0 && (this.posting.get(webhookId) ?? 0) < this.perWebhook) {
      const { event, message } = queue.shift()!;
      this.posting.set(webhookId, (this.posting.get(webhookId) ?? 0) + 1);
      this.attempts.add(
        this.deliver(event, message).finally(() => {
          this.posting.set(webhookId, (this.posting.get(webhookId) ?? 1) - 1);
          this.post(webhookId);
        }),
      );
    }
    if (queue?.length === 0) this.waiting.delete(webhookId);
  }

  private async sweep(): Promise<void> {
    this.lastSweepAt = Date.now();
    const recovered = await this.repository.recoverExpired(PRUNE_BATCH);
    if (recovered > 0) {
      this.logger.warn(`${recovered} webhook attempt(s) were cut short by a stop; queued again`);
    }
    await this.repository.pruneEvents(KEPT_EVENTS_MS, PRUNE_BATCH);
    await this.repository.pruneDeliveries(KEPT_DELIVERIES);
    const enabled = new Set(
      (await this.repository.find()).filter((webhook) => webhook.enabled).map((w) => w.id),
    );
    this.active = enabled.size > 0;
    for (const webhookId of this.waiting.keys()) {
      if (!enabled.has(webhookId)) this.forget(webhookId);
    }
    if (this.signers.size > 1_000) this.signers.clear();
  }

  private async deliver(
    event: ClaimedEvent,
    message: ChangedMessageRow | undefined,
  ): Promise<void> {
    this.waitingRows.delete(event.row);
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
        await this.settleAccepted(attempt);
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
        this.forget(event.webhookId);
      }
    } finally {
      // Claim again once half of what this webhook may hold is done.
      if (this.unhold(event) <= (this.perWebhook * CLAIM_AHEAD) / 2) this.kick();
    }
  }

  /** Counts a claimed event as done; how many its webhook still holds. */
  private unhold(event: ClaimedEvent): number {
    this.waitingRows.delete(event.row);
    const left = (this.held.get(event.webhookId) ?? 1) - 1;
    if (left === 0) this.held.delete(event.webhookId);
    else this.held.set(event.webhookId, left);
    this.heldTotal -= 1;
    return left;
  }

  /**
   * Stores an accepted answer with the others of this moment, in one
   * statement. One that cannot be stored (the database away) is left to its
   * lease: the event is posted again later, so it is still delivered at least once.
   */
  private settleAccepted(attempt: SettledAttempt): Promise<void> {
    return new Promise((stored) => {
      this.accepted.push({ attempt, stored });
      this.settling ??= this.settleSoon();
    });
  }

  private async settleSoon(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    while (this.accepted.length > 0) {
      const batch = this.accepted.splice(0, SETTLE_BATCH);
      try {
        await this.repository.settleAccepted(batch.map((item) => item.attempt));
      } catch (error) {
        this.logger.warn(
          `Storing ${batch.length} accepted webhook attempt(s) failed; they will be posted again: ${(error as Error).message}`,
        );
      }
      for (const item of batch) item.stored();
    }
    this.settling = undefined;
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

  private kick(): void {
    this.signal.kick();
  }

  /** Waits `ms`, or less when kicked: new work, a freed slot, or the stop. */
  private pause(ms: number): Promise<void> {
    return this.running ? this.signal.pause(ms) : Promise.resolve();
  }
}

/** A claimed event waiting for a free slot of its webhook, with its message (undefined: gone). */
interface Held {
  event: ClaimedEvent;
  message: ChangedMessageRow | undefined;
}
