import { Check, Column, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/**
 * One party's summary of its thread with one counterpart; a two-party thread
 * has two rows. Written in the same statement as the message that changes it.
 */
@Entity({ name: 'conversations' })
@Check('CHK_conversations_count', '"message_count" > 0')
@Index('IDX_conversations_owner_activity', ['ownerPhone', 'lastOccurredAt', 'counterpartPhone'])
export class Conversation {
  @PrimaryColumn({ name: 'owner_phone', type: 'varchar', length: 32 })
  ownerPhone: string;

  @PrimaryColumn({ name: 'counterpart_phone', type: 'varchar', length: 32 })
  counterpartPhone: string;

  /** The thread's newest message; no foreign key (see DropSummaryForeignKey1764078000000). */
  @Column({ name: 'last_message_uuid', type: 'uuid' })
  lastMessageUuid: string;

  @Column({ name: 'last_occurred_at', type: 'timestamptz' })
  lastOccurredAt: Date;

  @Column({ name: 'message_count', type: 'integer' })
  messageCount: number;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
