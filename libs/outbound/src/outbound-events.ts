import { Injectable } from '@nestjs/common';
import { Subject } from 'rxjs';
import type { OutboundProviderName } from './outbound.types.js';
import type { DeliveryChanged, SendOutcome } from './outbound.types.js';

/** One hand-over to a provider and what came of it. */
export interface SendAttempted {
  provider: OutboundProviderName;
  outcome: SendOutcome;
}

/**
 * In-process stream of what the outbox does, for the metrics and the live
 * stream; published after the write committed. Subscribers must not throw.
 */
@Injectable()
export class OutboundEvents {
  private readonly attempted = new Subject<SendAttempted>();
  readonly attempted$ = this.attempted.asObservable();
  private readonly changed = new Subject<DeliveryChanged>();
  readonly changed$ = this.changed.asObservable();

  attempt(event: SendAttempted): void {
    this.attempted.next(event);
  }

  change(event: DeliveryChanged): void {
    this.changed.next(event);
  }
}
