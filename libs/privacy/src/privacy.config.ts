import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { configNamespace } from '@app/common';

export class PrivacyVariables {
  /** Delete messages older than this many days, once a day and at start-up; unset: keep forever. */
  @IsOptional()
  @IsInt({ message: 'RETENTION_DAYS must be a whole number of days' })
  @Min(1)
  @Max(36_500)
  RETENTION_DAYS?: number;
}

export const privacyConfig = configNamespace('privacy', PrivacyVariables, {
  values: (env) => ({ retentionDays: env.RETENTION_DAYS }),
});
