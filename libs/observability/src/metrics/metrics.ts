import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Pool } from 'pg';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Subscription } from 'rxjs';
import { PG_POOL } from '@app/database';
import { GATEWAY_PROVIDERS, WEBHOOK_RESULTS, WebhookEvents } from '@app/gateways';
import { MessageEvents, type MessageRecorded, type SmsEventKind } from '@app/messaging';
import type { FinishedRequest } from '../http/http-traffic.js';
import { RequestDurationHistogram } from './request-duration.histogram.js';

const EVENTS: SmsEventKind[] = ['sent', 'received'];
const OUTCOMES: MessageRecorded['outcome'][] = ['created', 'replayed', 'merged', 'conflict'];

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

  constructor(@Inject(PG_POOL) pool: Pool, events: MessageEvents, webhooks: WebhookEvents) {
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
