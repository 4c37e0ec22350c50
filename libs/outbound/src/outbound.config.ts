import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, Matches, Max, MaxLength, Min } from 'class-validator';
import { configNamespace, toBoolean } from '@app/common';

export class OutboundVariables {
  /** Run a delivery worker in this instance; every instance may, they share the queue. */
  @IsBoolean({ message: 'OUTBOUND_WORKER must be true or false' })
  @Transform(toBoolean)
  OUTBOUND_WORKER: boolean = true;

  /** Hand-overs a message gets before a transient failure marks it failed. */
  @IsInt()
  @Min(1)
  @Max(100)
  OUTBOUND_MAX_ATTEMPTS: number = 8;

  /** The first retry's delay; each next one doubles, with jitter, up to OUTBOUND_RETRY_MAX_MS. */
  @IsInt()
  @Min(10)
  @Max(3_600_000)
  OUTBOUND_RETRY_BASE_MS: number = 1_000;

  @IsInt()
  @Min(10)
  @Max(86_400_000)
  OUTBOUND_RETRY_MAX_MS: number = 300_000;

  /**
   * How long a worker holds a message it is handing over. A message still
   * `sending` after this is presumed orphaned by a crash (see README: exactly
   * once). Must exceed the longest hand-over.
   */
  @IsInt()
  @Min(1_000)
  @Max(3_600_000)
  OUTBOUND_LEASE_MS: number = 120_000;

  /** How often an idle worker looks for work queued by other instances. */
  @IsInt()
  @Min(10)
  @Max(60_000)
  OUTBOUND_POLL_MS: number = 250;

  /** Twilio's API origin; unset: https://api.twilio.com. Only for a proxy or a stand-in. */
  @IsOptional()
  @Matches(/^https?:\/\/[^\s/?#]+$/, {
    message: 'TWILIO_API_BASE_URL must be an http(s) origin without a path',
  })
  @MaxLength(2048)
  TWILIO_API_BASE_URL?: string;
}

export const outboundConfig = configNamespace('outbound', OutboundVariables, {
  rules: (env) => [
    env.OUTBOUND_RETRY_MAX_MS < env.OUTBOUND_RETRY_BASE_MS &&
      'OUTBOUND_RETRY_MAX_MS must not be below OUTBOUND_RETRY_BASE_MS',
  ],
  values: (env) => ({
    worker: env.OUTBOUND_WORKER,
    maxAttempts: env.OUTBOUND_MAX_ATTEMPTS,
    retryBaseMs: env.OUTBOUND_RETRY_BASE_MS,
    retryMaxMs: env.OUTBOUND_RETRY_MAX_MS,
    leaseMs: env.OUTBOUND_LEASE_MS,
    pollMs: env.OUTBOUND_POLL_MS,
    twilioApiBaseUrl: env.TWILIO_API_BASE_URL,
  }),
});
