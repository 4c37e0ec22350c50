import { Injectable } from '@nestjs/common';
import { Subject } from 'rxjs';

export const RETENTION_OUTCOMES = ['completed', 'skipped', 'failed'] as const;
/** `skipped`: another instance held the lock; `failed`: the run stopped on an error (the next one goes on). */
export type RetentionOutcome = (typeof RETENTION_OUTCOMES)[number];

export interface RetentionRun {
  outcome: RetentionOutcome;
  messagesDeleted: number;
  summariesDeleted: number;
}

/** Each retention run as it ends, for the metrics. */
@Injectable()
export class RetentionEvents {
  readonly finished$ = new Subject<RetentionRun>();
}
