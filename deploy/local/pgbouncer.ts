import { chown, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BINARIES } from './binaries.js';
import { withClient, waitFor } from './pg-client.js';
import { freePort } from './ports.js';
import { launch, type ManagedProcess } from './processes.js';
import type { RunAs } from './run-as.js';

export interface PgBouncer {
  readonly port: number;
  /** `database` through the pooler, as the superuser. */
  url(database: string): string;
  readonly process: ManagedProcess;
  stop(): Promise<void>;
}

export interface PgBouncerOptions {
  dir: string;
  user: RunAs | undefined;
  /** The primary, which every database name is forwarded to. */
  serverPort: number;
  /** Server connections per database and user: the app instances' pools share these. */
  poolSize?: number;
}

/**
 * PgBouncer 1.18 (Debian's) in transaction mode in front of the primary. A
 * server connection belongs to a client for one transaction only, which is
 * why the app needs DB_PREPARED_STATEMENTS=false (1.18 cannot track named
 * prepared statements; 1.21+ can) and DATABASE_SESSION_URL for anything that
 * holds a session (LISTEN, advisory locks).
 */
export async function startPgBouncer(options: PgBouncerOptions): Promise<PgBouncer> {
  const { dir, user } = options;
  await mkdir(dir, { recursive: true });
  if (user) await chown(dir, user.uid, user.gid);
  const port = await freePort();
  const authFile = join(dir, 'userlist.txt');
  const config = join(dir, 'pgbouncer.ini');
  // trust still requires the user to be listed; the password is not checked.
  await writeFile(authFile, '"postgres" ""\n');
  await writeFile(
    config,
    `;; deploy/local (npm run topology)
[databases]
;; Any database name goes to the primary under the same name.
* = host=127.0.0.1 port=${options.serverPort}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
;; TCP only: no socket in /tmp.
unix_socket_dir =
pidfile = ${join(dir, 'pgbouncer.pid')}
;; Loopback only, like the servers behind it (pg_hba trust).
auth_type = trust
auth_file = ${authFile}
;; SHOW POOLS / SHOW STATS on the "pgbouncer" console database, for tests.
admin_users = postgres
stats_users = postgres
pool_mode = transaction
default_pool_size = ${options.poolSize ?? 20}
max_client_conn = 1000
;; node-postgres sends statement_timeout as a startup parameter, which 1.18
;; refuses unless ignored; the bound is kept by ALTER DATABASE ... SET
;; statement_timeout instead (postgres-cluster.ts).
ignore_startup_parameters = extra_float_digits,statement_timeout
;; Logs go to stderr, which the topology writes to pgbouncer.log.
logfile =
syslog = 0
`,
  );
  if (user) {
    await chown(authFile, user.uid, user.gid);
    await chown(config, user.uid, user.gid);
  }
  const bouncer = launch('pgbouncer', BINARIES.pgbouncer, [config], {
    user,
    cwd: dir,
    logFile: join(dir, 'pgbouncer.log'),
  });
  const url = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  try {
    await waitFor(
      `PgBouncer on port ${port}`,
      () => withClient(url('postgres'), async (client) => Boolean(await client.query('SELECT 1'))),
      { alive: bouncer.isRunning, output: bouncer.output },
    );
  } catch (error) {
    await bouncer.stop('SIGKILL');
    throw error;
  }
  return {
    port,
    url,
    process: bouncer,
    // SIGTERM: immediate shutdown; the apps in front are already gone.
    stop: async () => void (await bouncer.stop('SIGTERM', 5_000)),
  };
}
