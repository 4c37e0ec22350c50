import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Pool } from 'pg';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Subscription } from 'rxjs';
import { PG_POOL } from '@app/database';
import { GATEWAY_PROVIDERS, WEBHOOK_RESULTS, WebhookEvents } from '@app/gateways';
import { MessageEvents, type MessageRecorded, type SmsEventKind } from '@app/messaging';
import {
  OUTBOUND_PROVIDERS,
  OutboundEvents,
  OutboxRepository,
  type SendOutcome,
} from '@app/outbound';
import { RETENTION_OUTCOMES, RetentionEvents } from '@app/privacy';
import { WEBHOOK_ATTEMPT_OUTCOMES, WebhookDeliveryEvents, WebhooksRepository } from '@app/webhooks';
import type { FinishedRequest } from '../http/http-traffic.js';
import { RequestDurationHistogram } from './request-duration.histogram.js';

const EVENTS: SmsEventKind[] = ['sent', 'received'];
const OUTCOMES: MessageRecorded['outcome'][] = ['created', 'replayed', 'merged', 'conflict'];
const SEND_OUTCOMES: SendOutcome[] = ['accepted', 'retried', 'failed', 'unknown'];
/** From seconds (a hand-over on loopback) to an hour (a backlog behind a slow rate, a late receipt). */
const DELIVERY_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/**
 * The app's Prometheus metrics, in a registry of its own (not prom-client's
 * global one), so that several apps in one process (the tests) do not collide.
 */
@Injectable()
export class Metrics implements OnModuleDestroy {
  readonly registry = new Registry();
  private readonly requestDuration: RequestDurationHistogram;
  private readonly messagesRecorded: Counter<'event' | 'outcome'>;
  private readonly subscriptions: Subscription[] = [];

