import { IsInt, Max, Min } from 'class-validator';
import { configNamespace } from '@app/common';

export class LiveVariables {
  /** How often an idle live stream (/api/phones/{phone}/events) gets a heartbeat comment. */
  @IsInt()
  @Min(100)
  @Max(300_000)
  LIVE_HEARTBEAT_MS: number = 15_000;
}

export const liveConfig = configNamespace('live', LiveVariables, {
  values: (env) => ({ heartbeatMs: env.LIVE_HEARTBEAT_MS }),
});
