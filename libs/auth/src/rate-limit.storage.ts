import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { Redis } from 'ioredis';
import { FixedWindowThrottlerStorage } from './fixed-window.storage.js';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** Between two warnings about an unreachable Redis. */
const WARNING_INTERVAL_MS = 30_000;

export interface RateLimitStorageSettings {
  /** Unset: counters live in this process only. */
  redisUrl?: string;
  /** Prefixed to every Redis key, so deployments (or test runs) can share one Redis. */
  redisKeyPrefix: string;
}

/**
 * The throttler's counters: in memory, or in Redis when REDIS_URL is set so
 * that every instance counts against one limit. When Redis fails, requests go
 * through unlimited (and a warning is logged) rather than the whole API
 * failing with it: the limits protect capacity and slow down guessing, which
 * 256-bit keys make hopeless anyway.
 */
export class RateLimitStorage implements ThrottlerStorage, OnApplicationShutdown {
  private readonly logger = new Logger('RateLimit');
  private readonly backend: ThrottlerStorage;
  private readonly redis?: Redis;
  private lastWarning = 0;

  constructor(settings: RateLimitStorageSettings) {
    if (!settings.redisUrl) {
      this.backend = new FixedWindowThrottlerStorage();
      return;
    }
    this.redis = new Redis(settings.redisUrl, {
      keyPrefix: settings.redisKeyPrefix,
      // Fail fast: a request waits at most this long for its counter.
      commandTimeout: 1_000,
      maxRetriesPerRequest: 1,
    });
    this.redis.on('error', (error: Error) => this.warn(`Redis: ${error.message}`));
    this.backend = new ThrottlerStorageRedisService(this.redis);
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    try {
      return await this.backend.increment(key, ttl, limit, blockDuration, throttlerName);
    } catch (error) {
      this.warn(`Rate limit not applied, the counter store failed: ${(error as Error).message}`);
      return { totalHits: 0, timeToExpire: 0, isBlocked: false, timeToBlockExpire: 0 };
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.backend instanceof FixedWindowThrottlerStorage) this.backend.stop();
    await this.redis?.quit().catch(() => this.redis?.disconnect());
  }

  private warn(message: string): void {
    const now = Date.now();
    if (now - this.lastWarning < WARNING_INTERVAL_MS) return;
    this.lastWarning = now;
    this.logger.warn(message);
  }
}
