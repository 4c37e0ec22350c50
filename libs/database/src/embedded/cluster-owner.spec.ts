import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterLayout } from './cluster-layout.js';
import { forgetOwner, readOwner, reclaimCluster, recordOwner } from './cluster-owner.js';

// No real server: a `sleep` run under the name postgres stands in for a postmaster.

let layout: ClusterLayout;
const fakes: ChildProcess[] = [];

beforeEach(async () => {
  const baseDir = await mkdtemp(join(tmpdir(), 'sms-pg-owner-'));
  layout = { baseDir, clusterDir: join(baseDir, 'postgres') };
  await mkdir(layout.clusterDir);
});

afterEach(async () => {
  for (const fake of fakes.splice(0)) fake.kill('SIGKILL');
  await rm(layout.baseDir, { recursive: true, force: true });
});

function spyLogger() {
  return { log: vi.fn(), warn: vi.fn<(msg: string) => void>(), error: vi.fn() };
}

/** A process the kernel calls `postgres`, since it is named after the path it ran. */
async function fakePostmaster(): Promise<ChildProcess> {
  const bin = join(layout.baseDir, 'bin');
  await mkdir(bin);
  await symlink('/bin/sleep', join(bin, 'postgres'));
  const fake = spawn(join(bin, 'postgres'), ['60'], { stdio: 'ignore' });
  fakes.push(fake);
  await new Promise((resolve) => fake.once('spawn', resolve));
  return fake;
}

async function writePidFile(pid: number): Promise<void> {
  await writeFile(join(layout.clusterDir, 'postmaster.pid'), `${pid}\n${layout.clusterDir}\n`);
}

async function writeOwner(owner: object): Promise<void> {
  await writeFile(join(layout.baseDir, 'postgres.owner'), JSON.stringify(owner));
}

/** The pid of a process that has come and gone. */
async function exitedProcessPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

function exitOf(child: ChildProcess): Promise<unknown> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', resolve));
}

describe('the owner record', () => {
  it('names this process and its postmaster, privately, until forgotten', async () => {
    await recordOwner(layout, 1234);
    expect((await stat(join(layout.baseDir, 'postgres.owner'))).mode & 0o777).toBe(0o600);
    expect(await readOwner(layout)).toMatchObject({ pid: process.pid, postmasterPid: 1234 });

    await forgetOwner(layout, 999); // a later server recorded since: not ours to forget
    expect(await readOwner(layout)).toBeDefined();
    await forgetOwner(layout, 1234);
    expect(await readOwner(layout)).toBeUndefined();
  });

  it('counts as absent when missing, malformed or incomplete', async () => {
    expect(await readOwner(layout)).toBeUndefined();
    await writeFile(join(layout.baseDir, 'postgres.owner'), '{"pid": 1');
    expect(await readOwner(layout)).toBeUndefined();
    await writeOwner({ pid: 1 });
    expect(await readOwner(layout)).toBeUndefined();
    await writeOwner({ pid: 1, postmasterPid: 2, startTime: 3, extra: true });
    expect(await readOwner(layout)).toEqual({ pid: 1, postmasterPid: 2 });
  });
});

describe('reclaimCluster', () => {
  it('does nothing to a cluster without postmaster.pid', async () => {
    const logger = spyLogger();
    await reclaimCluster(layout, logger);
    expect(logger.warn).not.toHaveBeenCalled();
  });

  it('removes a postmaster.pid whose process is gone', async () => {
    const logger = spyLogger();
    await writePidFile(await exitedProcessPid());
    await reclaimCluster(layout, logger);
    await expect(stat(join(layout.clusterDir, 'postmaster.pid'))).rejects.toThrow();
    expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining('stale postmaster.pid'));
  });

  it('removes a postmaster.pid whose pid now belongs to another program', async () => {
    await writePidFile(process.pid);
    await reclaimCluster(layout, spyLogger());
    await expect(stat(join(layout.clusterDir, 'postmaster.pid'))).rejects.toThrow();
  });

  describe.runIf(process.platform === 'linux')('with a live postgres', () => {
    it('refuses a cluster held by a postgres someone else started', async () => {
      const postmaster = await fakePostmaster();
      await writePidFile(postmaster.pid!);
      await expect(reclaimCluster(layout, spyLogger())).rejects.toThrow(
        `in use by a running postgres process (pid ${postmaster.pid})`,
      );
      expect(postmaster.exitCode).toBeNull();
    });

    it('refuses a cluster whose owner is alive', async () => {
      const postmaster = await fakePostmaster();
      await writePidFile(postmaster.pid!);
      await recordOwner(layout, postmaster.pid!);
      await expect(reclaimCluster(layout, spyLogger())).rejects.toThrow(
        `(pid ${postmaster.pid}, started by process ${process.pid})`,
      );
    });

    it('stops the server a killed owner left behind', async () => {
      const postmaster = await fakePostmaster();
      await writePidFile(postmaster.pid!);
      await writeOwner({ pid: await exitedProcessPid(), postmasterPid: postmaster.pid });
      const logger = spyLogger();
      await reclaimCluster(layout, logger);
      await exitOf(postmaster);
      expect(postmaster.signalCode).toBe('SIGINT');
      expect(logger.warn).toHaveBeenCalledWith(
        expect.stringContaining(`PostgreSQL (pid ${postmaster.pid}) outlived the process`),
      );
    });
  });
});
