import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_KEY_FILE, resolveAdminKey } from './admin-key.js';

describe('resolveAdminKey', () => {
  let dataDir: string;
  const logger = { log: vi.fn(), warn: vi.fn() };
  const settings = (overrides: object = {}) => ({
    nodeEnv: 'development',
    dataDir,
    port: 3000,
    ...overrides,
  });

  beforeEach(async () => {
    vi.resetAllMocks();
    dataDir = join(await mkdtemp(join(tmpdir(), 'sms-admin-key-')), 'data');
  });
  afterEach(() => rm(join(dataDir, '..'), { recursive: true, force: true }));

  const printed = () => [...logger.log.mock.calls, ...logger.warn.mock.calls].flat().join('\n');

  it('uses ADMIN_API_KEY when set, and writes nothing', async () => {
    const secret = 'a'.repeat(40);
    const key = await resolveAdminKey(settings({ adminApiKey: secret }), logger);
    expect(key.matches(secret)).toBe(true);
    expect(key.matches('b'.repeat(40))).toBe(false);
    await expect(stat(dataDir)).rejects.toThrow(/ENOENT/);
    expect(printed()).toBe('');
  });

  it('refuses to go without one in production', async () => {
    await expect(resolveAdminKey(settings({ nodeEnv: 'production' }), logger)).rejects.toThrow(
      /ADMIN_API_KEY must be set in production/,
    );
  });

  it('makes an ephemeral one in tests, and says nothing', async () => {
    await resolveAdminKey(settings({ nodeEnv: 'test' }), logger);
    await expect(stat(dataDir)).rejects.toThrow(/ENOENT/);
    expect(printed()).toBe('');
  });

  it('generates one in development, keeps it with mode 0600, and prints it only the first time', async () => {
    const first = await resolveAdminKey(settings({ port: 4000 }), logger);
    const file = join(dataDir, ADMIN_KEY_FILE);
    const secret = (await readFile(file, 'utf8')).trim();
    expect(secret).toMatch(/^sms_[A-Za-z0-9_-]{43}$/);
    expect(first.matches(secret)).toBe(true);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(printed()).toContain(secret);
    expect(printed()).toContain(
      `curl -X POST http://localhost:4000/api/keys -H 'Authorization: Bearer ${secret}'`,
    );

    vi.resetAllMocks();
    const second = await resolveAdminKey(settings(), logger);
    expect(second.matches(secret)).toBe(true);
    expect(printed()).not.toContain(secret);
    expect(printed()).toContain(file);
  });

  it('refuses a kept key that is too short', async () => {
    await resolveAdminKey(settings(), logger);
    await writeFile(join(dataDir, ADMIN_KEY_FILE), 'short\n');
    await expect(resolveAdminKey(settings(), logger)).rejects.toThrow(/at least 32 characters/);
  });
});
