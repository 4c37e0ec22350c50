import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The compiled app, as `npm start` runs it; `npm test` builds it first (pretest). */
export const MAIN_JS = fileURLToPath(
  new URL('../../../dist/apps/api/apps/api/src/main.js', import.meta.url),
);

const MAX_OUTPUT_LINES = 5_000;

export interface AppProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly baseUrl: string;
  /** `Bearer <ADMIN_API_KEY>` */
  readonly authorization: string;
  readonly env: Record<string, string>;
  /** Resolves once the process has exited; never rejects. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The latest lines the process wrote, stdout and stderr interleaved. */
  lines(): string[];
  /** Its JSON log records (lines that are not JSON are skipped). */
  records(): Array<Record<string, unknown>>;
  /** Polls /api/health/ready until 200. */
  waitUntilReady(timeoutMs?: number): Promise<void>;
  /** SIGKILL unless it has exited, then waits for it; for afterEach. */
  dispose(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A free port for a server this test stops and starts again on the same port.
 * Taken below Linux's ephemeral range (32768 and up), which the system hands
 * to `listen(0)` and to outgoing connections: in between, another test running
 * in parallel could otherwise be given the port.
 */
export async function stablePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const server = createServer();
    const free = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (free) {
      await new Promise((resolve) => server.close(resolve));
      return port;
    }
  }
  throw new Error('no free port found between 20000 and 32000');
}

/**
 * Runs the compiled app as a child process, in production mode, on loopback,
 * from an empty working directory (so no .env file or page build is picked
 * up). Its output is kept (bounded) for assertions and failure messages.
 */
export async function startAppProcess(
  overrides: Record<string, string> = {},
  options: { port?: number } = {},
): Promise<AppProcess> {
  if (!existsSync(MAIN_JS)) {
    throw new Error(`${MAIN_JS} is missing: run \`npm run build\` first (npm test does)`);
  }
  const port = options.port ?? (await freePort());
  const cwd = await mkdtemp(join(tmpdir(), 'sms-app-process-'));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    TMPDIR: tmpdir(),
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    ADMIN_API_KEY: randomBytes(24).toString('hex'),
    SECRETS_KEY: randomBytes(32).toString('base64'),
    // Load tests, not rate-limit tests.
    THROTTLE_LIMIT: '100000000',
    AUTH_FAILURE_LIMIT: '100000000',
    ...overrides,
  };
  const child = spawn(process.execPath, [MAIN_JS], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const collect = (stream: NodeJS.ReadableStream) => {
    let partial = '';
    // Always read: a full pipe would block the app's synchronous log writes.
    stream.on('data', (chunk: Buffer) => {
      const text = partial + String(chunk);
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      output.push(...lines);
      if (output.length > MAX_OUTPUT_LINES) output.splice(0, output.length - MAX_OUTPUT_LINES);
    });
    stream.on('end', () => partial && output.push(partial));
  };
  collect(child.stdout);
  collect(child.stderr);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  void exited.then(() => rm(cwd, { recursive: true, force: true }));

  const baseUrl = `http://127.0.0.1:${port}`;
  const app: AppProcess = {
    child,
    pid: child.pid!,
    baseUrl,
    authorization: `Bearer ${env.ADMIN_API_KEY}`,
    env,
    exited,
    lines: () => [...output],
    records: () =>
      output.flatMap((line) => {
        try {
          const record: unknown = JSON.parse(line);
          return isRecord(record) ? [record] : [];
        } catch {
          return [];
        }
      }),
    async waitUntilReady(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      let gone = false;
      void exited.then(() => (gone = true));
      while (Date.now() < deadline && !gone) {
        try {
          const response = await fetch(`${baseUrl}/api/health/ready`, {
            signal: AbortSignal.timeout(2_000),
          });
          await response.arrayBuffer();
          if (response.status === 200) return;
        } catch {
          // Not listening yet.
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(
        `The app ${gone ? 'exited' : `was not ready within ${timeoutMs} ms`}; its last output:\n${output.slice(-40).join('\n')}`,
      );
    },
    async dispose() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  return app;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
