import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AppInstance, startAppInstance } from './app-instance.js';
import { ensureBinaries } from './binaries.js';
import { type Nginx, startNginx } from './nginx.js';
import { mainJs } from './paths.js';
import { type PgBouncer, startPgBouncer } from './pgbouncer.js';
import { freePort } from './ports.js';
import { type PostgresCluster, startPostgresCluster } from './postgres-cluster.js';
import { minimalEnv } from './processes.js';
import { provideRedis, type RedisEndpoint } from './redis.js';
import { serverUser } from './run-as.js';

export type { AppInstance } from './app-instance.js';
export { UPSTREAM_HEADER } from './nginx.js';

export interface TopologyOptions {
  /** App instances behind nginx; 3 by default. */
  instances?: number;
  /** HTTP_ADAPTER of every instance; fastify by default. */
  adapter?: 'express' | 'fastify';
  /** More app environment, applied last (e.g. THROTTLE_LIMIT, LOG_LEVEL). */
  env?: Record<string, string>;
  /** Keep the temp folder (data directories and logs) after stop(), to look into. */
  keepTempDir?: boolean;
  /** Progress lines; console.log by default. */
  log?: (line: string) => void;
  /** The Redis to use when it answers PING; redis://127.0.0.1:6379 by default, else a private one. */
  redisUrl?: string;
  /** Aborts a start in progress: what was started is stopped again, and the promise rejects. */
  signal?: AbortSignal;
}

export interface Topology {
  /** nginx, in front of every instance: what clients use. */
  readonly baseUrl: string;
  readonly instances: readonly AppInstance[];
  /** The `sms` database on the primary, directly (postgres://postgres@127.0.0.1:<port>/sms). */
  readonly primaryUrl: string;
  /** The same database on the streaming replica. */
  readonly replicaUrl: string;
  /** The same database through PgBouncer (transaction mode): the apps' DATABASE_URL. */
  readonly pgbouncerUrl: string;
  readonly redisUrl: string;
  /** This run's REDIS_KEY_PREFIX. */
  readonly redisPrefix: string;
  /** ADMIN_API_KEY of every instance, generated for this run. */
  readonly adminKey: string;
  /** The environment every instance runs with (PORT, HOST and DATA_DIR are per instance). */
  readonly env: Readonly<Record<string, string>>;
  readonly ports: { nginx: number; primary: number; replica: number; pgbouncer: number };
  /** Data directories, configs and every process's log; removed by stop() unless keepTempDir. */
  readonly tempDir: string;
  /** The servers' current processes (not the instances, see `instances`). */
  processes(): Array<{ name: string; pid: number; running: boolean; logFile: string }>;
  /** Stops the replica (fast shutdown); the apps' replica reads should go to the primary. */
  stopReplica(): Promise<void>;
  /** Starts it again on the same port; resolves once it streams from the primary again. */
  startReplica(): Promise<void>;
  /** Stops everything (nginx, instances, PgBouncer, replica, primary) and removes the temp folder. */
  stop(): Promise<void>;
}

const DATABASE = 'sms';
/** The app's DB_STATEMENT_TIMEOUT_MS default, which PgBouncer would otherwise drop. */
const STATEMENT_TIMEOUT = '10s';

/**
 * Starts, in a fresh temp folder and on free 127.0.0.1 ports: a PostgreSQL
 * primary and a streaming replica, PgBouncer in front of the primary, this
 * machine's Redis (or a private one), `instances` app instances from the
 * built dist, and nginx round-robin over them. Needs `npm run build` first.
 */
