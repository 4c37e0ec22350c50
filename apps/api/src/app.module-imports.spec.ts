import { createRequire } from 'node:module';

/**
 * Libraries that only some configurations use, and what they cost a process
 * that never does (RSS, measured by requiring each in a bare Node 20): the
 * app loads them on first use, so none may be reachable from its static imports.
 */
const LOADED_ON_FIRST_USE = {
  // ~27 MB: a Twilio connection's first send (SenderPool).
  'the Twilio SDK': /[\\/]node_modules[\\/]twilio[\\/]lib[\\/]index\.js$/,
  // ~5 MB: an SMPP connection's first send or bind (SenderPool).
  'the SMPP library': /[\\/]node_modules[\\/]smpp[\\/]lib[\\/]smpp\.js$/,
  // ~18 MB with its throttler storage: REDIS_URL (RateLimitStorage.create, RedisHealth).
  ioredis: /[\\/]node_modules[\\/]ioredis[\\/]built[\\/]index\.js$/,
  'the Redis throttler storage':
    /[\\/]node_modules[\\/]@nest-lab[\\/]throttler-storage-redis[\\/]src[\\/]index\.js$/,
};

describe('The app module', () => {
  it('imports none of the libraries it loads on first use', async () => {
    await import('./app.module.js');
    // CommonJS packages land in Node's module cache, ESM or not the importer.
    const cached = Object.keys(createRequire(import.meta.url).cache);
    // The test can tell: the app's own CommonJS dependencies are there.
    expect(
      cached.some((path) => /[\\/]node_modules[\\/]pg[\\/]lib[\\/]index\.js$/.test(path)),
    ).toBe(true);
    const loaded = Object.entries(LOADED_ON_FIRST_USE)
      .filter(([, entry]) => cached.some((path) => entry.test(path)))
      .map(([name]) => name);
    expect(loaded).toEqual([]);
  });
});
