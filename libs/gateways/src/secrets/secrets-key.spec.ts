import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretBox } from './secret-box.js';
import { resolveSecretBox, SECRETS_KEY_FILE } from './secrets-key.js';

describe('resolveSecretBox', () => {
  const logger = { log: vi.fn(), warn: vi.fn() };
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'secrets-key-'));
    logger.warn.mockClear();
  });
  afterEach(() => rm(dataDir, { recursive: true, force: true }));

  it('refuses to run production without SECRETS_KEY', async () => {
    await expect(resolveSecretBox({ nodeEnv: 'production', dataDir }, logger)).rejects.toThrow(
      /SECRETS_KEY must be set in production/,
    );
  });

  it('generates a development key once, mode 0600, and reuses it on the next start', async () => {
    const first = await resolveSecretBox({ nodeEnv: 'development', dataDir }, logger);
    const second = await resolveSecretBox({ nodeEnv: 'development', dataDir }, logger);
    expect(second.currentKeyId).toBe(first.currentKeyId);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect((await stat(join(dataDir, SECRETS_KEY_FILE))).mode & 0o777).toBe(0o600);
    // What the first sealed, the second opens.
    expect(second.open(first.seal('token', 'c'), 'c')).toBe('token');
  });

  it('uses SECRETS_KEY, and opens secrets under SECRETS_KEY_PREVIOUS', async () => {
    const old = Buffer.alloc(32, 1);
    const sealed = new SecretBox(old).seal('token', 'c');
    const box = await resolveSecretBox(
      {
        nodeEnv: 'production',
        dataDir,
        secretsKey: Buffer.alloc(32, 2).toString('hex'),
        previousKeys: old.toString('base64'),
      },
      logger,
    );
    expect(box.open(sealed, 'c')).toBe('token');
    await expect(
      resolveSecretBox({ nodeEnv: 'production', dataDir, secretsKey: 'short' }, logger),
    ).rejects.toThrow(/SECRETS_KEY must be 32 bytes/);
  });
});
