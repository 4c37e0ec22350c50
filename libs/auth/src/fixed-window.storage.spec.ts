import { FixedWindowThrottlerStorage } from './fixed-window.storage.js';

describe('FixedWindowThrottlerStorage', () => {
  let now: number;
  let storage: FixedWindowThrottlerStorage;

  beforeEach(() => {
    now = 1_000_000;
    storage = new FixedWindowThrottlerStorage(() => now);
  });
  afterEach(() => storage.stop());

  const hit = (key = 'k') => storage.increment(key, 10_000, 3, 5_000, 'default');

  it('counts hits within a window and blocks past the limit', async () => {
    expect(await hit()).toMatchObject({ totalHits: 1, isBlocked: false, timeToExpire: 10 });
    await hit();
    expect(await hit()).toMatchObject({ totalHits: 3, isBlocked: false });
    expect(await hit()).toMatchObject({ totalHits: 4, isBlocked: true, timeToBlockExpire: 5 });
  });

  it('starts a new window once the old one has expired', async () => {
    for (let i = 0; i < 4; i += 1) await hit();
    now += 10_000;
    expect(await hit()).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('keeps a block for its whole duration even past the window', async () => {
    storage = new FixedWindowThrottlerStorage(() => now);
    const longBlock = () => storage.increment('k', 1_000, 1, 30_000, 'default');
    await longBlock();
    expect(await longBlock()).toMatchObject({ isBlocked: true });
    now += 5_000;
    expect(await longBlock()).toMatchObject({ isBlocked: true, timeToBlockExpire: 25 });
    now += 25_000;
    expect(await longBlock()).toMatchObject({ isBlocked: false, totalHits: 1 });
  });

  it('keeps keys and throttlers apart', async () => {
    for (let i = 0; i < 4; i += 1) await hit('a');
    expect(await hit('b')).toMatchObject({ totalHits: 1, isBlocked: false });
    expect(await storage.increment('a', 10_000, 3, 5_000, 'other')).toMatchObject({ totalHits: 1 });
  });
});
