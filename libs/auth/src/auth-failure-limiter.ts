import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { andThen, type MaybePromise } from '@app/common';
import { authConfig } from './auth.config.js';
import { RateLimitStorage } from './rate-limit.storage.js';

/**
 * A block marker is only ever read (limit: infinite) or set (limit: 0); its
 * hit counter is irrelevant, so its hits expire at once and never pile up.
 */
const MARKER_TTL_MS = 1;

/**
 * Counts failed authentications per client address and blocks the address
 * once it has failed AUTH_FAILURE_LIMIT times within THROTTLE_TTL_MS, for that
 * long. A blocked address is refused before its key is judged, so it cannot
 * keep guessing and tell a hit from a miss. Built on the throttler's storage,
 * so the counts are shared through Redis like the per-key limits.
 */
@Injectable()
export class AuthFailureLimiter {
  private readonly logger = new Logger('Auth');
  private readonly limit: number;
  private readonly windowMs: number;
  /** Blocks this instance has logged, so a guessing client causes one warning, not one per try. */
  private readonly reported = new Map<string, number>();

  constructor(
    private readonly storage: RateLimitStorage,
    @Inject(authConfig.KEY) config: ConfigType<typeof authConfig>,
  ) {
    this.limit = config.authFailureLimit;
    this.windowMs = config.throttleTtlMs;
  }

  /** Seconds until `client` may authenticate again; 0 when it is not blocked. */
  blockedFor(client: string): MaybePromise<number> {
    const marker = this.storage.hit(
      `auth-block:${client}`,
      MARKER_TTL_MS,
      Number.MAX_SAFE_INTEGER,
      this.windowMs,
      'auth-block',
    );
    return andThen(marker, ({ isBlocked, timeToBlockExpire }) =>
      isBlocked ? Math.max(1, timeToBlockExpire) : 0,
    );
  }

  /** Counts one failure; the seconds `client` is now blocked for, or 0. */
  async recordFailure(client: string): Promise<number> {
    const failures = await this.storage.hit(
      `auth-failures:${client}`,
      this.windowMs,
      this.limit,
      this.windowMs,
      'auth-failures',
    );
    if (!failures.isBlocked) return 0;
    const marker = await this.storage.hit(
      `auth-block:${client}`,
      MARKER_TTL_MS,
      0,
      this.windowMs,
      'auth-block',
    );
    const seconds = Math.max(1, marker.timeToBlockExpire);
    this.report(client, seconds);
    return seconds;
  }

  private report(client: string, seconds: number): void {
    const now = Date.now();
    if ((this.reported.get(client) ?? 0) > now) return;
    for (const [address, until] of this.reported) if (until <= now) this.reported.delete(address);
    this.reported.set(client, now + seconds * 1000);
    this.logger.warn(`${client} failed to authenticate too often; refused for ${seconds} s`);
  }
}
