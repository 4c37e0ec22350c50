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
import {
  type ClaimedJob,
  DeliveryReports,
  OutboundEvents,
  outboundConfig,
  OutboxRepository,
} from '@app/outbound';
import { GatewaysService } from '../gateways.service.js';
import { SendFailure, type SmsSender } from '../senders/sms-sender.js';
import { SenderPool } from './sender-pool.js';

/** Housekeeping (expired leases, deleted connections, stale reports) at most this often. */
const SWEEP_INTERVAL_MS = 5_000;
/** Accepted sends are stored in batches: one statement for up to this many. */
const COMPLETION_BATCH = 200;
/** Kept reports that no message claimed by then are dropped. */
const KEPT_REPORT_DAYS = 7;
const UNKNOWN_OUTCOME_REASON =
  'The service stopped after handing the message over and before storing the answer, so it may have been sent. It is not sent again by itself; retry it to send it again.';

/**
 * Hands queued messages to their providers. Every instance runs one; they
 * share the outbox through PostgreSQL (FOR UPDATE SKIP LOCKED), and each
 * connection's rate holds across them. A message is handed over at most once
 * per claim: the claim's lease marks it `sending` before the hand-over, and
 * the provider's answer is stored before the job can be claimed again.
 */
@Injectable()
export class DeliveryWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Delivery');
  private running = false;
  private loop?: Promise<void>;
  private readonly signal = new WakeSignal();
  private lastSweepAt = 0;
  /** Connections with due work, and their rate per second; see round(). */
  private due = new Map<string, number>();
  private dueListedAt = 0;
  private readonly inFlight = new Map<string, number>();
  private readonly hangingSends = new PendingWork((error) =>
    this.logger.error(`A delivery could not be settled: ${error.message}`),
  );
  private completions: Array<{ accepted: Accepted; stored: () => void }> = [];
  private flushing?: Promise<void>;
  private subscription?: Subscription;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly reports: DeliveryReports,
    private readonly senders: SenderPool,
    private readonly gateways: GatewaysService,
    private readonly events: OutboundEvents,
    @Inject(outboundConfig.KEY) private readonly config: ConfigType<typeof outboundConfig>,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.worker) return;
    this.running = true;
    // A message queued here starts at once; other instances' work is found by polling.
    this.subscription = this.events.changed$.subscribe((change) => {
      if (change.status !== 'queued') return;
      if (!this.due.has(change.gatewayId)) this.dueListedAt = 0;
      this.kick();
    });
    this.loop = this.run();
  }

  /** Stops claiming, then waits for the hand-overs under way and stores their answers. */
  async beforeApplicationShutdown(): Promise<void> {
    this.running = false;
    this.subscription?.unsubscribe();
    this.kick();
    await this.loop;
    await this.hangingSends.settled();
    await this.flush();
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.round();
      } catch (error) {
        this.logger.warn(`Delivery round failed, retrying: ${(error as Error).message}`);
        await this.pause(1_000);
        continue;
      }
      await this.pause(this.config.pollMs);
    }
  }

  /**
   * One pass over the connections with due work. The list of them is read at
   * most once per poll interval (or when a message is queued here for a
   * connection not on it); a connection whose claim comes back short has no
   * more due work and leaves the list until then. Claims wait for half a
   * window of free slots, so a busy connection is claimed for in batches, not
   * one statement per finished message.
   */
  private async round(): Promise<void> {
    if (Date.now() - this.lastSweepAt >= SWEEP_INTERVAL_MS) await this.sweep();
    if (Date.now() - this.dueListedAt >= this.config.pollMs) {
      this.dueListedAt = Date.now();
      const listed = await this.outbox.findSendingGateways();
      this.due = new Map(listed.map((gateway) => [gateway.id, gateway.ratePerSecond]));
    }
    for (const [gatewayId, ratePerSecond] of this.due) {
      if (!this.running) return;
      const sender = await this.senders.get(gatewayId);
      if (!sender) {
        this.due.delete(gatewayId);
        continue;
      }
      // Claim no more than the sender can write at once: after a crash, every claimed but
      // unstored message is of unknown outcome, so none should wait unwritten.
      const inFlight = this.inFlight.get(gatewayId) ?? 0;
      const free = sender.window - inFlight;
      if (free <= 0 || (inFlight > 0 && free < Math.ceil(sender.window / 2))) continue;
      const jobs = await this.outbox.claim(gatewayId, free, ratePerSecond, this.config.leaseMs);
      // Short: nothing more is due now, or the second's budget is spent; the next listing tells.
      if (jobs.length < free) this.due.delete(gatewayId);
      for (const job of jobs) {
        this.reports.announce({
          uuid: job.uuid,
          gatewayId: job.gatewayId,
          senderPhone: job.from,
          receiverPhone: job.to,
          status: 'sending',
          queuedAtMs: job.queuedAtMs,
        });
        this.hangingSends.add(this.deliver(sender, job));
      }
    }
  }

  private async sweep(): Promise<void> {
    this.lastSweepAt = Date.now();
    const recovered = await this.outbox.recoverExpired(RESENDING_PROVIDERS, UNKNOWN_OUTCOME_REASON);
    for (const change of recovered) {
      this.reports.announce(change);
      if (change.status === 'failed') {
        this.logger.warn(`Message ${change.uuid}: its hand-over was interrupted; outcome unknown`);
      }
    }
    for (const change of await this.outbox.failOrphaned()) this.reports.announce(change);
    await this.reports.settleAllKept();
    await this.outbox.expireKeptReports(KEPT_REPORT_DAYS);
    const sending = (await this.gateways.list()).filter((gateway) => gateway.outbound);
    await this.senders.retainOnly(new Set(sending.map((gateway) => gateway.id)));
    // SMPP receipts arrive on a bound session: keep one for every SMPP connection.
    for (const gateway of sending) {
      if (gateway.provider === 'smpp') await this.senders.open(gateway.id);
    }
  }

  private async deliver(sender: SmsSender, job: ClaimedJob): Promise<void> {
    this.inFlight.set(job.gatewayId, (this.inFlight.get(job.gatewayId) ?? 0) + 1);
    try {
      const { providerMessageId } = await sender.send({
        uuid: job.uuid,
        from: job.from,
        to: job.to,
        text: job.text,
        encoding: job.encoding,
        segments: job.segments,
        statusCallbackUrl: this.senders.statusCallbackUrl(job.gatewayId),
      });
      this.events.attempt({ provider: sender.provider, outcome: 'accepted' });
      // Still in flight until stored: what the provider took but we have not stored is what a
      // crash leaves unknown, so it counts against the window too.
      await this.complete({ uuid: job.uuid, providerMessageId, gatewayId: job.gatewayId });
    } catch (error) {
      await this.settleFailure(sender, job, error);
    } finally {
      this.inFlight.set(job.gatewayId, (this.inFlight.get(job.gatewayId) ?? 1) - 1);
      this.kick();
    }
  }

  private async settleFailure(sender: SmsSender, job: ClaimedJob, error: unknown) {
    const failure =
      error instanceof SendFailure
        ? error
        : SendFailure.transient('error', `sending failed: ${(error as Error).message}`);
    if (failure.code === 'UNKNOWN_OUTCOME') {
      this.events.attempt({ provider: sender.provider, outcome: 'unknown' });
      return this.announceAll(await this.outbox.markFailed(job.uuid, failure.code, failure.reason));
    }
    if (!failure.transient || job.attempts >= this.config.maxAttempts) {
      this.events.attempt({ provider: sender.provider, outcome: 'failed' });
      const reason = failure.transient
        ? `${failure.reason} (gave up after ${job.attempts} attempts)`
        : failure.reason;
      return this.announceAll(await this.outbox.markFailed(job.uuid, failure.code, reason));
    }
    this.events.attempt({ provider: sender.provider, outcome: 'retried' });
    const delayMs = Math.max(this.backoff(job.attempts), failure.retryAfterMs ?? 0);
    this.announceAll(await this.outbox.reschedule(job.uuid, delayMs, failure.code, failure.reason));
  }

  /** Exponential, with equal jitter: half fixed, half random, so retries of a burst spread out. */
  private backoff(attempts: number): number {
    const ceiling = Math.min(
      this.config.retryMaxMs,
      this.config.retryBaseMs * 2 ** Math.min(attempts - 1, 30),
    );
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  /**
   * Queues an accepted send for storing. Answers are stored in batches; one
   * that cannot be stored (the database away) is kept and tried again, since
   * the provider has the message: losing the answer would leave it to the
   * lease, which would call it unknown.
   */
  private complete(accepted: Accepted): Promise<void> {
    return new Promise((stored) => {
      this.completions.push({ accepted, stored });
      if (!this.flushing) this.flushing = this.flushSoon();
    });
  }

  private async flushSoon(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    try {
      await this.flush();
    } finally {
      this.flushing = undefined;
      if (this.completions.length > 0) this.flushing = this.flushSoon();
    }
  }

  private async flush(): Promise<void> {
    while (this.completions.length > 0) {
      const batch = this.completions.splice(0, COMPLETION_BATCH);
      const accepted = batch.map((item) => item.accepted);
      try {
        this.announceAll(await this.outbox.markSent(accepted));
        for (const item of batch) item.stored();
        // Reports that came before the ids: after the commit, off the window's path (the
        // sweep catches any this misses).
        this.reports
          .settleKept(accepted)
          .catch((error: Error) =>
            this.logger.warn(`Settling early reports failed: ${error.message}`),
          );
      } catch (error) {
        this.completions.unshift(...batch);
        this.logger.warn(
          `Storing ${batch.length} accepted send(s) failed, retrying: ${(error as Error).message}`,
        );
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  private announceAll(changes: Parameters<DeliveryReports['announce']>[0][]): void {
    for (const change of changes) this.reports.announce(change);
  }

  private kick(): void {
    this.signal.kick();
  }

  /** Waits `ms`, or less when kicked: new work, a freed slot, or the stop. */
  private pause(ms: number): Promise<void> {
    return this.running ? this.signal.pause(ms) : Promise.resolve();
  }
}

/** A send the provider took, waiting to be stored. */
interface Accepted {
  uuid: string;
  providerMessageId: string;
  gatewayId: string;
}

/** Providers that deduplicate by our uuid, so an interrupted hand-over can simply be repeated. */
const RESENDING_PROVIDERS = ['android-sms-gateway'];
