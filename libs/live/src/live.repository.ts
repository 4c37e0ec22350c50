import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { PG_POOL } from '@app/database';
import { MESSAGE_COLUMNS, type MessageRow } from '@app/messaging';
import { positionToTimestamp } from './live-event.js';

/** A message with where its last change sits on the database clock. */
export interface ChangedMessageRow extends MessageRow {
  /** `updated_at` in microseconds since the epoch (int8 arrives as a string). */
  position: string;
  /** Created after the client's Last-Event-ID (replays only). */
  isNew?: boolean;
}

const CHANGED_COLUMNS = `${MESSAGE_COLUMNS},
  (extract(epoch FROM m.updated_at) * 1000000)::int8::text AS "position"`;

/** The messages another instance announced, read once per NOTIFY. */
const FIND_CHANGED = {
  name: 'live_find_changed',
  text: `SELECT ${CHANGED_COLUMNS} FROM messages AS m WHERE m.uuid = ANY($1::uuid[])`,
};

/**
 * What changed for $1 after $2, oldest change first, and whether each message
 * is newer than $4: one range scan per side
 * of the (party, updated_at, uuid) indexes, each stopping after $3 rows. A
 * message to oneself comes from the sender side only.
 */
const FIND_CHANGES_SINCE = {
  name: 'live_find_changes_since',
  text: `
    SELECT ${CHANGED_COLUMNS}, m.created_at > $4::timestamptz AS "isNew" FROM (
      (SELECT * FROM messages
        WHERE sender_phone = $1 AND updated_at > $2::timestamptz
        ORDER BY updated_at, uuid LIMIT $3)
      UNION ALL
      (SELECT * FROM messages
        WHERE receiver_phone = $1 AND sender_phone <> $1 AND updated_at > $2::timestamptz
        ORDER BY updated_at, uuid LIMIT $3)
    ) AS m
    ORDER BY m.updated_at, m.uuid
    LIMIT $3`,
};

const CURRENT_POSITION = {
  name: 'live_current_position',
  text: `SELECT (extract(epoch FROM now()) * 1000000)::int8::text AS "position"`,
};

/** Announces changes to every instance listening on `channel` (this one included). */
const NOTIFY = { name: 'live_notify', text: 'SELECT pg_notify($1, $2)' };

/** The live stream's reads, as named prepared statements on the app's pool. */
@Injectable()
export class LiveRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async findChanged(uuids: readonly string[]): Promise<ChangedMessageRow[]> {
    if (uuids.length === 0) return [];
    const result = await this.pool.query<ChangedMessageRow>({ ...FIND_CHANGED, values: [uuids] });
    return result.rows;
  }

  /**
   * Up to `limit` changes of `party` after `since`, oldest change first;
   * `isNew` tells the messages created after `newAfter`.
   */
  async findChangesSince(
    party: string,
    since: bigint,
    newAfter: bigint,
    limit: number,
  ): Promise<ChangedMessageRow[]> {
    const result = await this.pool.query<ChangedMessageRow>({
      ...FIND_CHANGES_SINCE,
      values: [party, positionToTimestamp(since), limit, positionToTimestamp(newAfter)],
    });
    return result.rows;
  }

  /** The database clock now, as a position. */
  async currentPosition(): Promise<bigint> {
    const result = await this.pool.query<{ position: string }>(CURRENT_POSITION);
    return BigInt(result.rows[0].position);
  }

  async notify(channel: string, payload: string): Promise<void> {
    await this.pool.query({ ...NOTIFY, values: [channel, payload] });
  }
}
