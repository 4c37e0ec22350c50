import { IsIn, IsInt, IsOptional, Matches, Min } from 'class-validator';
import { AppVariables, configNamespace } from '@app/common';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export class ObservabilityVariables extends AppVariables {
  /** Log lines below this level are dropped; `silent` drops them all. */
  @IsIn(LOG_LEVELS)
  LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'info';

  /** Unset: /metrics is open. Set: a scrape must send `Authorization: Bearer <METRICS_TOKEN>`. */
  @IsOptional()
  @Matches(/^\S{16,}$/, { message: 'METRICS_TOKEN must be at least 16 characters, no spaces' })
  METRICS_TOKEN?: string;

  /** A request still unanswered after this long gets 503; above the statement timeout. */
  @IsInt()
  @Min(1000)
  REQUEST_TIMEOUT_MS: number = 15_000;

  /** On SIGTERM/SIGINT, requests in flight get this long to finish before their connections close. */
  @IsInt()
  @Min(0)
  SHUTDOWN_TIMEOUT_MS: number = 10_000;
}

export const observabilityConfig = configNamespace('observability', ObservabilityVariables, {
  values: (env) => ({
    logLevel: env.LOG_LEVEL,
    prettyLogs: env.NODE_ENV === 'development',
    metricsToken: env.METRICS_TOKEN,
    requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
  }),
});
