import { Check, Column, Entity, PrimaryColumn } from 'typeorm';
import type { ReportedStatus } from './outbound.types.js';

/**
 * A status report that arrived before the submit's answer was stored (an SMPP
 * receipt can overtake its submit_sm_resp's commit), kept until the message
 * it names gets its provider id. Mirrors CreateOutbound1764080000000.
 */
@Entity({ name: 'delivery_reports' })
@Check('CHK_delivery_reports_status', `"status" IN ('sent', 'delivered', 'failed')`)
export class KeptDeliveryReport {
  @PrimaryColumn({ name: 'gateway_id', type: 'uuid' })
  gatewayId: string;

  @PrimaryColumn({ name: 'provider_message_id', type: 'varchar', length: 128 })
  providerMessageId: string;

  @PrimaryColumn({ type: 'varchar', length: 10 })
  status: ReportedStatus;

  @Column({ name: 'error_code', type: 'varchar', length: 64, nullable: true })
  errorCode: string | null;

  @Column({ name: 'error_reason', type: 'varchar', length: 500, nullable: true })
  errorReason: string | null;

  /** SMPP receipts: the reported message's addresses as the SMSC writes them, and its first characters. */
  @Column({ name: 'sender_address', type: 'varchar', length: 32, nullable: true })
  senderAddress: string | null;

  @Column({ name: 'receiver_address', type: 'varchar', length: 32, nullable: true })
  receiverAddress: string | null;

  @Column({ name: 'text_start', type: 'varchar', length: 160, nullable: true })
  textStart: string | null;

  @Column({ name: 'reported_at', type: 'timestamptz', default: () => 'now()' })
  reportedAt: Date;
}
