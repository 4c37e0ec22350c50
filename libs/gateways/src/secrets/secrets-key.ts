import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Logger } from '@nestjs/common';
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
  const stored = await readKeyFile(file);
  if (stored) return stored;
  await mkdir(dataDir, { recursive: true });
  try {
    // 'wx': an instance starting at the same moment must not overwrite ours.
    await writeFile(file, `${randomBytes(SECRETS_KEY_BYTES).toString('base64')}\n`, {
      mode: 0o600,
      flag: 'wx',
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  await chmod(file, 0o600); // `mode` is filtered by the umask
  logger.warn(`SECRETS_KEY is unset: generated a development secrets key in ${file} (mode 0600)`);
  return (await readKeyFile(file))!;
}

async function readKeyFile(file: string): Promise<Buffer | undefined> {
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const key = parseSecretsKey(content);
  if (!key)
    throw new Error(`${file} must hold a 32-byte base64 key; delete it only if no gateway uses it`);
  return key;
}
