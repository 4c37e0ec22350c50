import { existsSync, readFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository root, found upwards from this file: it runs both from
 * deploy/local/ (vitest, from source) and from dist/deploy/local/ (the CLI).
 */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'nest-cli.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('deploy/local: cannot find the repository root');
    dir = parent;
  }
  return dir;
}

/** The built app, as `npm start` runs it. */
export function mainJs(): string {
  return join(repoRoot(), 'dist/apps/api/apps/api/src/main.js');
}

/**
 * The Node flags `npm run start:prod` runs the app with (its young generation
 * and heap growth, see bench/README.md "Memory"), so an instance here is tuned
 * like one in production: package.json is where they are chosen.
 */
export function productionNodeFlags(): string[] {
  const { scripts } = JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  return (scripts['start:prod'] ?? '').split(/\s+/).filter((part) => part.startsWith('--'));
}

/** Why the built app is out of date (missing, or older than a source file), or undefined. */
export async function staleBuild(): Promise<string | undefined> {
  const main = mainJs();
  if (!existsSync(main)) return `${main} is missing`;
  const built = (await stat(main)).mtimeMs;
  const root = repoRoot();
  for (const sources of ['apps/api/src', 'libs']) {
    const newer = await newerSource(join(root, sources), built);
    if (newer) return `${newer.slice(root.length + 1)} is newer than the build`;
  }
  return undefined;
}

async function newerSource(dir: string, than: number): Promise<string | undefined> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const newer = await newerSource(path, than);
      if (newer) return newer;
    } else if (/\.ts$/.test(entry.name) && !/\.(e2e-)?spec\.ts$/.test(entry.name)) {
      if ((await stat(path)).mtimeMs > than) return path;
    }
  }
  return undefined;
}
