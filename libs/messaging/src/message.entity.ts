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

/** Where a message stands, derived from which of its two events are known. */
export type MessageStatus = 'sent' | 'received' | 'delivered';

/** Mirrors migration CreateMessages1764072000000; the migration is the source of truth. */
@Entity({ name: 'messages' })
@Check('CHK_messages_has_event', '"sent_at" IS NOT NULL OR "received_at" IS NOT NULL')
@Index('IDX_messages_sender_time', ['senderPhone', 'occurredAt', 'uuid'])
@Index('IDX_messages_receiver_time', ['receiverPhone', 'occurredAt', 'uuid'])
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

  @Column({
    name: 'occurred_at',
    type: 'timestamptz',
    generatedType: 'STORED',
    asExpression: 'COALESCE("sent_at", "received_at")',
    insert: false,
    update: false,
  })
  occurredAt: Date;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

export function messageStatus(message: Pick<Message, 'sentAt' | 'receivedAt'>): MessageStatus {
  if (message.sentAt && message.receivedAt) return 'delivered';
  return message.sentAt ? 'sent' : 'received';
}