  constructor(
    @Inject(PG_POOL) pool: Pool,
    events: MessageEvents,
    webhooks: WebhookEvents,
    outbound: OutboundEvents,
    outbox: OutboxRepository,
    retention: RetentionEvents,
    deliveries: WebhookDeliveryEvents,
    webhookQueue: WebhooksRepository,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });

    this.requestDuration = new RequestDurationHistogram(
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      this.registry,
    );

    this.messagesRecorded = new Counter({
      name: 'sms_messages_recorded_total',
      help: 'Message events recorded, by event (sent, received) and outcome',
      labelNames: ['event', 'outcome'],
      registers,
    });
    // Every series exists from the start, so rate() sees the first increment.
    for (const event of EVENTS) {
      for (const outcome of OUTCOMES) this.messagesRecorded.inc({ event, outcome }, 0);
    }
    // Published synchronously on the request path: counting must not throw.
    this.subscriptions.push(
      events.recorded$.subscribe(({ kind, outcome }) =>
        this.messagesRecorded.inc({ event: kind, outcome }),
      ),
    );

    const gatewayWebhooks = new Counter({
      name: 'sms_gateway_webhooks_total',
      help: 'Gateway webhooks answered, by provider and result (recorded, replayed, ignored, unauthorized, ...)',
      labelNames: ['provider', 'result'],
      registers,
    });
    for (const provider of GATEWAY_PROVIDERS) {
      for (const result of WEBHOOK_RESULTS) gatewayWebhooks.inc({ provider, result }, 0);
    }
    this.subscriptions.push(
      webhooks.handled$.subscribe(({ provider, result }) =>
        gatewayWebhooks.inc({ provider, result }),
      ),
    );

    this.registerOutbound(outbound, outbox);
    this.registerRetention(retention);
    this.registerWebhookDeliveries(deliveries, webhookQueue);

    new Gauge({
      name: 'db_pool_connections',
      help: 'Database connections in the pool, by state (in_use, idle)',
      labelNames: ['state'],
      registers,
      collect() {
        this.set({ state: 'in_use' }, pool.totalCount - pool.idleCount);
        this.set({ state: 'idle' }, pool.idleCount);
      },
    });
    new Gauge({
      name: 'db_pool_waiting_requests',
      help: 'Queries waiting for a free database connection',
      registers,
      collect() {
        this.set(pool.waitingCount);
      },
    });
    new Gauge({
      name: 'db_pool_max_connections',
      help: 'Size of the database pool (DB_POOL_SIZE)',
      registers,
      collect() {
        this.set(pool.options.max ?? 0);
      },
    });
  }

  /** Retention runs by outcome, and the messages they deleted. */
  private registerRetention(retention: RetentionEvents): void {
    const registers = [this.registry];
    const runs = new Counter({
      name: 'sms_retention_runs_total',
      help: 'Retention runs (RETENTION_DAYS), by outcome (completed, skipped: another instance ran it, failed)',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of RETENTION_OUTCOMES) runs.inc({ outcome }, 0);
    const deleted = new Counter({
      name: 'sms_retention_messages_deleted_total',
      help: 'Messages deleted by retention runs',
      registers,
    });
    this.subscriptions.push(
      retention.finished$.subscribe(({ outcome, messagesDeleted }) => {
        runs.inc({ outcome });
        deleted.inc(messagesDeleted);
      }),
    );
  }

  /** Sends by provider and outcome, the queue's depth and age, and how long messages wait. */
  private registerOutbound(outbound: OutboundEvents, outbox: OutboxRepository): void {
    const registers = [this.registry];
    const sends = new Counter({
      name: 'sms_outbound_sends_total',
      help: 'Hand-overs to providers, by provider and outcome (accepted, retried, failed, unknown)',
      labelNames: ['provider', 'outcome'],
      registers,
    });
    for (const provider of OUTBOUND_PROVIDERS) {
      for (const outcome of SEND_OUTCOMES) sends.inc({ provider, outcome }, 0);
    }
    this.subscriptions.push(
      outbound.attempted$.subscribe(({ provider, outcome }) => sends.inc({ provider, outcome })),
    );

    const toSent = new Histogram({
      name: 'sms_outbound_queued_to_sent_seconds',
      help: 'Time from a message being accepted to the provider taking it',
      buckets: DELIVERY_BUCKETS,
      registers,
    });
    const toDelivered = new Histogram({
      name: 'sms_outbound_queued_to_delivered_seconds',
      help: 'Time from a message being accepted to its delivery being reported',
      buckets: DELIVERY_BUCKETS,
      registers,
    });
    this.subscriptions.push(
      outbound.changed$.subscribe(({ status, queuedAtMs }) => {
        const seconds = Math.max(0, (Date.now() - queuedAtMs) / 1000);
        if (status === 'sent') toSent.observe(seconds);
        else if (status === 'delivered') toDelivered.observe(seconds);
      }),
    );

    this.registerQueueGauges(
      'sms_outbound_queue',
      'Messages waiting to be handed to a provider (queued or sending), all instances',
      'Age of the oldest message waiting to be handed over; 0 when none waits',
      () => outbox.queueState(),
    );
  }

  /** Webhook attempts by outcome, webhooks disabled, and the queue's depth and age. */
  private registerWebhookDeliveries(
    deliveries: WebhookDeliveryEvents,
    queue: WebhooksRepository,
  ): void {
    const registers = [this.registry];
    const attempts = new Counter({
      name: 'sms_webhook_attempts_total',
      help: 'Webhook deliveries tried, by outcome (accepted, retried, given_up after 24 h, dropped: the message is gone)',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of WEBHOOK_ATTEMPT_OUTCOMES) attempts.inc({ outcome }, 0);
    const disabled = new Counter({
      name: 'sms_webhooks_disabled_total',
      help: 'Webhooks disabled by a 410 or by 3 days of failures',
      registers,
    });
    this.subscriptions.push(
      deliveries.attempted$.subscribe(({ outcome }) => attempts.inc({ outcome })),
      deliveries.disabled$.subscribe(() => disabled.inc()),
    );
    this.registerQueueGauges(
      'sms_webhook_queue',
      'Webhook events not yet delivered (pending or being delivered), all instances',
      'Age of the oldest webhook event not yet delivered; 0 when none waits',
      () => queue.queueState(),
    );
  }

  /**
   * `<prefix>_depth` and `<prefix>_oldest_age_seconds`, read at each scrape:
   * a queue is shared by every instance, so each reports all of it. One query
   * serves both gauges of a scrape.
   */
  private registerQueueGauges(
    prefix: string,
    depthHelp: string,
    ageHelp: string,
    read: () => Promise<{ depth: number; oldestAgeSeconds: number }>,
  ): void {
    const registers = [this.registry];
    let state = { depth: 0, oldestAgeSeconds: 0 };
    let reading: { at: number; done: Promise<void> } | undefined;
    const readState = () => {
      if (!reading || Date.now() - reading.at > 1_000) {
        const done = read().then(
          (current) => {
            state = current;
          },
          // The database away: the last values stand, and the health check says why.
          () => undefined,
        );
        reading = { at: Date.now(), done };
      }
      return reading.done;
    };
    new Gauge({
      name: `${prefix}_depth`,
      help: depthHelp,
      registers,
      async collect() {
        await readState();
        this.set(state.depth);
      },
    });
    new Gauge({
      name: `${prefix}_oldest_age_seconds`,
      help: ageHelp,
      registers,
      async collect() {
        await readState();
        this.set(state.oldestAgeSeconds);
      },
    });
  }

  observeRequest(request: FinishedRequest): void {
    if (request.aborted) return;
    this.requestDuration.observe(
      request.method,
      request.route,
      request.status,
      request.durationSeconds,
    );
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  onModuleDestroy(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
  }
}
