import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { HttpAdapterHost } from '@nestjs/core';
import { andThen, ApiException, type MaybePromise } from '@app/common';
import { authConfig } from './auth.config.js';
import type { Principal } from './principal.js';
import { RateLimitStorage } from './rate-limit.storage.js';

/**
 * THROTTLE_LIMIT requests per key per THROTTLE_TTL_MS, across all routes. The
 * answers carry the usual `X-RateLimit-Limit/-Remaining/-Reset` headers, and a
 * refusal `429` with `Retry-After`; a refused key stays refused for a window.
 */
@Injectable()
export class KeyRateLimit {
  private readonly windowMs: number;
  private readonly limit: number;
  private readonly limitHeader: string;

  constructor(
    private readonly storage: RateLimitStorage,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(authConfig.KEY) config: ConfigType<typeof authConfig>,
  ) {
    this.windowMs = config.throttleTtlMs;
    this.limit = config.throttleLimit;
    this.limitHeader = String(this.limit);
  }

  /** Counts one request of `principal`; throws 429 once its budget is spent. */
  consume(principal: Principal, response: unknown): MaybePromise<void> {
    const hit = this.storage.hit(
      // The counter names the @nestjs/throttler guard used, so counts survive a rolling upgrade.
      `default:key:${principal.keyId}`,
      this.windowMs,
      this.limit,
      this.windowMs,
      'default',
    );
    return andThen(hit, ({ isBlocked, totalHits, timeToExpire, timeToBlockExpire }) => {
      const { httpAdapter } = this.adapterHost;
      if (isBlocked) {
        httpAdapter.setHeader(response, 'Retry-After', String(timeToBlockExpire));
        throw new ApiException(
          HttpStatus.TOO_MANY_REQUESTS,
          `Too many requests for this API key; retry in ${timeToBlockExpire} s`,
        );
      }
      httpAdapter.setHeader(response, 'X-RateLimit-Limit', this.limitHeader);
      httpAdapter.setHeader(
        response,
        'X-RateLimit-Remaining',
        String(Math.max(0, this.limit - totalHits)),
      );
      httpAdapter.setHeader(response, 'X-RateLimit-Reset', String(timeToExpire));
    });
  }
}
