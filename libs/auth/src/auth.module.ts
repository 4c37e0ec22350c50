import { Module } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { AdminKey, resolveAdminKey } from './admin-key.js';
import { ApiKeysModule } from './api-keys.module.js';
import { authConfig } from './auth.config.js';
import { AuthFailureLimiter } from './auth-failure-limiter.js';
import { AuthGuard } from './auth.guard.js';
import { KeyRateLimit } from './key-rate-limit.js';
import { RateLimitStorage } from './rate-limit.storage.js';
import { RouteRules } from './route-rules.js';

/**
 * Authentication, authorization and rate limits for every route, through one
 * global guard. Import it once, in the app module.
 */
@Module({
  imports: [DiscoveryModule, ApiKeysModule],
  providers: [
    {
      provide: AdminKey,
      inject: [authConfig.KEY],
      useFactory: (config: ConfigType<typeof authConfig>) => resolveAdminKey(config),
    },
    {
      provide: RateLimitStorage,
      inject: [authConfig.KEY],
      useFactory: (config: ConfigType<typeof authConfig>) => RateLimitStorage.create(config),
    },
    AuthFailureLimiter,
    KeyRateLimit,
    RouteRules,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [ApiKeysModule, RouteRules, RateLimitStorage, AdminKey, AuthFailureLimiter],
})
export class AuthModule {}
