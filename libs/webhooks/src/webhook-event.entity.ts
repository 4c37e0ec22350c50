import {
  Check,
  Column,
  Entity,
  Generated,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import type { WebhookEventState, WebhookEventType } from './webhook-event-types.js';
import { Webhook } from './webhook.entity.js';

/**
 * One event queued for one webhook; written by the triggers on `messages`.
 * Mirrors CreateWebhooks1764083000000, the source of truth.
 */
@Entity({ name: 'webhook_events' })
@Check('CHK_webhook_events_state', `"state" IN ('pending', 'delivering', 'delivered', 'failed')`)
@Index('IDX_webhook_events_due', ['webhookId', 'nextAttemptAt', 'id'], {
  where: `"state" = 'pending'`,
})
@Index('IDX_webhook_events_open', ['webhookId', 'messageUuid', 'id'], {
  where: `"state" IN ('pending', 'delivering')`,
})
@Index('IDX_webhook_events_leased', ['leaseUntil'], { where: `"state" = 'delivering'` })
@Index('IDX_webhook_events_finished', ['finishedAt'], {
  where: `"state" IN ('delivered', 'failed')`,
})
export class WebhookEvent {
  /** The queue's order: a message's later change gets a later id. */
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  /** The event's id, sent as `webhook-id` and in the body; the same on every attempt. */
  @Column({ name: 'event_id', type: 'uuid' })
  @Generated('uuid')
  eventId: string;

  @Column({ name: 'webhook_id', type: 'uuid' })
  webhookId: string;

  @ManyToOne(() => Webhook, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({
    name: 'webhook_id',
    referencedColumnName: 'id',
    foreignKeyConstraintName: 'FK_webhook_events_webhook',
  })
  webhook?: Webhook;

  @Column({ type: 'varchar', length: 32 })
  type: WebhookEventType;

  /** No foreign key: retention deletes old messages, and their events are dropped. */
  @Column({ name: 'message_uuid', type: 'uuid' })
  messageUuid: string;

  /** The party the message is seen from (its `direction`). */
  @Column({ type: 'varchar', length: 32 })
  viewer: string;

  /** What the change left, as it was then; the rest is read at delivery. */
  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true })
  sentAt: Date | null;

  @Column({ name: 'received_at', type: 'timestamptz', nullable: true })
  receivedAt: Date | null;

  @Column({ name: 'delivery_status', type: 'varchar', length: 10, nullable: true })
  deliveryStatus: string | null;

  @Column({ name: 'occurred_at', type: 'timestamptz', default: () => 'now()' })
  occurredAt: Date;

  /** When its retries started: the event's time, or its latest redelivery. */
  @Column({ name: 'queued_at', type: 'timestamptz', default: () => 'now()' })
  queuedAt: Date;

  @Column({ type: 'varchar', length: 10, default: 'pending' })
  state: WebhookEventState;

  @Column({ type: 'smallint', default: 0 })
  attempts: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt: Date;

  @Column({ name: 'lease_until', type: 'timestamptz', nullable: true })
  leaseUntil: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;
}
