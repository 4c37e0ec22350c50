import { Check, Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { WebhookEventType } from './webhook-event-types.js';

/** A webhook to a user's own system. Mirrors CreateWebhooks1764083000000, the source of truth. */
@Entity({ name: 'webhooks' })
@Check(
  'CHK_webhooks_events',
  `cardinality("events") > 0 AND "events" <@ ARRAY['message.created', 'message.updated', 'message.erased']::varchar[]`,
)
@Check('CHK_webhooks_disabled', `"enabled" = ("disabled_at" IS NULL)`)
export class Webhook {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 2048 })
  url: string;

  @Column({ type: 'varchar', length: 32, array: true })
  events: WebhookEventType[];

  /** The numbers whose messages it hears of; null: every number (admin only). */
  @Column({ type: 'varchar', length: 32, array: true, nullable: true })
  phones: string[] | null;

  @Column({ name: 'secret_key_id', type: 'varchar', length: 16 })
  secretKeyId: string;

  /** The signing secret, sealed (AES-256-GCM) with SECRETS_KEY. */
  @Column({ name: 'secret_sealed', type: 'bytea' })
  secretSealed: Buffer;

  /** The key that created it: `admin`, or a phone key's id. */
  @Column({ name: 'created_by', type: 'varchar', length: 64 })
  createdBy: string;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  @Column({ name: 'disabled_at', type: 'timestamptz', nullable: true })
  disabledAt: Date | null;

  @Column({ name: 'disabled_reason', type: 'varchar', length: 500, nullable: true })
  disabledReason: string | null;

  /** The first failed attempt since the last accepted one; null while it works. */
  @Column({ name: 'failing_since', type: 'timestamptz', nullable: true })
  failingSince: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
