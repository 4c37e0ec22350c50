import type { Stats } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canTraverse, grants } from './postgres-user.js';

// ensurePostgresUser() creates OS users, so it is left to the e2e spec (as root).

/** Somebody who owns nothing here. */
const stranger = { uid: 4242, gid: 4242 };

const statsOf = (mode: number, uid = 0, gid = 0) => ({ mode, uid, gid }) as Stats;

describe('grants', () => {
  it('applies the owner bits to the owner, the group bits to the group, the rest to others', () => {
    expect(grants(statsOf(0o700, 4242), stranger, 0o1)).toBe(true);
    expect(grants(statsOf(0o070, 4242), stranger, 0o1)).toBe(false);
    expect(grants(statsOf(0o010, 1, 4242), stranger, 0o1)).toBe(true);
    expect(grants(statsOf(0o701, 1, 4242), stranger, 0o1)).toBe(false);
    expect(grants(statsOf(0o001), stranger, 0o1)).toBe(true);
    expect(grants(statsOf(0o004), stranger, 0o5)).toBe(false);
  });
});

describe('canTraverse', () => {
  let scratch: string;

  beforeEach(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'sms-pg-user-'));
  });

  afterEach(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('needs the execute bit on every folder from / down', async () => {
    const inner = join(scratch, 'a', 'b');
    await mkdir(inner, { recursive: true });
    await chmod(scratch, 0o755);
    expect(await canTraverse(inner, stranger)).toBe(true);

    await chmod(scratch, 0o700); // what mkdtemp, or a home folder under /root, gives
    expect(await canTraverse(inner, stranger)).toBe(false);
    expect(await canTraverse(inner, { uid: process.getuid!(), gid: process.getgid!() })).toBe(true);
  });

  it('is false for a folder that does not exist', async () => {
    expect(await canTraverse(join(scratch, 'missing'), stranger)).toBe(false);
  });
});
