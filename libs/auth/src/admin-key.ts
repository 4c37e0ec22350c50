import { createHmac } from 'node:crypto';
import { join, resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import { keepDevelopmentSecret } from '@app/common';
import { generateApiKeySecret, hashApiKey, sameDigest } from './api-key-secret.js';

/** Also enforced on ADMIN_API_KEY by the configuration's validation. */
export const MIN_ADMIN_KEY_LENGTH = 32;
/** Where development keeps the admin key it generated, under DATA_DIR. */
export const ADMIN_KEY_FILE = 'admin-api-key';

/**
 * The admin credential. Only its digest is kept, until a request presents the
 * key: from then on the presented string is remembered, so each later request
 * costs a hash-table lookup instead of a SHA-256.
 */
export class AdminKey {
  private readonly digest: Buffer;
  /**
   * Holds at most the one right secret. A Set, not `===`: a lookup compares
   * hashes first, so its timing tells nothing about how much of a guess
   * matched the key's first characters.
   */
  private readonly presented = new Set<string>();

  constructor(secret: string) {
    this.digest = hashApiKey(secret);
  }

  /** Constant-time: both sides are hashed to 32 bytes first, so lengths never differ. */
  matches(secret: string): boolean {
    if (this.presented.has(secret)) return true;
    if (!sameDigest(hashApiKey(secret), this.digest)) return false;
    this.presented.add(secret);
    return true;
  }

  /**
   * A secret for `purpose` (e.g. signing cursors) derived from the admin key:
   * the same on every instance of a deployment, with nothing more to
   * configure, and unusable to recover the key.
   */
  deriveSecret(purpose: string): Buffer {
    return createHmac('sha256', this.digest).update(purpose).digest();
  }
}

export interface AdminKeySettings {
  adminApiKey?: string;
  nodeEnv: string;
  dataDir: string;
  /** For the curl line printed with a newly generated key. */
  port: number;
}

/**
 * ADMIN_API_KEY when set (production requires it). Otherwise: in tests an
 * ephemeral random key; in development the key kept in DATA_DIR, generated,
 * stored with mode 0600 and printed once on the very first start, so that
 * `npm start` stays a one-command demo.
 */
export async function resolveAdminKey(
  settings: AdminKeySettings,
  logger: Pick<Logger, 'log' | 'warn'> = new Logger('Auth'),
): Promise<AdminKey> {
  if (settings.adminApiKey) return new AdminKey(settings.adminApiKey);
  switch (settings.nodeEnv) {
    case 'production':
      throw new Error('ADMIN_API_KEY must be set in production');
    case 'test':
      return new AdminKey(generateApiKeySecret());
    default:
      return new AdminKey(await developmentAdminKey(settings, logger));
  }
}

async function developmentAdminKey(
  settings: AdminKeySettings,
  logger: Pick<Logger, 'log' | 'warn'>,
): Promise<string> {
  const file = resolve(join(settings.dataDir, ADMIN_KEY_FILE));
  const { value: secret, created } = await keepDevelopmentSecret(
    file,
    generateApiKeySecret,
    (text) => {
      if (text.length < MIN_ADMIN_KEY_LENGTH) {
        throw new Error(
          `${file} must hold an admin key of at least ${MIN_ADMIN_KEY_LENGTH} characters; delete it to generate a new one`,
        );
      }
      return text;
    },
  );
  if (!created) {
    logger.log(`ADMIN_API_KEY is unset: using the development admin key in ${file}`);
    return secret;
  }
  logger.warn(
    [
      `ADMIN_API_KEY is unset: generated a development admin key and saved it in ${file} (mode 0600).`,
      `It is shown only this once:`,
      `  ${secret}`,
      `Create a key for a phone:`,
      `  curl -X POST http://localhost:${settings.port}/api/keys -H 'Authorization: Bearer ${secret}' -H 'Content-Type: application/json' -d '{"label": "my phone", "phones": ["+12025550143"]}'`,
    ].join('\n'),
  );
  return secret;
}
