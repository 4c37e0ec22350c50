import { IsInt, IsOptional, Matches, Min } from 'class-validator';
import { AppVariables, configNamespace } from '@app/common';

export class AuthVariables extends AppVariables {
  /**
   * The admin key, which may do everything. Required in production; unset in
   * development, one is generated on first start and kept in DATA_DIR.
   */
  @IsOptional()
  @Matches(/^[A-Za-z0-9._~+/=-]{32,}$/, {
    message: 'ADMIN_API_KEY must be at least 32 characters: letters, digits or -._~+/=',
  })
  ADMIN_API_KEY?: string;

  /** The rate-limit window, for requests per key and failed authentications per address. */
  @IsInt()
  @Min(1000)
  THROTTLE_TTL_MS: number = 60_000;

  /** Requests one key may make per window. */
  @IsInt()
  @Min(1)
  THROTTLE_LIMIT: number = 600;

  /** Failed authentications one client address may make per window before it gets 429. */
  @IsInt()
  @Min(1)
  AUTH_FAILURE_LIMIT: number = 10;

  /** Unset: each instance counts its own rate limits; set, all instances share them. */
  @IsOptional()
  @Matches(/^rediss?:\/\/.+/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL?: string;

  /** Prefixed to every Redis key, so several deployments can share one Redis. */
  @Matches(/^[\w:.-]*$/, { message: 'REDIS_KEY_PREFIX may hold letters, digits and _:.- only' })
  REDIS_KEY_PREFIX: string = 'sms-service:';
}

export const authConfig = configNamespace('auth', AuthVariables, {
  rules: (env) => [
    env.NODE_ENV === 'production' &&
      !env.ADMIN_API_KEY &&
      'ADMIN_API_KEY must be set in production (at least 32 characters)',
  ],
  values: (env) => ({
    adminApiKey: env.ADMIN_API_KEY,
    nodeEnv: env.NODE_ENV,
    dataDir: env.DATA_DIR,
    port: env.PORT,
    throttleTtlMs: env.THROTTLE_TTL_MS,
    throttleLimit: env.THROTTLE_LIMIT,
    authFailureLimit: env.AUTH_FAILURE_LIMIT,
    redisUrl: env.REDIS_URL,
    redisKeyPrefix: env.REDIS_KEY_PREFIX,
  }),
});
