import { Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { AuthFailureLimiter } from './auth-failure-limiter.js';
import type { authConfig } from './auth.config.js';
import { RateLimitStorage } from './rate-limit.storage.js';

describe('AuthFailureLimiter', () => {
  const config = { authFailureLimit: 3, throttleTtlMs: 60_000 } as ConfigType<typeof authConfig>;
  const limiterWith = (storage: RateLimitStorage) => new AuthFailureLimiter(storage, config);

  it('blocks an address after the configured number of failures, for the window', async () => {
    const limiter = limiterWith(new RateLimitStorage());
    expect(await limiter.blockedFor('10.0.0.1')).toBe(0);
    for (let failure = 1; failure <= 3; failure += 1) {
      expect(await limiter.recordFailure('10.0.0.1')).toBe(0);
    }
    const seconds = await limiter.recordFailure('10.0.0.1');
    expect(seconds).toBeGreaterThan(55);
    expect(seconds).toBeLessThanOrEqual(60);
    expect(await limiter.blockedFor('10.0.0.1')).toBe(seconds);
    expect(await limiter.blockedFor('10.0.0.2')).toBe(0);
  });

  it('logs a block once, not once per refused try', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const limiter = limiterWith(new RateLimitStorage());
    for (let failure = 0; failure < 10; failure += 1) await limiter.recordFailure('10.0.0.9');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/^10\.0\.0\.9 failed to authenticate too often/);
    warn.mockRestore();
  });

  it('looking does not count as failing', async () => {
    const limiter = limiterWith(new RateLimitStorage());
    for (let look = 0; look < 100; look += 1) await limiter.blockedFor('10.0.0.1');
    expect(await limiter.recordFailure('10.0.0.1')).toBe(0);
  });
});

describe('RateLimitStorage', () => {
  it('lets requests through, with a warning, when Redis is unreachable', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    // Port 1 on loopback: nothing listens there.
    const storage = await RateLimitStorage.create({
      redisUrl: 'redis://127.0.0.1:1',
      redisKeyPrefix: 'test:',
    });
    try {
      const record = await storage.increment('k', 1_000, 1, 1_000, 'default');
      expect(record.isBlocked).toBe(false);
      // The refused connection warns first; the failed counter's warning is held back.
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0][0]).toMatch(/^Redis: connect ECONNREFUSED 127\.0\.0\.1:1/);
    } finally {
      await storage.onApplicationShutdown();
      warn.mockRestore();
    }
  });
});
