import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const AUDIT_ACTIONS = ['erase', 'retention'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
/** Who asked: the admin key, a phone key (see keyId), or the retention schedule. */
export const AUDIT_ACTORS = ['admin', 'key', 'retention'] as const;
export type AuditActor = (typeof AUDIT_ACTORS)[number];

/** One erasure or retention run. Mirrors CreateErasureAudit1764082000000, the source of truth. */
@Entity({ name: 'erasure_audit' })
@Check('CHK_erasure_audit_action', `"action" IN ('erase', 'retention')`)
@Check('CHK_erasure_audit_actor', `"actor" IN ('admin', 'key', 'retention')`)
@Check('CHK_erasure_audit_subject', `("action" = 'erase') = ("phone_hash" IS NOT NULL)`)
@Index('IDX_erasure_audit_started', ['startedAt', 'id'])
export class ErasureAudit {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 16 })
  action: AuditAction;

  @Column({ type: 'varchar', length: 16 })
  actor: AuditActor;

  /** The phone key that asked; null for the admin key and retention. */
  @Column({ name: 'key_id', type: 'uuid', nullable: true })
  keyId: string | null;

  /** HMAC-SHA256 (hex) of the erased number; null for retention. */
  @Column({ name: 'phone_hash', type: 'varchar', length: 64, nullable: true })
  phoneHash: string | null;

  @Column({ name: 'messages_changed', type: 'integer', default: 0 })
  messagesChanged: number;

  @Column({ name: 'summaries_changed', type: 'integer', default: 0 })
  summariesChanged: number;

  @Column({ name: 'started_at', type: 'timestamptz', default: () => 'now()' })
  startedAt: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;
}
