import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export const SECRETS_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ALGORITHM = 'aes-256-gcm';

/** A secret as stored: which key sealed it, and `iv | tag | ciphertext`. */
export interface SealedSecret {
  keyId: string;
  sealed: Buffer;
}

/** A stored secret was sealed under a key this instance was not given. */
export class UnknownSecretsKeyError extends Error {
  constructor(readonly keyId: string) {
    super(
      `A stored secret is sealed under secrets key ${keyId}, which is neither SECRETS_KEY nor in SECRETS_KEY_PREVIOUS`,
    );
    this.name = 'UnknownSecretsKeyError';
  }
}

/**
 * Reads SECRETS_KEY's format: 32 bytes as 64 hex digits or as base64
 * (`openssl rand -base64 32`). Undefined when the value is neither.
 */
export function parseSecretsKey(value: string): Buffer | undefined {
  const text = value.trim();
  if (/^[0-9a-f]{64}$/i.test(text)) return Buffer.from(text, 'hex');
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) return undefined;
  const key = Buffer.from(text, 'base64');
  return key.length === SECRETS_KEY_BYTES ? key : undefined;
}

/**
 * A short public name for a key, stored next to each secret, so that the
 * right key opens it after a rotation. It reveals nothing usable about the key.
 */
export function secretsKeyId(key: Buffer): string {
  return createHash('sha256')
    .update('sms-service secrets key id\0')
    .update(key)
    .digest('hex')
    .slice(0, 16);
}

/**
 * Seals provider secrets with AES-256-GCM. They cannot be hashed like API
 * keys, because verifying a provider's signature needs the secret itself.
 * Each secret is bound to its `context` (the connection's id) as associated
 * data, so a sealed value copied to another row does not open there.
 */
export class SecretBox {
  private readonly keys = new Map<string, Buffer>();
  readonly currentKeyId: string;

  /** `current` seals; `previous` keys only open, until every secret is resealed. */
  constructor(
    private readonly current: Buffer,
    previous: readonly Buffer[] = [],
  ) {
    if (current.length !== SECRETS_KEY_BYTES) throw new Error('A secrets key has 32 bytes');
    this.currentKeyId = secretsKeyId(current);
    for (const key of [current, ...previous]) this.keys.set(secretsKeyId(key), key);
  }

  knows(keyId: string): boolean {
    return this.keys.has(keyId);
  }

  seal(plaintext: string, context: string): SealedSecret {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.current, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return {
      keyId: this.currentKeyId,
      sealed: Buffer.concat([iv, cipher.getAuthTag(), ciphertext]),
    };
  }

  /** Throws UnknownSecretsKeyError for a key it was not given, and on any tampering. */
  open({ keyId, sealed }: SealedSecret, context: string): string {
    const key = this.keys.get(keyId);
    if (!key) throw new UnknownSecretsKeyError(keyId);
    const decipher = createDecipheriv(ALGORITHM, key, sealed.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([
      decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  }
}
