// Child processes of the benchmark (the app, the baseline) and what is
// measured about them from the outside: RSS from /proc/<pid>/status, CPU
// time from /proc/<pid>/stat (and PostgreSQL's, and the machine's), sampled
// while a run is on.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The Node flags of `npm run start:prod` in the checkout at `root` (the young
 * generation and heap growth, see bench/README.md "Memory"): every app this
 * benchmark starts runs as production does.
 */
export async function startProdNodeFlags(root: string): Promise<string[]> {
  const { scripts } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  return (scripts['start:prod'] ?? '').split(/\s+/).filter((part) => part.startsWith('--'));
}

const READY_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 15_000;
const CLOCK_TICKS_PER_SECOND = 100;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunningProcess {
  name: string;
  pid: number;
  url: string;
  /** The tail of its output. */
  output(): string;
  /** Asks the process to stop with `signal`; SIGKILL after a while. */
  stop(signal?: NodeJS.Signals): Promise<ExitStatus>;
}

export interface StartOptions {
  name: string;
  /** Arguments to `node`. */
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  port: number;
  /** Polled until it answers (any status: the app may refuse a request without a key). */
  probePath: string;
  probeHeaders?: Record<string, string>;
}

/** Spawns `node ...args` and waits until it answers HTTP on `port`. */
export async function startNodeProcess(options: StartOptions): Promise<RunningProcess> {
  const child = spawn(process.execPath, options.args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Only the tail, kept cheaply: an app that logs every request must not cost
  // this process (the load generator) much.
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString()).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const output = (): string => tail.split('\n').filter(Boolean).slice(-30).join('\n  ');
  let exited: ExitStatus | undefined;
  const exit = new Promise<ExitStatus>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    }),
  );
  const url = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited) {
      throw new Error(
        `${options.name} exited during start-up (${JSON.stringify(exited)}):\n  ${output()}`,
      );
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(
        `${options.name} did not answer on ${url} within ${READY_TIMEOUT_MS / 1000} s:\n  ${output()}`,
      );
    }
    try {
      const response = await fetch(url + options.probePath, {
        headers: options.probeHeaders,
        signal: AbortSignal.timeout(2000),
      });
      await response.arrayBuffer();
      break;
    } catch {
      await sleep(200);
    }
  }
  if (child.pid === undefined) throw new Error(`${options.name} has no pid`);
  return {
    name: options.name,
    pid: child.pid,
    url,
    output,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (exited) return exited;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      const status = await exit;
      clearTimeout(timer);
      return status;
    },
  };
}

/** `/proc/<pid>/stat` fields after the command name (which is in parentheses and may hold spaces). */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Resident memory of a process now, in MB; null off Linux. */
export function rssMb(pid: number): number | null {
  const kb = readRssKb(pid);
  return kb === null ? null : Math.round(kb / 1024);
}

