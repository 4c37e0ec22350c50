import { HttpStatus, Inject, Injectable, type MessageEvent } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { Observable } from 'rxjs';
import { ApiKeysService, canActFor, type Principal } from '@app/auth';
import { ApiException, PhoneNumbers } from '@app/common';
import { databaseConfig } from '@app/database';
import { ANY_PARTY, toThreadMessageDto } from '@app/messaging';
import {
  formatEventId,
  LIVE_EVENT_TYPES,
  type LiveMessageEvent,
  parseEventId,
} from './live-event.js';
import { LiveHub, type LiveSubscriber } from './live-hub.js';
import { liveConfig } from './live.config.js';
import { type ChangedMessageRow, LiveRepository } from './live.repository.js';

/** More changes than this since a Last-Event-ID: the client reloads instead (a `resync` event). */
export const MAX_REPLAY = 500;
/** Changes remembered per stream to drop one delivered twice (by the replay and live). */
const SEEN_LIMIT = 2_000;
/**
 * How often an open stream checks that its phone key still works. Revocation
 * must reach every instance within 5 s; keys are cached for up to 2 s.
 */
export const KEY_RECHECK_MS = 2_500;

/** Who opened a stream, as the auth guard established it. */
export interface StreamCaller {
  principal: Principal;
  /** The Authorization header, to check later that the key was not revoked meanwhile. */
  authorization: string;
}

/**
 * Opens the live stream of one number: replays what the client missed since
 * its Last-Event-ID, says `ready`, then forwards live changes, with a
 * heartbeat comment so proxies keep the connection open.
 */
@Injectable()
export class LiveService {
  private readonly heartbeatMs: number;
  /** See {@link replayOverlapMicros}. */
  private readonly overlapMicros: bigint;

  constructor(
    private readonly hub: LiveHub,
    private readonly repository: LiveRepository,
    private readonly phones: PhoneNumbers,
    private readonly keys: ApiKeysService,
    @Inject(liveConfig.KEY) config: ConfigType<typeof liveConfig>,
    @Inject(databaseConfig.KEY) database: ConfigType<typeof databaseConfig>,
  ) {
    this.heartbeatMs = config.heartbeatMs;
    this.overlapMicros = replayOverlapMicros(database.statementTimeoutMs);
  }

  /**
   * Everything that can fail (a bad number or Last-Event-ID, the database)
   * fails here, before the first byte, so it gets a normal error answer.
   * `signal` ends with the response, also when the client leaves during setup.
   */
  async open(
    phone: string,
    lastEventId: string | undefined,
    caller: StreamCaller,
    signal: AbortSignal,
  ): Promise<Observable<MessageEvent>> {
    const party = this.phones.require(phone, 'phone', ANY_PARTY);
    const since = this.resumePoint(lastEventId);
    if (!this.hub.isLive) {
      throw ApiException.field(
        HttpStatus.SERVICE_UNAVAILABLE,
        'events',
        'are unavailable for a moment (reconnecting to the database); retry',
      );
    }

    // Follow first, then read: a change that lands in between is in both,
    // and the stream drops the second copy.
    const pending = new PendingSubscriber();
    const unsubscribe = this.hub.subscribe(party, pending);
    signal.addEventListener('abort', unsubscribe, { once: true });
    let replay: ChangedMessageRow[];
    let position: bigint;
    try {
      replay =
        since === undefined
          ? []
          : await this.repository.findChangesSince(
              party,
              since - this.overlapMicros,
              since,
              MAX_REPLAY + 1,
            );
      position = await this.repository.currentPosition();
    } catch (error) {
      unsubscribe();
      throw error;
    }

    return new Observable<MessageEvent>((subscriber) => {
      const seen = new SeenChanges(SEEN_LIMIT);
      const emit = (event: LiveMessageEvent) => {
        if (!seen.isNew(event.message.uuid, event.position)) return;
        subscriber.next({
          type: LIVE_EVENT_TYPES[event.type],
          id: formatEventId(event.position),
          data: event.message,
        });
      };
      if (replay.length > MAX_REPLAY) {
        subscriber.next({
          type: LIVE_EVENT_TYPES.resync,
          id: formatEventId(position),
          data: { reason: `more than ${MAX_REPLAY} changes since Last-Event-ID` },
        });
      } else {
        for (const row of replay) {
          // Created after the client's last event: new to it. One created
          // within the overlap may be new too and come as an update, which is
          // why clients treat both types alike (keep the newest per uuid).
          emit({
            type: row.isNew ? 'created' : 'updated',
            position: BigInt(row.position),
            message: toThreadMessageDto(row, party),
          });
        }
      }
      subscriber.next({
        type: LIVE_EVENT_TYPES.ready,
        id: formatEventId(position),
        data: { phone: party, resumed: since !== undefined, heartbeatMs: this.heartbeatMs },
      });
      pending.attach({ next: emit, end: () => subscriber.complete() });
      const heartbeat = setInterval(
        () => subscriber.next({ comment: 'heartbeat' }),
        this.heartbeatMs,
      );
      // A stream outlives the request that authorized it: once its key is
      // revoked it ends, and the client's reconnection gets 401.
      const recheck = caller.principal.isAdmin
        ? undefined
        : setInterval(() => {
            void this.keyStillActsFor(caller.authorization, party).then((allowed) => {
              if (!allowed) subscriber.complete();
            });
          }, KEY_RECHECK_MS);
      return () => {
        clearInterval(heartbeat);
        clearInterval(recheck);
        unsubscribe();
      };
    });
  }

