import { createHash, randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ensureOwnDirectory,
  errorCode,
  SUPERUSER,
  TMP_PREFIX,
  type EmbeddedPostgresLogger,
} from './common.js';
import { canTraverse, type PostgresUser } from './postgres-user.js';

// Where the cluster and its password live.

export interface ClusterLayout {
  /** Folder holding the cluster folder, the password file and the owner record. */
  baseDir: string;
  clusterDir: string;
}

const CLUSTER_FOLDER = 'postgres';
const PASSWORD_FILE = 'postgres.password';

export async function resolveClusterLayout(
  dataDir: string,
  runAs: PostgresUser | undefined,
  logger: EmbeddedPostgresLogger,
): Promise<ClusterLayout> {
  await mkdir(dataDir, { recursive: true });
  if (!runAs || (await canTraverse(dataDir, runAs))) {
    return { baseDir: dataDir, clusterDir: join(dataDir, CLUSTER_FOLDER) };
  }
  // E.g. a CI checkout under /root (mode 700). Derive the folder from the dataDir path so
  // that the next start of the same checkout finds its cluster again.
  const hash = createHash('sha256').update(dataDir).digest('hex').slice(0, 16);
  const baseDir = join(tmpdir(), `${TMP_PREFIX}data-${hash}`);
  await ensureOwnDirectory(baseDir, 0o755);
  if (!(await canTraverse(baseDir, runAs))) {
    throw new Error(
      `Neither ${dataDir} nor ${baseDir} is reachable by the '${SUPERUSER}' user; point TMPDIR at a folder it can enter`,
    );
  }
  const clusterDir = join(baseDir, CLUSTER_FOLDER);
  logger.warn(
    `${dataDir} is not reachable by the '${SUPERUSER}' user PostgreSQL runs as (a parent folder is closed to others); keeping the cluster in ${clusterDir} instead`,
  );
  return { baseDir, clusterDir };
}

/** initdb wants an empty folder, owned by the user it runs as. */
export async function prepareEmptyClusterDir(
  clusterDir: string,
  runAs: PostgresUser | undefined,
): Promise<void> {
  await mkdir(clusterDir, { recursive: true, mode: 0o700 });
  if ((await readdir(clusterDir)).length > 0) {
    // Never delete it ourselves: it may hold data we do not understand.
    throw new Error(
      `${clusterDir} is not empty but holds no PostgreSQL cluster (PG_VERSION is missing, maybe an interrupted first start); delete it so a new cluster can be created`,
    );
  }
  if (runAs) await chown(clusterDir, runAs.uid, runAs.gid);
}

/**
 * The password sits next to the cluster (in dataDir, or in the fallback folder with it), so
 * the two cannot get out of step when one of them is deleted.
 */
export async function createPassword(layout: ClusterLayout): Promise<string> {
  const password = randomBytes(24).toString('base64url');
  const file = join(layout.baseDir, PASSWORD_FILE);
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  await chmod(file, 0o600); // `mode` above only applies when the file is created
  return password;
}

export async function readPassword(layout: ClusterLayout): Promise<string> {
  const file = join(layout.baseDir, PASSWORD_FILE);
  try {
    const password = (await readFile(file, 'utf8')).trim();
    if (password) return password;
  } catch (cause) {
    if (errorCode(cause) !== 'ENOENT') throw cause;
  }
  throw new Error(
    `The PostgreSQL cluster in ${layout.clusterDir} exists but its password file ${file} is missing or empty; delete the cluster folder to create a new one`,
  );
}
