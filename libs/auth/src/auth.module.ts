import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule, type ThrottlerModuleOptions } from '@nestjs/throttler';
import { AdminKey, resolveAdminKey } from './admin-key.js';
import { ApiKeysModule } from './api-keys.module.js';
import { AuthFailureLimiter } from './auth-failure-limiter.js';
import { AuthGuard } from './auth.guard.js';
import { principalOf } from './principal.js';
import { RateLimitStorage } from './rate-limit.storage.js';
import { RouteRules } from './route-rules.js';

/** The per-key rate limit; the guard runs it right after authentication. */
export function throttlerOptions(config: ConfigService): ThrottlerModuleOptions {
  return {
    // Named 'default' so the throttler answers with a plain Retry-After header.
    throttlers: [
      {
        name: 'default',
        ttl: config.getOrThrow<number>('THROTTLE_TTL_MS'),
        limit: config.getOrThrow<number>('THROTTLE_LIMIT'),
      },
    ],
    storage: new RateLimitStorage({
      redisUrl: config.get<string>('REDIS_URL'),
      redisKeyPrefix: config.get<string>('REDIS_KEY_PREFIX') ?? 'sms-service:',
    }),
    // One budget per key, across all routes.
    getTracker: (request: object) => `key:${principalOf(request)?.keyId ?? 'none'}`,
    generateKey: (_context, tracker: string, name: string) => `${name}:${tracker}`,
    errorMessage: (_context, { timeToBlockExpire }) =>
      `Too many requests for this API key; retry in ${timeToBlockExpire} s`,
  };
}

/**
 * Authentication, authorization and rate limits for every route, through one
 * global guard. Import it once, in the app module.
 */
@Module({
  imports: [
    DiscoveryModule,
    ApiKeysModule,
    ThrottlerModule.forRootAsync({
      inject: [ConfigService],
      useFactory: throttlerOptions,
    }),
  ],
  providers: [
    {
      provide: AdminKey,
      inject: [ConfigService],
      useFactory: (config: ConfigService) =>
        resolveAdminKey({
          adminApiKey: config.get<string>('ADMIN_API_KEY'),
          nodeEnv: config.get<string>('NODE_ENV') ?? 'development',
          dataDir: config.get<string>('DATA_DIR') ?? './.data',
          port: config.get<number>('PORT') ?? 3000,
        }),
    },
    AuthFailureLimiter,
    ThrottlerGuard,
    RouteRules,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [ApiKeysModule, RouteRules],
})
export class AuthModule {}
