import { spawn } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { identify, isLivePostgres, isRunning, parseProcStat } from './process-identity.js';

/** A /proc/<pid>/stat line as Linux writes it, with 52 fields. */
function procStatLine(fields: { pid?: number; comm: string; state?: string; startTime?: string }) {
  const rest = Array.from({ length: 49 }, (_, i) => String(i + 4));
  rest[22 - 4] = fields.startTime ?? '123456';
  return `${fields.pid ?? 42} (${fields.comm}) ${fields.state ?? 'S'} ${rest.join(' ')}\n`;
}

/** The pid of a process that has come and gone. */
async function exitedProcessPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('parseProcStat', () => {
  it('reads the name, state and start time', () => {
    expect(parseProcStat(procStatLine({ comm: 'postgres', startTime: '987' }))).toEqual({
      comm: 'postgres',
      state: 'S',
      startTime: '987',
    });
  });

  it('copes with spaces and parentheses in the name', () => {
    const parsed = parseProcStat(procStatLine({ comm: 'a (b) c)', state: 'Z', startTime: '5' }));
    expect(parsed).toEqual({ comm: 'a (b) c)', state: 'Z', startTime: '5' });
  });

  it('has no start time when the line is cut short', () => {
    expect(parseProcStat('42 (postgres) R 1 2').startTime).toBeUndefined();
  });
});

describe.runIf(process.platform === 'linux')('processes on this machine', () => {
  it('knows this process, until its pid is taken by a later one', async () => {
    const me = await identify(process.pid);
    expect(me.startTime).toMatch(/^\d+$/);
    expect(await isRunning(me)).toBe(true);
    expect(await isRunning({ pid: process.pid, startTime: '1' })).toBe(false);
  });

  it('sees a process that has exited as not running', async () => {
    const gone = await exitedProcessPid();
    expect(await isRunning({ pid: gone })).toBe(false);
    expect(await isLivePostgres(gone)).toBe(false);
  });

  it('tells a postgres process from another one', async () => {
    // `sleep` under the name postgres: the kernel names a process after the path it ran.
    const dir = await mkdtemp(join(tmpdir(), 'sms-pg-proc-'));
    await symlink('/bin/sleep', join(dir, 'postgres'));
    const fake = spawn(join(dir, 'postgres'), ['60'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => fake.once('spawn', resolve));
      expect(await isLivePostgres(fake.pid!)).toBe(true);
      expect(await isLivePostgres(process.pid)).toBe(false);
    } finally {
      fake.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
