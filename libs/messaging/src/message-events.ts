import { Injectable } from '@nestjs/common';
import { Subject } from 'rxjs';
import type { RecordOutcome, SmsEventKind } from './messages.types.js';

/** What happened when one event was recorded; published after the write committed. */
export interface MessageRecorded {
  kind: SmsEventKind;
  outcome: RecordOutcome | 'conflict';
  uuid: string;
  senderPhone: string;
  receiverPhone: string;
}

/** A message changed other than by a reported event: its delivery moved on. Published after the commit. */
export interface MessageChanged {
  uuid: string;
  senderPhone: string;
  receiverPhone: string;
}

/**
 * In-process stream of recording outcomes, for observers that must not slow
 * down or fail a write: metrics, live updates. Subscribers get events
 * synchronously and must not throw.
 */
@Injectable()
export class MessageEvents {
  private readonly recorded = new Subject<MessageRecorded>();
  readonly recorded$ = this.recorded.asObservable();
  private readonly changed = new Subject<MessageChanged>();
  readonly changed$ = this.changed.asObservable();

  publish(event: MessageRecorded): void {
    this.recorded.next(event);
  }

  publishChange(change: MessageChanged): void {
    this.changed.next(change);
  }
}
