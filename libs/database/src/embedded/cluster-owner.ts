import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { delay, errorCode, STOP_TIMEOUT_MS, type EmbeddedPostgresLogger } from './common.js';
import type { ClusterLayout } from './cluster-layout.js';
import { identify, isLivePostgres, isRunning, type ProcessIdentity } from './process-identity.js';

// Who owns a cluster's running server, and what to do with one its owner left behind.

/** Who started the running server: see recordOwner(). */
const OWNER_FILE = 'postgres.owner';

export interface ClusterOwner extends ProcessIdentity {
  postmasterPid: number;
}

/**
 * What a running server left in the cluster folder. After a crash postmaster.pid stays
 * behind: PostgreSQL removes it itself only when no process has that pid, but pids get
 * reused (small pid namespaces in containers), and then it refuses to start, so we decide
 * ourselves: the file stays only while a live postgres owns it. And when the app is killed
 * (kill -9, OOM killer), the server it started lives on, orphaned, holding the cluster: the
 * owner record tells that server apart from one someone else is running, and we stop it.
 */
export async function reclaimCluster(
  layout: ClusterLayout,
  logger: EmbeddedPostgresLogger,
): Promise<void> {
  const { clusterDir } = layout;
  const pidFile = join(clusterDir, 'postmaster.pid');
  let content: string;
  try {
    content = await readFile(pidFile, 'utf8');
  } catch (cause) {
    if (errorCode(cause) === 'ENOENT') return;
    throw cause;
  }
  const pid = Number.parseInt(content.split('\n', 1)[0] ?? '', 10);
  if (Number.isInteger(pid) && pid > 0 && (await isLivePostgres(pid))) {
    const owner = await readOwner(layout);
    if (owner?.postmasterPid !== pid || (await isRunning(owner))) {
      const startedBy = owner?.postmasterPid === pid ? `, started by process ${owner.pid}` : '';
      throw new Error(
        `The PostgreSQL cluster in ${clusterDir} is in use by a running postgres process (pid ${pid}${startedBy}); stop it first (e.g. \`kill ${pid}\`) or use another dataDir`,
      );
    }
    logger.warn(
      `PostgreSQL (pid ${pid}) outlived the process that started it (pid ${owner.pid}, probably killed); stopping it before starting again`,
    );
    await stopOrphan(pid, clusterDir);
    // Its fast shutdown removed postmaster.pid.
    return;
  }
  await rm(pidFile, { force: true });
  logger.warn(
    `Removed a stale postmaster.pid from ${clusterDir} (pid ${pid} is no longer a running postgres; the server was probably killed)`,
  );
}

/** SIGINT is PostgreSQL's fast shutdown: sessions end, a checkpoint is written. */
async function stopOrphan(pid: number, clusterDir: string): Promise<void> {
  const waitForExit = async (ms: number): Promise<boolean> => {
    for (const deadline = Date.now() + ms; Date.now() < deadline; await delay(100)) {
      if (!(await isLivePostgres(pid))) return true;
    }
    return !(await isLivePostgres(pid));
  };
  process.kill(pid, 'SIGINT');
  if (await waitForExit(STOP_TIMEOUT_MS)) return;
  process.kill(pid, 'SIGQUIT');
  if (await waitForExit(5_000)) return;
  throw new Error(
    `The orphaned PostgreSQL (pid ${pid}) in ${clusterDir} does not stop; kill it (\`kill -9 ${pid}\`) and start again`,
  );
}

/** Notes that this process runs the postmaster `postmasterPid`, next to the cluster. */
export async function recordOwner(layout: ClusterLayout, postmasterPid: number): Promise<void> {
  const owner: ClusterOwner = { ...(await identify(process.pid)), postmasterPid };
  await writeFile(join(layout.baseDir, OWNER_FILE), `${JSON.stringify(owner)}\n`, {
    mode: 0o600,
  });
}

/** Unless a later server has recorded itself since (ours died and was replaced). */
export async function forgetOwner(layout: ClusterLayout, postmasterPid: number): Promise<void> {
  const owner = await readOwner(layout);
  if (owner?.pid === process.pid && owner.postmasterPid === postmasterPid) {
    await rm(join(layout.baseDir, OWNER_FILE), { force: true });
  }
}

export async function readOwner(layout: ClusterLayout): Promise<ClusterOwner | undefined> {
  try {
    const owner = JSON.parse(
      await readFile(join(layout.baseDir, OWNER_FILE), 'utf8'),
    ) as Partial<ClusterOwner>;
    if (typeof owner.pid === 'number' && typeof owner.postmasterPid === 'number') {
      return {
        pid: owner.pid,
        postmasterPid: owner.postmasterPid,
        ...(typeof owner.startTime === 'string' ? { startTime: owner.startTime } : {}),
      };
    }
  } catch (cause) {
    // A missing or unreadable record proves nothing: the server is then treated as not ours.
    if (errorCode(cause) !== 'ENOENT' && !(cause instanceof SyntaxError)) throw cause;
  }
  return undefined;
}
