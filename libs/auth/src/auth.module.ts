import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { AdminKey, resolveAdminKey } from './admin-key.js';
import { ApiKeysModule } from './api-keys.module.js';
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
      inject: [ConfigService],
      useFactory: (config: ConfigService) =>
        resolveAdminKey({
          adminApiKey: config.get<string>('ADMIN_API_KEY'),
          nodeEnv: config.get<string>('NODE_ENV') ?? 'development',
          dataDir: config.get<string>('DATA_DIR') ?? './.data',
          port: config.get<number>('PORT') ?? 3000,
        }),
    },
    {
      provide: RateLimitStorage,
      inject: [ConfigService],
      useFactory: (config: ConfigService) =>
        new RateLimitStorage({
          redisUrl: config.get<string>('REDIS_URL'),
          redisKeyPrefix: config.get<string>('REDIS_KEY_PREFIX') ?? 'sms-service:',
        }),
    },
    AuthFailureLimiter,
    KeyRateLimit,
    RouteRules,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [ApiKeysModule, RouteRules, RateLimitStorage, AdminKey, AuthFailureLimiter],
})
export class AuthModule {}