  /** False once the key is revoked; true while the database cannot tell (the stream stays). */
  private async keyStillActsFor(authorization: string, party: string): Promise<boolean> {
    const secret = /^Bearer +(\S+)/i.exec(authorization)?.[1];
    if (!secret) return false;
    try {
      const principal = await this.keys.findPrincipal(secret);
      return principal !== undefined && canActFor(principal, party);
    } catch {
      return true;
    }
  }

  private resumePoint(lastEventId: string | undefined): bigint | undefined {
    if (lastEventId === undefined || lastEventId.trim() === '') return undefined;
    const position = parseEventId(lastEventId);
    if (position === undefined) {
      throw ApiException.field(
        HttpStatus.BAD_REQUEST,
        'Last-Event-ID',
        'must be the id of an event of this stream',
      );
    }
    return position;
  }
}

/**
 * How far before a Last-Event-ID the replay starts, in microseconds. An id is
 * a change's `updated_at`, which is when its write statement started, not
 * when it committed; and the NOTIFY announcing it is sent after the commit.
 * So a change the client has not seen can carry a time up to one statement
 * (the write) plus the NOTIFY's own delay (a pool wait of up to 3 s and a
 * statement) before the last id the client saw. Two statement timeouts plus
 * 5 s covers both; the client drops what it already has.
 */
export function replayOverlapMicros(statementTimeoutMs: number): bigint {
  return BigInt(2 * statementTimeoutMs + 5_000) * 1_000n;
}

/** Holds events until the stream is ready for them, then passes them through. */
class PendingSubscriber implements LiveSubscriber {
  private buffer: LiveMessageEvent[] = [];
  private target?: LiveSubscriber;
  private ended = false;

  next(event: LiveMessageEvent): void {
    if (this.target) this.target.next(event);
    else this.buffer.push(event);
  }

  end(): void {
    if (this.target) this.target.end();
    else this.ended = true;
  }

  attach(target: LiveSubscriber): void {
    for (const event of this.buffer) target.next(event);
    this.buffer = [];
    this.target = target;
    if (this.ended) target.end();
  }
}

/** The newest position sent per message, for the most recent messages. */
export class SeenChanges {
  private readonly positions = new Map<string, bigint>();

  constructor(private readonly limit: number) {}

  /** True, and remembered, when `position` is newer than what was sent for `uuid`. */
  isNew(uuid: string, position: bigint): boolean {
    const known = this.positions.get(uuid);
    if (known !== undefined && known >= position) return false;
    this.positions.delete(uuid);
    this.positions.set(uuid, position);
    if (this.positions.size > this.limit) {
      this.positions.delete(this.positions.keys().next().value as string);
    }
    return true;
  }
}
