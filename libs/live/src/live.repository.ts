import { Inject, Injectable } from '@nestjs/common';
import { PRIMARY_SQL, type Sql } from '@app/database';
import { type ChangedMessageRow, MessagesRepository } from '@app/messaging';
import { positionToTimestamp } from './live-event.js';

export type { ChangedMessageRow };

const CURRENT_POSITION = {
  name: 'live_current_position',
  text: `SELECT (extract(epoch FROM now()) * 1000000)::int8::text AS "position"`,
};

/**
 * Announces changes to every instance listening on `channel` (this one
 * included): all of a round's payloads in one statement, delivered in order
 * when it commits. One round trip per round, however many payloads, so the
 * announcements keep up with a bulk import instead of queueing behind it.
 */
const NOTIFY = {
  name: 'live_notify_all',
  text: `SELECT pg_notify($1, payload)
    FROM unnest($2::text[]) WITH ORDINALITY AS p(payload, position)
    ORDER BY position`,
};

/**
 * The live stream's statements: the database clock and NOTIFY. Messages are
 * read through the messaging repository, where their SQL lives.
 */
@Injectable()
export class LiveRepository {
  constructor(
    @Inject(PRIMARY_SQL) private readonly sql: Sql,
    private readonly messages: MessagesRepository,
  ) {}

  findChanged(uuids: readonly string[]): Promise<ChangedMessageRow[]> {
    return this.messages.findChanged(uuids);
  }

  /**
   * Up to `limit` changes of `party` after `since`, oldest change first;
   * `isNew` tells the messages created after `newAfter`.
   */
  findChangesSince(
    party: string,
    since: bigint,
    newAfter: bigint,
    limit: number,
  ): Promise<ChangedMessageRow[]> {
    return this.messages.findChangesSince(
      party,
      positionToTimestamp(since),
      positionToTimestamp(newAfter),
      limit,
    );
  }

  /** The database clock now, as a position. */
  async currentPosition(): Promise<bigint> {
    const result = await this.sql.query<{ position: string }>(CURRENT_POSITION);
    return BigInt(result.rows[0].position);
  }

  async notify(channel: string, payloads: readonly string[]): Promise<void> {
    await this.sql.query({ ...NOTIFY, values: [channel, payloads] });
  }
}
