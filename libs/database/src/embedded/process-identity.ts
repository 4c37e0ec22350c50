import { readFile } from 'node:fs/promises';
import { platform } from 'node:os';
import { errorCode } from './common.js';

// Which process is which, from /proc/<pid>/stat: pids get reused (small pid namespaces in
// containers), so a pid alone does not say whether a process is still the one we knew.

/** A process, told apart from a later one that got the same pid by its start time. */
export interface ProcessIdentity {
  pid: number;
  /** Clock ticks after boot (/proc/<pid>/stat field 22); absent where there is no /proc. */
  startTime?: string;
}

export interface ProcStat {
  /** The executable's name, at most 15 characters. */
  comm: string;
  /** R, S, D, Z (zombie), X (dead)... */
  state: string;
  startTime: string | undefined;
}

/** Format: "pid (comm) state ...", where comm may itself contain spaces or parentheses. */
export function parseProcStat(stat: string): ProcStat {
  const commEnd = stat.lastIndexOf(')');
  // Fields after "pid (comm)" start at field 3 (state); starttime is field 22.
  const fields = stat.slice(commEnd + 2).split(' ');
  return {
    comm: stat.slice(stat.indexOf('(') + 1, commEnd),
    state: stat.slice(commEnd + 2, commEnd + 3),
    startTime: fields.length > 22 - 3 ? fields[22 - 3] : undefined,
  };
}

async function readProcStat(pid: number): Promise<ProcStat> {
  return parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
}

export async function identify(pid: number): Promise<ProcessIdentity> {
  const startTime = await processStartTime(pid);
  return startTime === undefined ? { pid } : { pid, startTime };
}

async function processStartTime(pid: number): Promise<string | undefined> {
  if (platform() !== 'linux') return undefined;
  try {
    return (await readProcStat(pid)).startTime;
  } catch {
    return undefined;
  }
}

export async function isRunning(identity: ProcessIdentity): Promise<boolean> {
  try {
    process.kill(identity.pid, 0);
  } catch (cause) {
    if (errorCode(cause) !== 'EPERM') return false;
  }
  // Same pid, other start time: the pid was reused, the owner is gone.
  if (identity.startTime === undefined) return true;
  return (await processStartTime(identity.pid)) === identity.startTime;
}

export async function isLivePostgres(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (cause) {
    // EPERM: it exists but belongs to another user, e.g. postgres when we are not root.
    if (errorCode(cause) !== 'EPERM') return false;
  }
  if (platform() !== 'linux') return true; // no /proc: assume the worst
  try {
    const { comm, state } = await readProcStat(pid);
    return comm === 'postgres' && state !== 'Z' && state !== 'X';
  } catch {
    return false; // exited in the meantime
  }
}
