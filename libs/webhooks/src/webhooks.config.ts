import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, Max, Min } from 'class-validator';
import { AppVariables, configNamespace, toBoolean } from '@app/common';

export class WebhooksVariables extends AppVariables {
  /** Run a webhook delivery worker in this instance; every instance may, they share the queue. */
  @IsBoolean({ message: 'WEBHOOK_WORKER must be true or false' })
  @Transform(toBoolean)
  WEBHOOK_WORKER: boolean = true;

  /**
   * Allow webhook URLs on loopback, private, link-local and metadata addresses,
   * and plain http in production: for tests and private networks only.
   */
  @IsBoolean({ message: 'WEBHOOK_ALLOW_PRIVATE must be true or false' })
  @Transform(toBoolean)
  WEBHOOK_ALLOW_PRIVATE: boolean = false;

  /** How long a receiver has to answer an attempt. */
  @IsInt()
  @Min(100)
  @Max(60_000)
  WEBHOOK_TIMEOUT_MS: number = 10_000;

  /** The first retry's delay; each next one is four times longer, with jitter, up to 3 hours. */
  @IsInt()
  @Min(10)
  @Max(3_600_000)
  WEBHOOK_RETRY_BASE_MS: number = 5_000;

  /**
   * Attempts in flight per instance, over all webhooks; each webhook gets at
   * most a quarter, so a slow receiver leaves the others three quarters. A
   * receiver 100 ms away gets up to 160 events/s from each instance.
   */
  @IsInt()
  @Min(4)
  @Max(1024)
  WEBHOOK_CONCURRENCY: number = 64;

  /** How often an idle worker looks for events. */
  @IsInt()
  @Min(10)
  @Max(60_000)
  WEBHOOK_POLL_MS: number = 500;
}

/** An event is retried for this long after it happened, then given up. */
export const RETRY_WINDOW_MS = 24 * 3600_000;
/** A webhook whose attempts have failed for this long, with none accepted, is disabled. */
export const DISABLE_AFTER_MS = 3 * 24 * 3600_000;
/** The longest wait between two attempts. */
export const RETRY_MAX_MS = 3 * 3600_000;

export const webhooksConfig = configNamespace('webhooks', WebhooksVariables, {
  values: (env) => ({
    worker: env.WEBHOOK_WORKER,
    allowPrivate: env.WEBHOOK_ALLOW_PRIVATE,
    requireHttps: env.NODE_ENV === 'production' && !env.WEBHOOK_ALLOW_PRIVATE,
    timeoutMs: env.WEBHOOK_TIMEOUT_MS,
    retryBaseMs: env.WEBHOOK_RETRY_BASE_MS,
    concurrency: env.WEBHOOK_CONCURRENCY,
    pollMs: env.WEBHOOK_POLL_MS,
  }),
});
