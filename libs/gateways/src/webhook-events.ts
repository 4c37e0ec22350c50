import { Injectable } from '@nestjs/common';
import { Subject } from 'rxjs';
import type { GatewayProviderName } from './gateway-provider-name.js';

export const WEBHOOK_RESULTS = [
  'recorded',
  'replayed',
  'status',
  'ignored',
  'invalid',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'unsupported_media_type',
  'rate_limited',
  /** The service failed (the database away): the gateway should retry. */
  'failed',
] as const;
export type WebhookResult = (typeof WEBHOOK_RESULTS)[number];

/** One webhook answered; `provider` is `unknown` when no connection matched. */
export interface WebhookHandled {
  provider: GatewayProviderName | 'unknown';
  result: WebhookResult;
}

/** In-process stream of webhook results, for the metrics; subscribers must not throw. */
@Injectable()
export class WebhookEvents {
  private readonly handled = new Subject<WebhookHandled>();
  readonly handled$ = this.handled.asObservable();

  publish(event: WebhookHandled): void {
    this.handled.next(event);
  }
}
