import { execFile, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { promisify } from 'node:util';
import type { RunAs } from './run-as.js';

const execFileAsync = promisify(execFile);
const TAIL_LINES = 200;

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LaunchOptions {
  /** Everything the process writes, stdout and stderr interleaved. */
  logFile: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Drop root for this user (PostgreSQL and PgBouncer refuse to run as root). */
  user?: RunAs;
}

/** A long-running child process of the topology. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves once the process has exited; never rejects. */
  readonly exited: Promise<ExitInfo>;
  /** A property, not a method: passed around unbound (waitFor's `alive`). */
  isRunning: () => boolean;
  /** Its latest output lines. */
  output: () => string[];
  /** Sends `signal`, then SIGKILLs its whole process group after `graceMs`; resolves on exit. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<ExitInfo>;
}

/** Every process started here and still running: killed when this process exits anyway. */
const running = new Set<ManagedProcess>();
let exitHookInstalled = false;

/**
 * Starts `command` in its own process group (`detached`), so that a Ctrl-C in
 * the terminal reaches only the topology script, which then stops everything
 * in order (nginx, apps, PgBouncer, replica, primary), rather than every
 * process at once. Its own process group also lets a stuck server be killed
 * together with its children (PostgreSQL backends, nginx workers).
 */
export function launch(
  name: string,
  command: string,
  args: string[],
  options: LaunchOptions,
): ManagedProcess {
  installExitHook();
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? minimalEnv(options.user),
    uid: options.user?.uid,
    gid: options.user?.gid,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  // The temp folder may be removed while the last lines are written.
  log.on('error', () => undefined);
  const tail: string[] = [];
  let partial = '';
  const collect = (chunk: Buffer): void => {
    // Always read: a full pipe would block the child's writes.
    log.write(chunk);
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    tail.push(...lines);
    if (tail.length > TAIL_LINES) tail.splice(0, tail.length - TAIL_LINES);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);

  let exitInfo: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('error', (error) => {
      tail.push(`[topology] could not start ${command}: ${error.message}`);
      exitInfo = { code: -1, signal: null };
      resolve(exitInfo);
    });
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
  });
  void exited.then(() => {
    running.delete(managed);
    if (partial) tail.push(partial);
    log.end();
  });

  const managed: ManagedProcess = {
    name,
    pid: child.pid ?? -1,
    logFile: options.logFile,
    exited,
    isRunning: () => exitInfo === undefined,
    output: () => [...tail],
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      if (exitInfo) return exitInfo;
      child.kill(signal);
      const timer = setTimeout(() => killGroup(managed.pid), graceMs);
      const info = await exited;
      clearTimeout(timer);
      // Children left behind by a leader that died (e.g. after SIGKILL).
      killGroup(managed.pid);
      return info;
    },
  };
  running.add(managed);
  return managed;
}

/** Runs a one-shot command to completion; throws with its output if it fails. */
export async function run(
  command: string,
  args: string[],
  options: { cwd?: string; user?: RunAs; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, {
      cwd: options.cwd,
      env: options.env ?? minimalEnv(options.user),
      uid: options.user?.uid,
      gid: options.user?.gid,
      maxBuffer: 16 * 1024 * 1024,
    });
    return `${stdout}${stderr}`;
  } catch (error) {
    const failure = error as Error & { stdout?: string; stderr?: string };
    throw new Error(
      `${command} ${args.join(' ')} failed: ${failure.message}\n${failure.stdout ?? ''}${failure.stderr ?? ''}`,
      { cause: error },
    );
  }
}

/** A clean environment: nothing of the caller's (DATABASE_URL, PGPORT...) leaks in. */
export function minimalEnv(user?: RunAs): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
    LC_ALL: 'C.UTF-8',
    HOME: user?.home ?? process.env.HOME ?? '/',
    ...(user ? { USER: user.name, LOGNAME: user.name } : {}),
  };
}

function killGroup(pid: number): void {
  if (pid <= 0) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/**
 * Last resort when the script ends without stop() (an uncaught error, or
 * process.exit): the detached children would otherwise outlive it. A SIGKILL
 * of the script itself cannot be caught; see README.md for the manual cleanup.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) killGroup(child.pid);
  });
}
