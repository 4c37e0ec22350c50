import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  createPassword,
  prepareEmptyClusterDir,
  readPassword,
  resolveClusterLayout,
} from './cluster-layout.js';

/** Stands in for the `postgres` user: owns nothing here. */
const postgresUser = { uid: 4242, gid: 4242 };

const cleanupPaths: string[] = [];

afterEach(async () => {
  await Promise.all(
    cleanupPaths.splice(0).map((path) => rm(path, { recursive: true, force: true })),
  );
});

function spyLogger() {
  return { log: vi.fn(), warn: vi.fn<(msg: string) => void>(), error: vi.fn() };
}

async function scratchDir(mode: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sms-pg-layout-'));
  cleanupPaths.push(dir);
  await chmod(dir, mode);
  return dir;
}

describe('resolveClusterLayout', () => {
  it('keeps the cluster in dataDir when not running as root', async () => {
    const dataDir = join(await scratchDir(0o700), 'app', '.data');
    const logger = spyLogger();
    expect(await resolveClusterLayout(dataDir, undefined, logger)).toEqual({
      baseDir: dataDir,
      clusterDir: join(dataDir, 'postgres'),
    });
    expect((await stat(dataDir)).isDirectory()).toBe(true);
    expect(logger.warn).not.toHaveBeenCalled();
  });

  it('keeps the cluster in dataDir when the postgres user can reach it', async () => {
    const dataDir = join(await scratchDir(0o755), '.data');
    const layout = await resolveClusterLayout(dataDir, postgresUser, spyLogger());
    expect(layout.clusterDir).toBe(join(dataDir, 'postgres'));
  });

  it('moves the cluster under tmpdir, to the same folder every time, when it cannot', async () => {
    const dataDir = join(await scratchDir(0o700), '.data');
    const logger = spyLogger();
    const layout = await resolveClusterLayout(dataDir, postgresUser, logger);
    cleanupPaths.push(layout.baseDir);

    expect(dirname(layout.baseDir)).toBe(tmpdir());
    expect(layout.baseDir).toMatch(/sms-service-pgdata-[0-9a-f]{16}$/);
    expect(layout.clusterDir).toBe(join(layout.baseDir, 'postgres'));
    expect((await stat(layout.baseDir)).mode & 0o777).toBe(0o755);
    expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining(layout.clusterDir));
    expect(await resolveClusterLayout(dataDir, postgresUser, logger)).toEqual(layout);
  });
});

describe('prepareEmptyClusterDir', () => {
  it('creates a 0700 folder for initdb', async () => {
    const clusterDir = join(await scratchDir(0o755), 'postgres');
    await prepareEmptyClusterDir(clusterDir, undefined);
    expect((await stat(clusterDir)).mode & 0o777).toBe(0o700);
  });

  it('never touches a folder that holds something but no cluster', async () => {
    const clusterDir = join(await scratchDir(0o755), 'postgres');
    await mkdir(clusterDir);
    await writeFile(join(clusterDir, 'base'), '');
    await expect(prepareEmptyClusterDir(clusterDir, undefined)).rejects.toThrow(
      /is not empty but holds no PostgreSQL cluster/,
    );
    expect(await readFile(join(clusterDir, 'base'), 'utf8')).toBe('');
  });
});

describe('the password file', () => {
  it('is created private, next to the cluster, and read back', async () => {
    const baseDir = await scratchDir(0o755);
    const layout = { baseDir, clusterDir: join(baseDir, 'postgres') };
    const password = await createPassword(layout);
    expect(password).toMatch(/^[\w-]{32}$/);
    expect((await stat(join(baseDir, 'postgres.password'))).mode & 0o777).toBe(0o600);
    expect(await readPassword(layout)).toBe(password);
  });

  it('must exist for an existing cluster', async () => {
    const baseDir = await scratchDir(0o755);
    const layout = { baseDir, clusterDir: join(baseDir, 'postgres') };
    await expect(readPassword(layout)).rejects.toThrow(/password file .* is missing or empty/);
    await writeFile(join(baseDir, 'postgres.password'), '\n');
    await expect(readPassword(layout)).rejects.toThrow(/is missing or empty/);
  });
});
