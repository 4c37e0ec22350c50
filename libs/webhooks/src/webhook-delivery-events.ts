import { Injectable } from '@nestjs/common';
import { Subject } from 'rxjs';

/**
 * What an attempt came to: `accepted` (a 2xx), `retried` (it will be tried
 * again), `given_up` (24 hours of retries are over), `dropped` (the message
 * is no longer stored).
 */
export const WEBHOOK_ATTEMPT_OUTCOMES = ['accepted', 'retried', 'given_up', 'dropped'] as const;
export type WebhookAttemptOutcome = (typeof WEBHOOK_ATTEMPT_OUTCOMES)[number];

/** Each webhook attempt as it is stored, and each webhook disabled, for the metrics. */
@Injectable()
export class WebhookDeliveryEvents {
  readonly attempted$ = new Subject<{ outcome: WebhookAttemptOutcome }>();
  readonly disabled$ = new Subject<{ webhookId: string; reason: string }>();
}
