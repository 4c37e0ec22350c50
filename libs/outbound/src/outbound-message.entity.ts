import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { type DeliveryStatus, Message } from '@app/messaging';

/**
 * The outbox: one delivery job per message sent through a gateway, written in
 * the same statement as the message. Mirrors CreateOutbound1764080000000.
 */
@Entity({ name: 'outbound_messages' })
@Check(
  'CHK_outbound_messages_status',
  `"status" IN ('queued', 'sending', 'sent', 'delivered', 'failed')`,
)
@Index('IDX_outbound_messages_due', ['gatewayId', 'nextAttemptAt'], {
  where: `"status" = 'queued'`,
})
@Index('IDX_outbound_messages_leased', ['leaseUntil'], { where: `"status" = 'sending'` })
@Index('IDX_outbound_messages_provider_id', ['gatewayId', 'providerMessageId'], {
  unique: true,
  where: '"provider_message_id" IS NOT NULL',
})
export class OutboundMessage {
  @PrimaryColumn({ name: 'message_uuid', type: 'uuid' })
  messageUuid: string;

  @ManyToOne(() => Message, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'message_uuid', foreignKeyConstraintName: 'FK_outbound_messages_message' })
  message?: Message;

  /** The connection it goes out through; no foreign key, see the migration. */
  @Column({ name: 'gateway_id', type: 'uuid' })
  gatewayId: string;

  @Column({ type: 'varchar', length: 10 })
  status: DeliveryStatus;

  /** Hand-overs started so far. */
  @Column({ type: 'smallint', default: 0 })
  attempts: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt: Date;

  /** While `sending`: when the claiming worker is presumed dead. */
  @Column({ name: 'lease_until', type: 'timestamptz', nullable: true })
  leaseUntil: Date | null;

  @Column({ name: 'provider_message_id', type: 'varchar', length: 128, nullable: true })
  providerMessageId: string | null;

  @Column({ name: 'error_code', type: 'varchar', length: 64, nullable: true })
  errorCode: string | null;

  @Column({ name: 'error_reason', type: 'varchar', length: 500, nullable: true })
  errorReason: string | null;

  @Column({ name: 'queued_at', type: 'timestamptz', default: () => 'now()' })
  queuedAt: Date;

  /** When the provider took it. */
  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true })
  sentAt: Date | null;

  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true })
  deliveredAt: Date | null;

  @Column({ name: 'failed_at', type: 'timestamptz', nullable: true })
  failedAt: Date | null;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}
