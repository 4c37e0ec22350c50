import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Gateway } from '../gateway.entity.js';

/**
 * A number a connection sends from. The number is the key, so each number
 * sends through exactly one connection; the rows go with their connection.
 * Mirrors CreateOutbound1764080000000.
 */
@Entity({ name: 'gateway_senders' })
@Index('IDX_gateway_senders_gateway', ['gatewayId'])
export class GatewaySender {
  @PrimaryColumn({ type: 'varchar', length: 32 })
  phone: string;

  @Column({ name: 'gateway_id', type: 'uuid' })
  gatewayId: string;

  @ManyToOne(() => Gateway, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'gateway_id', foreignKeyConstraintName: 'FK_gateway_senders_gateway' })
  gateway?: Gateway;
}
