import { appendFile, chown, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BINARIES } from './binaries.js';
import { withClient, waitFor } from './pg-client.js';
import { freePort } from './ports.js';
import { launch, type ManagedProcess, run } from './processes.js';
import type { RunAs } from './run-as.js';

const SUPERUSER = 'postgres';
const REPLICA_NAME = 'topology_replica';
/** Fast shutdown: active sessions are disconnected, no wait for clients. */
const STOP_SIGNAL = 'SIGINT';

/** Settings of both servers (the replica's postgresql.conf is a copy of the primary's). */
const SETTINGS = `
# --- deploy/local (npm run topology) ---
listen_addresses = '127.0.0.1'
# TCP only: no socket in /var/run/postgresql next to the machine's own cluster.
unix_socket_directories = ''
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
# Long reads on the replica are not cancelled by the primary's vacuum.
hot_standby_feedback = on
max_connections = 200
shared_buffers = '128MB'
log_line_prefix = '%m [%p] %q%a '
`;

/** Loopback-only, so trust: no passwords to generate, pass around and leak. */
const PG_HBA = `# deploy/local (npm run topology): loopback only.
local all         all                 trust
host  all         all   127.0.0.1/32  trust
host  replication all   127.0.0.1/32  trust
`;

export interface PostgresCluster {
  readonly primaryPort: number;
  readonly replicaPort: number;
  /** A database on the primary, as the superuser. */
  primaryUrl(database?: string): string;
  replicaUrl(database?: string): string;
  readonly primary: ManagedProcess;
  readonly replica: ManagedProcess | undefined;
  /** Stops the replica (fast shutdown); its slot keeps the WAL it will need. */
  stopReplica(): Promise<void>;
  /** Starts it again on its port and waits until it streams again. */
  startReplica(): Promise<void>;
  stop(): Promise<void>;
}

export interface PostgresClusterOptions {
  /** An empty folder for both data directories and their logs. */
  dir: string;
  user: RunAs | undefined;
  /** Created on the primary, and so on the replica. */
  database: string;
  /**
   * Set on the database: PgBouncer drops the app's statement_timeout startup
   * parameter (ignore_startup_parameters), so the bound is kept here instead.
   */
  statementTimeout: string;
}

/** A PostgreSQL 15 primary and one streaming replica made from it with `pg_basebackup -R`. */
export async function startPostgresCluster(
  options: PostgresClusterOptions,
): Promise<PostgresCluster> {
  const { dir, user } = options;
  await mkdir(dir, { recursive: true });
  if (user) await chown(dir, user.uid, user.gid);
  const primaryDir = join(dir, 'primary');
  const replicaDir = join(dir, 'replica');
  const [primaryPort, replicaPort] = [await freePort(), await freePort()];
  const url = (port: number, database = options.database) =>
    `postgres://${SUPERUSER}@127.0.0.1:${port}/${database}`;

  await run(
    `${BINARIES.pgBin}/initdb`,
    ['-D', primaryDir, '-U', SUPERUSER, '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
    { user, cwd: dir },
  );
  await appendFile(join(primaryDir, 'postgresql.conf'), SETTINGS);
  await writeFile(join(primaryDir, 'pg_hba.conf'), PG_HBA);

  const start = async (name: string, dataDir: string, port: number): Promise<ManagedProcess> => {
    const server = launch(
      name,
      `${BINARIES.pgBin}/postgres`,
      // cluster_name names the processes in `ps`, and is the replica's application_name.
      ['-D', dataDir, '-c', `port=${port}`, '-c', `cluster_name=${name}`],
      { user, cwd: dir, logFile: join(dir, `${name}.log`) },
    );
    await waitFor(
      `PostgreSQL ${name} on port ${port}`,
      () =>
        withClient(url(port, 'postgres'), async (client) =>
          Boolean(await client.query('SELECT 1')),
        ),
      { alive: server.isRunning, output: server.output },
    );
    return server;
  };

  const primary = await start('topology_primary', primaryDir, primaryPort);
  let replica: ManagedProcess | undefined;
  try {
    await withClient(url(primaryPort, 'postgres'), async (client) => {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(options.database)}`);
      await client.query(
        `ALTER DATABASE ${client.escapeIdentifier(options.database)} SET statement_timeout = ${client.escapeLiteral(options.statementTimeout)}`,
      );
    });
    await run(
      `${BINARIES.pgBin}/pg_basebackup`,
      [
        ...['-h', '127.0.0.1', '-p', String(primaryPort), '-U', SUPERUSER],
        ...['-D', replicaDir, '-X', 'stream', '--checkpoint=fast', '--no-sync'],
        // -R: standby.signal and primary_conninfo; -C -S: a slot, so the primary
        // keeps the WAL a stopped replica needs to catch up (stopReplica()).
        ...['-R', '-C', '-S', REPLICA_NAME],
      ],
      { user, cwd: dir },
    );
  } catch (error) {
    await primary.stop(STOP_SIGNAL);
    throw error;
  }

  const waitStreaming = () =>
    waitFor('the replica to stream from the primary', () =>
      withClient(url(primaryPort, 'postgres'), async (client) => {
        const { rows } = await client.query<{ state: string }>(
          'SELECT state FROM pg_stat_replication WHERE application_name = $1',
          [REPLICA_NAME],
        );
        return rows[0]?.state === 'streaming';
      }),
    );

  const cluster: PostgresCluster = {
    primaryPort,
    replicaPort,
    primaryUrl: (database) => url(primaryPort, database),
    replicaUrl: (database) => url(replicaPort, database),
    primary,
    get replica() {
      return replica;
    },
    async stopReplica() {
      await replica?.stop(STOP_SIGNAL, 15_000);
    },
    async startReplica() {
      if (replica?.isRunning()) return;
      replica = await start(REPLICA_NAME, replicaDir, replicaPort);
      await waitStreaming();
    },
    async stop() {
      // The replica first: a primary's shutdown waits for its WAL senders.
      await replica?.stop(STOP_SIGNAL, 15_000);
      await primary.stop(STOP_SIGNAL, 15_000);
    },
  };
  try {
    await cluster.startReplica();
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}
