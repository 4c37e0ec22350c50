import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import type { WebhookEventType } from './webhook-event-types.js';
import { Webhook } from './webhook.entity.js';

/** One attempt to deliver an event. Mirrors CreateWebhooks1764083000000, the source of truth. */
@Entity({ name: 'webhook_deliveries' })
@Index('IDX_webhook_deliveries_webhook', ['webhookId', 'id'])
export class WebhookDelivery {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column({ name: 'webhook_id', type: 'uuid' })
  webhookId: string;

  @ManyToOne(() => Webhook, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({
    name: 'webhook_id',
    referencedColumnName: 'id',
    foreignKeyConstraintName: 'FK_webhook_deliveries_webhook',
  })
  webhook?: Webhook;

  /** The queued event's row (webhook_events.id), for a redelivery; it may be gone by then. */
  @Column({ name: 'event_row', type: 'bigint' })
  eventRow: string;

  @Column({ name: 'event_id', type: 'uuid' })
  eventId: string;

  @Column({ type: 'varchar', length: 32 })
  type: WebhookEventType;

  @Column({ name: 'message_uuid', type: 'uuid' })
  messageUuid: string;

  @Column({ name: 'attempted_at', type: 'timestamptz', default: () => 'now()' })
  attemptedAt: Date;

  /** The receiver's HTTP status; null when none came (refused, timed out, blocked). */
  @Column({ name: 'status_code', type: 'smallint', nullable: true })
  statusCode: number | null;

  @Column({ name: 'latency_ms', type: 'integer' })
  latencyMs: number;

  @Column({ type: 'varchar', length: 500, nullable: true })
  error: string | null;

  @Column({ type: 'boolean' })
  accepted: boolean;
}
