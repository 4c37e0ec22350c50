import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryColumn,
  UpdateDateColumn,
} from 'typeorm';
import type { SmsEncoding } from '@app/common';
import type { DeliveryStatus, MessageStatus } from './messages.types.js';
import { OPT_OUT_KEYWORD_PREDICATE } from './opt-out.js';

/** Mirrors the migrations, which are the source of truth for the schema. */
@Entity({ name: 'messages' })
@Check('CHK_messages_has_event', '"sent_at" IS NOT NULL OR "received_at" IS NOT NULL')
@Check('CHK_messages_encoding', `"encoding" IN ('GSM-7', 'UCS-2')`)
@Check('CHK_messages_text_length', 'char_length("text") BETWEEN 1 AND 1600')
@Index('IDX_messages_sender_time', ['senderPhone', 'occurredAt', 'uuid'])
@Index('IDX_messages_receiver_time', ['receiverPhone', 'occurredAt', 'uuid'])
@Index('IDX_messages_thread_time', ['partyLow', 'partyHigh', 'occurredAt', 'uuid'])
@Index('IDX_messages_sender_changes', ['senderPhone', 'updatedAt', 'uuid'])
@Index('IDX_messages_receiver_changes', ['receiverPhone', 'updatedAt', 'uuid'])
@Check(
  'CHK_messages_delivery_status',
  `"delivery_status" IN ('queued', 'sending', 'sent', 'delivered', 'failed')`,
)
@Index('IDX_messages_opt_out_keywords', ['receiverPhone', 'senderPhone', 'occurredAt'], {
  where: OPT_OUT_KEYWORD_PREDICATE,
})
// A GIN index over an expression (see the SearchMessages migration), which TypeORM's
// metadata cannot describe: declared by name so that the schema builder leaves it alone.
@Index('IDX_messages_search', { synchronize: false })
export class Message {
  @PrimaryColumn('uuid')
  uuid: string;

  @Column({ name: 'sender_phone', type: 'varchar', length: 32 })
  senderPhone: string;

  @Column({ name: 'receiver_phone', type: 'varchar', length: 32 })
  receiverPhone: string;

  @Column({ type: 'text' })
  text: string;

  @Column({ type: 'varchar', length: 5 })
  encoding: SmsEncoding;

  @Column({ type: 'smallint' })
  segments: number;

  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true })
  sentAt: Date | null;

  @Column({ name: 'received_at', type: 'timestamptz', nullable: true })
  receivedAt: Date | null;

  /** The first reported event's time; a message's fixed place in its threads. */
  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt: Date;

  // Nullable in the schema, though never null: both parties are NOT NULL.
  @Column({
    name: 'party_low',
    type: 'varchar',
    length: 32,
    nullable: true,
    generatedType: 'STORED',
    asExpression: 'LEAST("sender_phone", "receiver_phone")',
    insert: false,
    update: false,
  })
  partyLow: string;

  @Column({
    name: 'party_high',
    type: 'varchar',
    length: 32,
    nullable: true,
    generatedType: 'STORED',
    asExpression: 'GREATEST("sender_phone", "receiver_phone")',
    insert: false,
    update: false,
  })
  partyHigh: string;

  /** Where a message sent through a gateway stands; null for messages phones reported. */
  @Column({ name: 'delivery_status', type: 'varchar', length: 10, nullable: true })
  deliveryStatus: DeliveryStatus | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

/**
 * Where a message stands: a message sent through a gateway by its delivery,
 * any other by which of its two events are known.
 */
export function messageStatus(message: {
  sentAt: Date | number | null;
  receivedAt: Date | number | null;
  deliveryStatus?: DeliveryStatus | null;
}): MessageStatus {
  if (message.deliveryStatus) return message.deliveryStatus;
  if (message.sentAt !== null && message.receivedAt !== null) return 'delivered';
  return message.sentAt !== null ? 'sent' : 'received';
}
