import { mkdtemp, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeCause, ensureOwnDirectory, errorCode, exists } from './common.js';

let scratch: string;

beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'sms-pg-common-'));
});

afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('describeCause', () => {
  it("says what the library's bare `undefined` rejection means", () => {
    expect(describeCause(undefined)).toBe('postgres exited before accepting connections');
    expect(describeCause(new Error('boom'))).toBe('boom');
    expect(describeCause('said')).toBe('said');
    expect(describeCause({ code: 1 })).toBe('{ code: 1 }');
  });
});

describe('errorCode', () => {
  it('reads the code of a system error, and nothing else', () => {
    expect(errorCode(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe('ENOENT');
    expect(errorCode(new Error('x'))).toBeUndefined();
    expect(errorCode({ code: 'ENOENT' })).toBeUndefined();
  });
});

describe('exists', () => {
  it('tells a present path from a missing one', async () => {
    expect(await exists(scratch)).toBe(true);
    expect(await exists(join(scratch, 'missing'))).toBe(false);
  });
});

describe('ensureOwnDirectory', () => {
  it('creates the folder with the given mode', async () => {
    const dir = join(scratch, 'own');
    await ensureOwnDirectory(dir, 0o755);
    expect((await stat(dir)).mode & 0o777).toBe(0o755);
  });

  it('refuses a symlink planted in its place', async () => {
    const planted = join(scratch, 'planted');
    await symlink(scratch, planted, 'dir');
    await expect(ensureOwnDirectory(planted, 0o755)).rejects.toThrow(/Refusing to use/);
  });
});