export async function startTopology(options: TopologyOptions = {}): Promise<Topology> {
  const log = options.log ?? ((line: string) => console.log(`[topology] ${line}`));
  const count = options.instances ?? 3;
  if (!existsSync(mainJs())) {
    throw new Error(`${mainJs()} is missing: run \`npm run build\` first`);
  }
  await ensureBinaries(['pgBin', 'pgbouncer', 'nginx'], log);
  const user = serverUser();
  const root = process.getuid?.() === 0;

  const tempDir = await mkdtemp(join(tmpdir(), 'sms-topology-'));
  // Traversable by the postgres user and nginx's workers, who own their own subfolders.
  await chmod(tempDir, 0o711);
  // Undone in reverse order, on stop() or when a step fails.
  const undo: Array<{ what: string; step: () => Promise<void> }> = [];
  undo.push({
    what: 'remove the temp folder',
    step: () =>
      options.keepTempDir
        ? Promise.resolve(log(`Kept ${tempDir}`))
        : rm(tempDir, { recursive: true, force: true }),
  });
  const teardown = async (): Promise<void> => {
    const failures: string[] = [];
    for (const { what, step } of undo.splice(0).reverse()) {
      await step().catch((error: unknown) => {
        failures.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
      });
    }
    if (failures.length > 0) throw new Error(`Stopping the topology: ${failures.join('; ')}`);
  };

  try {
    log(`Temp folder ${tempDir}`);
    const cluster: PostgresCluster = await startPostgresCluster({
      dir: join(tempDir, 'pg'),
      user,
      database: DATABASE,
      statementTimeout: STATEMENT_TIMEOUT,
    });
    undo.push({ what: 'stop PostgreSQL', step: () => cluster.stop() });
    log(
      `PostgreSQL primary on ${cluster.primaryPort}, replica on ${cluster.replicaPort} (streaming)`,
    );

    options.signal?.throwIfAborted();
    const bouncer: PgBouncer = await startPgBouncer({
      dir: join(tempDir, 'pgbouncer'),
      user,
      serverPort: cluster.primaryPort,
    });
    undo.push({ what: 'stop PgBouncer', step: () => bouncer.stop() });
    log(`PgBouncer (transaction mode) on ${bouncer.port}`);

    options.signal?.throwIfAborted();
    const redisPrefix = `sms-topology-${randomBytes(4).toString('hex')}:`;
    const redis: RedisEndpoint = await provideRedis({
      dir: join(tempDir, 'redis'),
      prefix: redisPrefix,
      log,
      machineUrl: options.redisUrl,
    });
    undo.push({ what: 'clean up Redis', step: () => redis.stop() });
    log(`Redis ${redis.url}${redis.process ? ' (private)' : ''}, key prefix ${redisPrefix}`);

    options.signal?.throwIfAborted();
    const adminKey = randomBytes(32).toString('base64url');
    const env: Record<string, string> = {
      ...(minimalEnv() as Record<string, string>),
      TMPDIR: tmpdir(),
      NODE_ENV: 'production',
      HTTP_ADAPTER: options.adapter ?? 'fastify',
      DATABASE_URL: bouncer.url(DATABASE),
      // Sessions (LISTEN, advisory locks) cannot go through transaction pooling.
      DATABASE_SESSION_URL: cluster.primaryUrl(DATABASE),
      DATABASE_REPLICA_URLS: cluster.replicaUrl(DATABASE),
      // PgBouncer 1.18 in transaction mode cannot keep named prepared statements.
      DB_PREPARED_STATEMENTS: 'false',
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: redisPrefix,
      // nginx connects from 127.0.0.1, and only it is believed about the client.
      TRUST_PROXY: '127.0.0.1',
      ADMIN_API_KEY: adminKey,
      SECRETS_KEY: randomBytes(32).toString('base64'),
      SHUTDOWN_TIMEOUT_MS: '2000',
      ...options.env,
    };

    const ports: number[] = [];
    for (let index = 0; index < count; index++) ports.push(await freePort());
    const instances: AppInstance[] = [];
    undo.push({
      what: 'stop the app instances',
      step: async () => void (await Promise.all(instances.map((instance) => instance.kill()))),
    });
    // Side by side: each migrates over DATABASE_SESSION_URL under an advisory
    // lock, so the first applies the migrations and the others wait for it.
    options.signal?.throwIfAborted();
    await Promise.all(
      ports.map(async (port, index) => {
        const instance = await startAppInstance({
          index,
          port,
          dir: join(tempDir, `app-${index}`),
          env,
        });
        instances[index] = instance;
        log(`App instance ${index} ready on http://127.0.0.1:${port}`);
      }),
    );

    options.signal?.throwIfAborted();
    const nginx: Nginx = await startNginx({
      dir: join(tempDir, 'nginx'),
      upstreamPorts: ports,
      // Debian's own choice for nginx's workers; the master stays root.
      workerUser: root ? 'www-data' : undefined,
    });
    undo.push({ what: 'stop nginx', step: () => nginx.stop() });
    log(`nginx on ${nginx.url}`);

    let stopping: Promise<void> | undefined;
    return {
      baseUrl: nginx.url,
      instances,
      primaryUrl: cluster.primaryUrl(DATABASE),
      replicaUrl: cluster.replicaUrl(DATABASE),
      pgbouncerUrl: bouncer.url(DATABASE),
      redisUrl: redis.url,
      redisPrefix,
      adminKey,
      env,
      ports: {
        nginx: nginx.port,
        primary: cluster.primaryPort,
        replica: cluster.replicaPort,
        pgbouncer: bouncer.port,
      },
      tempDir,
      processes: () =>
        [cluster.primary, cluster.replica, bouncer.process, redis.process, nginx.process]
          .filter((server) => server !== undefined)
          .map((server) => ({
            name: server.name,
            pid: server.pid,
            running: server.isRunning(),
            logFile: server.logFile,
          })),
      stopReplica: () => cluster.stopReplica(),
      startReplica: () => cluster.startReplica(),
      stop: () => (stopping ??= teardown()),
    };
  } catch (error) {
    await teardown().catch((cleanup: unknown) => log(String(cleanup)));
    throw error;
  }
}
