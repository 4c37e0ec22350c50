import { replayOverlapMicros, SeenChanges } from './live.service.js';

describe('SeenChanges', () => {
  it('lets through a message once per newer position', () => {
    const seen = new SeenChanges(10);
    expect(seen.isNew('a', 10n)).toBe(true);
    expect(seen.isNew('a', 10n)).toBe(false);
    expect(seen.isNew('a', 9n)).toBe(false);
    expect(seen.isNew('a', 11n)).toBe(true);
    expect(seen.isNew('b', 1n)).toBe(true);
  });

  it('forgets the least recently changed messages past its limit', () => {
    const seen = new SeenChanges(2);
    seen.isNew('a', 1n);
    seen.isNew('b', 1n);
    seen.isNew('a', 2n);
    seen.isNew('c', 1n);
    expect(seen.isNew('a', 2n)).toBe(false);
    expect(seen.isNew('b', 1n)).toBe(true);
  });
});

it('replays from two statement timeouts plus 5 s before the Last-Event-ID', () => {
  expect(replayOverlapMicros(10_000)).toBe(25_000_000n);
});
