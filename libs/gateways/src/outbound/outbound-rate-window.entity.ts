import { Column, Entity, JoinColumn, OneToOne, PrimaryColumn } from 'typeorm';
import { Gateway } from '../gateway.entity.js';

/**
 * A connection's sends in the current one-second window, shared by every
 * instance: claiming work locks this row, so ratePerSecond holds however many
 * workers there are. Mirrors CreateOutbound1764080000000.
 */
@Entity({ name: 'outbound_rate_windows' })
export class OutboundRateWindow {
  @PrimaryColumn({ name: 'gateway_id', type: 'uuid' })
  gatewayId: string;

  @OneToOne(() => Gateway, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'gateway_id', foreignKeyConstraintName: 'FK_outbound_rate_windows_gateway' })
  gateway?: Gateway;

  @Column({ name: 'window_start', type: 'timestamptz' })
  windowStart: Date;

  @Column({ type: 'integer' })
  used: number;
}
