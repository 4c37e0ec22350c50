import { execFile } from 'node:child_process';
import type { Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { describeCause, SUPERUSER } from './common.js';

// Running as root: PostgreSQL refuses to, so the server runs as an unprivileged `postgres`
// user, and every folder it needs must be reachable by that user.

export interface PostgresUser {
  uid: number;
  gid: number;
}

const execFileAsync = promisify(execFile);

/**
 * The library only creates the user inside initialise(), but we need its ids earlier (to
 * check reachability and chown the cluster) and also for a cluster that already exists, e.g.
 * a volume mounted into a fresh container.
 */
export async function ensurePostgresUser(): Promise<PostgresUser> {
  const lookup = async (): Promise<PostgresUser> => {
    const [uid, gid] = await Promise.all(
      ['-u', '-g'].map(async (flag) =>
        Number((await execFileAsync('id', [flag, SUPERUSER])).stdout),
      ),
    );
    return { uid, gid };
  };
  try {
    return await lookup();
  } catch {
    try {
      await execFileAsync('groupadd', ['-f', '--system', SUPERUSER]);
      await execFileAsync('useradd', ['--system', '--no-create-home', '-g', SUPERUSER, SUPERUSER]);
      return await lookup();
    } catch (cause) {
      throw new Error(
        `Running as root: PostgreSQL refuses to run as root and creating a '${SUPERUSER}' user failed: ${describeCause(cause)}`,
        { cause },
      );
    }
  }
}

export function grants(stats: Stats, user: PostgresUser, bit: number): boolean {
  // Like the kernel: only the owner bits apply to the owner, only the group bits to the
  // group. Supplementary groups and ACLs are ignored, which can only make us copy needlessly.
  const shift = stats.uid === user.uid ? 6 : stats.gid === user.gid ? 3 : 0;
  return ((stats.mode >> shift) & bit) === bit;
}

/** Whether `user` can walk from / down into `dir` (execute bit on every folder on the way). */
export async function canTraverse(dir: string, user: PostgresUser): Promise<boolean> {
  let current: string;
  try {
    current = await realpath(dir);
  } catch {
    return false;
  }
  for (;;) {
    if (!grants(await stat(current), user, 0o1)) return false;
    const parent = dirname(current);
    if (parent === current) return true;
    current = parent;
  }
}
