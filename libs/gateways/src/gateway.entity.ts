import { Check, Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { GatewayProviderName } from './gateway-provider-name.js';

/**
 * A connection to an SMS gateway that posts received messages to its webhook.
 * Mirrors migration CreateGateways1764079000000, which is the source of truth.
 * The provider's signing secret is stored sealed (AES-256-GCM), never in clear.
 */
@Entity({ name: 'gateways' })
@Check('CHK_gateways_provider', `"provider" IN ('twilio', 'android-sms-gateway', 'textbee')`)
@Check('CHK_gateways_has_phones', 'cardinality("phones") >= 1')
export class Gateway {
  /** Chosen by the service before sealing, since the secret is bound to it. */
  @PrimaryColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 32 })
  provider: GatewayProviderName;

  @Column({ type: 'varchar', length: 100 })
  label: string;

  /** Normalized (E.164) numbers this gateway receives for, in the order given. */
  @Column({ type: 'text', array: true })
  phones: string[];

  /** Which secrets key sealed the secret (see SecretBox). */
  @Column({ name: 'secret_key_id', type: 'varchar', length: 16 })
  secretKeyId: string;

  /** `iv | tag | ciphertext` of the provider's signing secret. */
  @Column({ name: 'secret_sealed', type: 'bytea' })
  secretSealed: Buffer;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
