import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { Redis } from 'ioredis';
import { type MaybePromise } from '@app/common';
import {
  FixedWindowThrottlerStorage,
  type ThrottlerStorageRecord,
} from './fixed-window.storage.js';

/** Between two warnings about an unreachable Redis. */
const WARNING_INTERVAL_MS = 30_000;

export interface RateLimitStorageSettings {
  /** Unset: counters live in this process only. */
  redisUrl?: string;
  /** Prefixed to every Redis key, so deployments (or test runs) can share one Redis. */
  redisKeyPrefix: string;
}

/** The Redis connection of REDIS_URL and the throttler's storage over it. */
interface SharedCounters {
  redis: Redis;
  storage: ThrottlerStorage;
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
  private readonly memory?: FixedWindowThrottlerStorage;
  private readonly shared?: ThrottlerStorage;
  private readonly redis?: Redis;
  private lastWarning = 0;

  /** The storage `settings` ask for; connects to Redis when REDIS_URL is set. */
  static async create(settings: RateLimitStorageSettings): Promise<RateLimitStorage> {
    if (!settings.redisUrl) return new RateLimitStorage();
    // Loaded only with REDIS_URL: ioredis and its throttler storage are ~18 MB
    // of RSS (measured in a bare Node 20) that a single instance never uses.
    const [{ Redis }, { ThrottlerStorageRedisService }] = await Promise.all([
      import('ioredis'),
      import('@nest-lab/throttler-storage-redis'),
    ]);
    const redis = new Redis(settings.redisUrl, {
      keyPrefix: settings.redisKeyPrefix,
      // Fail fast: a request waits at most this long for its counter.
      commandTimeout: 1_000,
      maxRetriesPerRequest: 1,
    });
    return new RateLimitStorage({ redis, storage: new ThrottlerStorageRedisService(redis) });
  }

  /** In-memory counters without `shared`; `create` makes the shared kind. */
  constructor(shared?: SharedCounters) {
    if (!shared) {
      this.memory = new FixedWindowThrottlerStorage();
      return;
    }
    this.redis = shared.redis;
    this.redis.on('error', (error: Error) => this.warn(`Redis: ${error.message}`));
    this.shared = shared.storage;
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    return this.hit(key, ttl, limit, blockDuration, throttlerName);
  }

  /** Counts one hit: at once in memory, after a round trip with Redis. */
  hit(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): MaybePromise<ThrottlerStorageRecord> {
    if (this.memory) return this.memory.hit(key, ttl, limit, blockDuration, throttlerName);
    return this.sharedHit(key, ttl, limit, blockDuration, throttlerName);
  }

  private async sharedHit(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    try {
      return await this.shared!.increment(key, ttl, limit, blockDuration, throttlerName);
    } catch (error) {
      this.warn(`Rate limit not applied, the counter store failed: ${(error as Error).message}`);
      return { totalHits: 0, timeToExpire: 0, isBlocked: false, timeToBlockExpire: 0 };
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.memory?.stop();
    await this.redis?.quit().catch(() => this.redis?.disconnect());
  }

  private warn(message: string): void {
    const now = Date.now();
    if (now - this.lastWarning < WARNING_INTERVAL_MS) return;
    this.lastWarning = now;
    this.logger.warn(message);
  }
}
