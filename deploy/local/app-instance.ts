import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { mainJs, productionNodeFlags } from './paths.js';
import { launch, type ManagedProcess } from './processes.js';

export interface AppInstance {
  /** 0-based, in nginx's upstream order. */
  readonly index: number;
  readonly port: number;
  /** http://127.0.0.1:<port>, bypassing nginx. */
  readonly url: string;
  /** The current process's pid (a new one after restart()). */
  readonly pid: number;
  readonly logFile: string;
  isRunning(): boolean;
  /** Its latest output lines (JSON logs). */
  output(): string[];
  /** Sends `signal` (SIGTERM: graceful drain; SIGKILL: a crash) and waits until it has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Stops it if it runs (gracefully), starts it again on the same port and waits until ready. */
  restart(): Promise<void>;
  /** Polls /api/health/ready until 200. */
  waitUntilReady(timeoutMs?: number): Promise<void>;
}

/**
 * One app instance from the built dist, as `npm start` runs it, on its own
 * loopback port, from its own empty folder (no .env file is picked up).
 */
export async function startAppInstance(options: {
  index: number;
  port: number;
  dir: string;
  /** The whole environment: nothing of the caller's leaks in. */
  env: Record<string, string>;
}): Promise<AppInstance> {
  const { index, port, dir } = options;
  await mkdir(dir, { recursive: true });
  const url = `http://127.0.0.1:${port}`;
  const logFile = join(dir, 'app.log');
  const env = {
    ...options.env,
    HOST: '127.0.0.1',
    PORT: String(port),
    DATA_DIR: join(dir, 'data'),
  };
  let current: ManagedProcess;
  const spawn = () =>
    launch(`app-${index}`, process.execPath, [...productionNodeFlags(), mainJs()], {
      cwd: dir,
      env,
      logFile,
    });

  const waitUntilReady = async (timeoutMs = 60_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer';
    while (Date.now() < deadline) {
      if (!current.isRunning()) break;
      try {
        const response = await fetch(`${url}/api/health/ready`, {
          signal: AbortSignal.timeout(2_000),
        });
        last = `${response.status} ${await response.text()}`;
        if (response.status === 200) return;
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(
      `app instance ${index} (${url}) ${current.isRunning() ? `not ready within ${timeoutMs} ms (${last})` : 'exited'}; its last output:\n${current.output().slice(-30).join('\n')}`,
    );
  };

  current = spawn();
  const instance: AppInstance = {
    index,
    port,
    url,
    get pid() {
      return current.pid;
    },
    logFile,
    isRunning: () => current.isRunning(),
    output: () => current.output(),
    async kill(signal = 'SIGTERM') {
      // Graceful stops take SHUTDOWN_TIMEOUT_MS; beyond 30 s something hangs.
      await current.stop(signal, 30_000);
    },
    async restart() {
      await current.stop('SIGTERM', 30_000);
      current = spawn();
      await waitUntilReady();
    },
    waitUntilReady,
  };
  try {
    await waitUntilReady();
  } catch (error) {
    await current.stop('SIGKILL');
    throw error;
  }
  return instance;
}
