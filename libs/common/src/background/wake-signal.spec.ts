import { WakeSignal } from './wake-signal.js';

describe('WakeSignal', () => {
  it('waits the time when nothing kicks it', async () => {
    const signal = new WakeSignal();
    const started = performance.now();
    await signal.pause(60);
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
  });

  it('ends a pause early on a kick', async () => {
    const signal = new WakeSignal();
    const started = performance.now();
    setTimeout(() => signal.kick(), 10);
    await signal.pause(5_000);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('keeps a kick that came before the pause, once', async () => {
    const signal = new WakeSignal();
    signal.kick();
    const started = performance.now();
    await signal.pause(5_000);
    expect(performance.now() - started).toBeLessThan(50);
    const second = performance.now();
    await signal.pause(60);
    expect(performance.now() - second).toBeGreaterThanOrEqual(55);
  });
});
