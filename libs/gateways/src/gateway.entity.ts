import { Check, Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { GatewayProviderName } from './gateway-provider-name.js';
import type { OutboundSettings } from './outbound/outbound-settings.js';

/**
 * A connection to an SMS gateway: it posts received messages to its webhook,
 * and, with `outbound`, sends messages from its numbers. Mirrors migrations
 * CreateGateways1764079000000 and CreateOutbound1764080000000, which are the
 * source of truth. Secrets are stored sealed (AES-256-GCM), never in clear.
 */
@Entity({ name: 'gateways' })
@Check(
  'CHK_gateways_provider',
  `"provider" IN ('twilio', 'android-sms-gateway', 'textbee', 'smpp')`,
)
@Check('CHK_gateways_has_phones', 'cardinality("phones") >= 1')
@Check(
  'CHK_gateways_secret',
  `("secret_sealed" IS NULL) = ("secret_key_id" IS NULL) AND ("secret_sealed" IS NOT NULL OR "provider" = 'smpp')`,
)
@Check(
  'CHK_gateways_outbound',
  `("outbound_sealed" IS NULL) = ("outbound_key_id" IS NULL) AND ("outbound" IS NOT NULL OR "provider" <> 'smpp')`,
)
export class Gateway {
  /** Chosen by the service before sealing, since the secrets are bound to it. */
  @PrimaryColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 32 })
  provider: GatewayProviderName;

  @Column({ type: 'varchar', length: 100 })
  label: string;

  /** Normalized (E.164) numbers this gateway receives for and sends from, in the order given. */
  @Column({ type: 'text', array: true })
  phones: string[];

  /** Which secrets key sealed the signing secret (see SecretBox); null for SMPP, which has none. */
  @Column({ name: 'secret_key_id', type: 'varchar', length: 16, nullable: true })
  secretKeyId: string | null;

  /** `iv | tag | ciphertext` of the provider's signing secret. */
  @Column({ name: 'secret_sealed', type: 'bytea', nullable: true })
  secretSealed: Buffer | null;

  /** The outbound side's public settings (shown by the API); null: receive only. */
  @Column({ type: 'jsonb', nullable: true })
  outbound: OutboundSettings | null;

  /** Which secrets key sealed the outbound credentials. */
  @Column({ name: 'outbound_key_id', type: 'varchar', length: 16, nullable: true })
  outboundKeyId: string | null;

  /** The outbound credentials (an SMPP or app password), sealed; null when there are none. */
  @Column({ name: 'outbound_sealed', type: 'bytea', nullable: true })
  outboundSealed: Buffer | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
