import { Check, Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

/**
 * An API key bound to phone numbers. Mirrors migration CreateApiKeys1764075000000,
 * which is the source of truth. The secret itself is never stored.
 */
@Entity({ name: 'api_keys' })
@Unique('UQ_api_keys_key_hash', ['keyHash'])
@Check('CHK_api_keys_key_hash_length', 'octet_length("key_hash") = 32')
@Check('CHK_api_keys_has_phones', 'cardinality("phones") >= 1')
export class ApiKey {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 100 })
  label: string;

  /** SHA-256 of the secret. */
  @Column({ name: 'key_hash', type: 'bytea' })
  keyHash: Buffer;

  /** The first characters of the secret, so people can tell their keys apart. */
  @Column({ name: 'key_prefix', type: 'varchar', length: 16 })
  keyPrefix: string;

  /** Normalized (E.164) numbers the key acts for. */
  @Column({ type: 'text', array: true })
  phones: string[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;
}