function readRssKb(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** User + system CPU seconds of a process so far; null off Linux. */
export function readCpuSeconds(pid: number): number | null {
  try {
    const fields = statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/**
 * The postmaster of the server a backend belongs to, when that server runs on
 * this machine: the backend's parent process.
 */
export function postmasterOf(backendPid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${backendPid}/stat`, 'utf8');
    const parent = Number(statFields(stat)[1]);
    const parentStat = readFileSync(`/proc/${parent}/stat`, 'utf8');
    return parentStat.includes('(postgres)') ? parent : null;
  } catch {
    return null;
  }
}

/**
 * CPU seconds of the PostgreSQL server whose postmaster is `postmasterPid`,
 * by process (postmaster, backends, WAL writer, checkpointer...). On a shared
 * server this includes other clients' work too.
 */
function readPostgresCpu(postmasterPid: number | null): Map<string, number> | null {
  if (postmasterPid === null) return null;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  const byPid = new Map<string, number>();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = statFields(stat);
      if (Number(entry) !== postmasterPid && Number(fields[1]) !== postmasterPid) continue;
      byPid.set(entry, (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND);
    } catch {
      // gone meanwhile
    }
  }
  return byPid;
}

/** PostgreSQL's CPU between two readings; processes started in between count whole. */
function postgresCpuBetween(
  start: Map<string, number> | null,
  end: Map<string, number> | null,
): number | null {
  if (!start || !end) return null;
  let seconds = 0;
  for (const [pid, cpu] of end) seconds += cpu - (start.get(pid) ?? 0);
  return seconds;
}

/** Busy and total jiffies of the whole machine. */
function readMachineCpu(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = values[3] + (values[4] ?? 0);
    const total = values.reduce((sum, value) => sum + value, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

export interface ProcessStats {
  rssMaxMb: number | null;
  rssAvgMb: number | null;
  machineBusyPct: number | null;
  generatorCpuPct: number;
  /**
   * CPU used by anything but the measured server, its PostgreSQL and the load
   * generator (other work on a shared machine), in % of the machine.
   */
  foreignCpuPct: number | null;
  /** CPU seconds during the run, by who spent them. */
  cpuSeconds: {
    server: number | null;
    postgres: number | null;
    generator: number;
    machine: number | null;
  };
}

/**
 * Samples a server process during a run: RSS every `intervalMs`; CPU at the
 * start and the end, of the process, of PostgreSQL, of this process (the
 * load generator) and of the whole machine.
 */
export function startSampler(
  pid: number,
  postmasterPid: number | null,
  intervalMs = 250,
): { stop(): ProcessStats } {
  const rss: number[] = [];
  const serverStart = readCpuSeconds(pid);
  const machineStart = readMachineCpu();
  const postgresStart = readPostgresCpu(postmasterPid);
  const selfStart = process.cpuUsage();
  const startedAt = process.hrtime.bigint();
  const sample = (): void => {
    const kb = readRssKb(pid);
    if (kb !== null) rss.push(kb);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
      const serverEnd = readCpuSeconds(pid);
      const machineEnd = readMachineCpu();
      const postgresEnd = readPostgresCpu(postmasterPid);
      const self = process.cpuUsage(selfStart);
      const generator = (self.user + self.system) / 1e6;
      const mb = (kb: number): number => Math.round(kb / 1024);
      const server = serverStart !== null && serverEnd !== null ? serverEnd - serverStart : null;
      const postgres = postgresCpuBetween(postgresStart, postgresEnd);
      const machine =
        machineStart && machineEnd
          ? (machineEnd.busy - machineStart.busy) / CLOCK_TICKS_PER_SECOND
          : null;
      const foreign =
        machine !== null && server !== null && postgres !== null
          ? Math.max(0, machine - server - postgres - generator)
          : null;
      return {
        rssMaxMb: rss.length ? mb(Math.max(...rss)) : null,
        rssAvgMb: rss.length ? mb(rss.reduce((sum, kb) => sum + kb, 0) / rss.length) : null,
        machineBusyPct:
          machineStart && machineEnd
            ? Math.round(
                (100 * (machineEnd.busy - machineStart.busy)) /
                  (machineEnd.total - machineStart.total),
              )
            : null,
        generatorCpuPct: Math.round((100 * generator) / seconds),
        foreignCpuPct:
          foreign === null ? null : Math.round((100 * foreign) / (seconds * cpus().length)),
        cpuSeconds: { server, postgres, generator, machine },
      };
    },
  };
}

/**
 * Waits (at most `maxSeconds`) until `pid` has used under 5% of a CPU for two
 * quarter-seconds in a row: requests a finished run left in flight (a bulk
 * import can take seconds) must not load the next run. Returns the seconds waited.
 */
export async function waitUntilIdle(pid: number, maxSeconds: number): Promise<number> {
  const started = Date.now();
  let quiet = 0;
  let last = readCpuSeconds(pid);
  while (last !== null && quiet < 2 && Date.now() - started < maxSeconds * 1000) {
    await sleep(250);
    const now = readCpuSeconds(pid);
    if (now === null) break;
    quiet = now - last < 0.0125 ? quiet + 1 : 0;
    last = now;
  }
  return (Date.now() - started) / 1000;
}

/**
 * Waits (at most `maxSeconds`) for a second in which the machine is less than
 * `busyBelowPct` busy, so that a run does not start in the middle of someone
 * else's burst of work. Returns the seconds waited and the last reading.
 */
export async function waitForQuietMachine(
  maxSeconds: number,
  busyBelowPct: number,
): Promise<{ waitedSeconds: number; busyPct: number | null }> {
  const started = Date.now();
  let busyPct: number | null = null;
  let before = readMachineCpu();
  while (before && Date.now() - started < maxSeconds * 1000) {
    await sleep(1000);
    const after = readMachineCpu();
    if (!after) break;
    busyPct = Math.round((100 * (after.busy - before.busy)) / (after.total - before.total));
    if (busyPct < busyBelowPct) break;
    before = after;
  }
  return { waitedSeconds: Math.round((Date.now() - started) / 100) / 10, busyPct };
}
