import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import { keepDevelopmentSecret } from '@app/common';
import { parseSecretsKey, SECRETS_KEY_BYTES, SecretBox } from './secret-box.js';

/** Where development keeps the secrets key it generated, under DATA_DIR. */
export const SECRETS_KEY_FILE = 'secrets-key';

export interface SecretsKeySettings {
  /** SECRETS_KEY; production requires it (the configuration's validation says so). */
  secretsKey?: string;
  /** SECRETS_KEY_PREVIOUS: comma-separated keys that still open, during a rotation. */
  previousKeys?: string;
  nodeEnv: string;
  dataDir: string;
}

/**
 * The box for provider secrets, like the admin key: SECRETS_KEY when set;
 * in tests a random key; in development one generated once and kept in
 * DATA_DIR (mode 0600), so `npm start` needs no setup.
 */
export async function resolveSecretBox(
  settings: SecretsKeySettings,
  logger: Pick<Logger, 'log' | 'warn'> = new Logger('Gateways'),
): Promise<SecretBox> {
  const previous = (settings.previousKeys ?? '')
    .split(',')
    .map((value) => value.trim())
    .filter(Boolean)
    .map((value) => requireKey(value, 'SECRETS_KEY_PREVIOUS'));
  if (settings.secretsKey) {
    return new SecretBox(requireKey(settings.secretsKey, 'SECRETS_KEY'), previous);
  }
  switch (settings.nodeEnv) {
    case 'production':
      throw new Error('SECRETS_KEY must be set in production');
    case 'test':
      return new SecretBox(randomBytes(SECRETS_KEY_BYTES), previous);
    default:
      return new SecretBox(await developmentKey(settings.dataDir, logger), previous);
  }
}

function requireKey(value: string, name: string): Buffer {
  const key = parseSecretsKey(value);
  if (!key) throw new Error(`${name} must be 32 bytes as 64 hex digits or base64`);
  return key;
}

async function developmentKey(
  dataDir: string,
  logger: Pick<Logger, 'log' | 'warn'>,
): Promise<Buffer> {
  const file = resolve(join(dataDir, SECRETS_KEY_FILE));
  const { value, created } = await keepDevelopmentSecret(
    file,
    () => randomBytes(SECRETS_KEY_BYTES).toString('base64'),
    (text) => {
      const key = parseSecretsKey(text);
      if (!key) {
        throw new Error(
          `${file} must hold a 32-byte base64 key; delete it only if no gateway uses it`,
        );
      }
      return key;
    },
  );
  if (created) {
    logger.warn(`SECRETS_KEY is unset: generated a development secrets key in ${file} (mode 0600)`);
  }
  return value;
}
