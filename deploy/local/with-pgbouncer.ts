import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBinaries } from './binaries.js';
import { startPgBouncer } from './pgbouncer.js';
import { serverUser } from './run-as.js';

/**
 * Runs a command with PgBouncer (transaction mode) in front of a PostgreSQL
 * server, its URL in TEST_PGBOUNCER_URL: CI runs the e2e suite this way
 * (test/setup/pooler.ts), so that every statement the app sends is shown to
 * work through a transaction-mode pooler.
 *
 *   node dist/deploy/local/with-pgbouncer.js --server-port 5432 -- npm run test:e2e
 */
async function main(): Promise<number> {
  const separator = process.argv.indexOf('--');
  const flags = process.argv.slice(2, separator === -1 ? undefined : separator);
  const command = separator === -1 ? [] : process.argv.slice(separator + 1);
  const portFlag = flags.indexOf('--server-port');
  const serverPort = Number(portFlag === -1 ? 5432 : flags[portFlag + 1]);
  if (command.length === 0 || !Number.isInteger(serverPort)) {
    console.error('usage: with-pgbouncer [--server-port 5432] -- <command> [args...]');
    return 2;
  }
  await ensureBinaries(['pgbouncer'], console.log);
  const dir = await mkdtemp(join(tmpdir(), 'sms-pgbouncer-'));
  // PgBouncer runs as `postgres` when we are root: it must reach its folder inside.
  await chmod(dir, 0o711);
  const bouncer = await startPgBouncer({
    dir: join(dir, 'pgbouncer'),
    user: serverUser(),
    serverPort,
  });
  console.log(
    `PgBouncer (transaction mode) on 127.0.0.1:${bouncer.port} -> 127.0.0.1:${serverPort}`,
  );
  try {
    const child = spawn(command[0], command.slice(1), {
      stdio: 'inherit',
      env: { ...process.env, TEST_PGBOUNCER_URL: `postgres://postgres@127.0.0.1:${bouncer.port}` },
    });
    return await new Promise<number>((resolve) => {
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
      child.on('error', (error) => {
        console.error(error.message);
        resolve(1);
      });
    });
  } finally {
    await bouncer.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
