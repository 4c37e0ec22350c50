import { Inject, Injectable } from '@nestjs/common';
import pg, { type ClientConfig } from 'pg';
import { READ_SQL, SESSION_CONNECTION, type Sql } from '@app/database';
import type { MessageRow } from '../messages.types.js';
import { MESSAGE_COLUMNS, type MessageTuple, toMessageRow } from '../messages.repository.js';
import { FRAGMENTS_HEADLINE, SHORT_TEXT, WHOLE_TEXT_HEADLINE } from './search-query.js';

/** A search result as the repository reads it: the message, its rank and its headline. */
export interface SearchRow {
  message: MessageRow;
  /** ts_rank × 1,000,000, rounded: an integer, so that a cursor carries it exactly. */
  rank: number;
  /** ts_headline's text, the matches between MATCH_START and MATCH_END. */
  headline: string;
}

/** Where a search page starts: after the best match when the client sends no cursor. */
export interface RankedPosition {
  rank: number;
  time: number;
  uuid: string;
}

const BEST: RankedPosition = {
  rank: 2_147_483_647,
  time: Infinity,
  uuid: '00000000-0000-0000-0000-000000000000',
};

/**
 * A page of $1's messages that match the tsquery text $2 (see toSearchQuery),
 * best first, then newest: the number's own entries of the search index (see
 * the SearchMessages migration), so the cost is that of the number's matches,
 * not of the table. Optionally only the thread with $3, within [$4, $5]. The
 * rank and the headline are computed on the text alone; headlines only for the
 * page's rows.
 */
const SEARCH = {
  name: 'messages_search',
  text: `
    WITH query AS (SELECT to_tsquery('sms_search', $2) AS words),
    page AS (
      SELECT m.*, query.words FROM query, LATERAL (
        SELECT found.*,
               LEAST(ts_rank(to_tsvector('sms_search', found.text), query.words) * 1000000, 2147483646)::int AS rank
        FROM messages AS found
        WHERE sms_search_document(found.text, found.sender_phone, found.receiver_phone)
                @@ sms_party_query(query.words, $1::varchar)
          AND ($3::varchar IS NULL OR (found.party_low = LEAST($1::varchar, $3::varchar)
                                   AND found.party_high = GREATEST($1::varchar, $3::varchar)))
          AND found.occurred_at >= to_timestamp($4) AND found.occurred_at <= to_timestamp($5)
      ) AS m
      WHERE (m.rank, m.occurred_at, m.uuid) < ($6::int, to_timestamp($7), $8::uuid)
      ORDER BY m.rank DESC, m.occurred_at DESC, m.uuid DESC
      LIMIT $9
    )
    SELECT ${MESSAGE_COLUMNS}, m.rank,
           -- An SMS is short: the whole text is its snippet, unless it is long.
           ts_headline('sms_search', translate(m.text, E'\\x01\\x02', ''), m.words,
                       CASE WHEN char_length(m.text) <= ${SHORT_TEXT} THEN $10 ELSE $11 END)
    FROM page AS m
    ORDER BY m.rank DESC, m.occurred_at DESC, m.uuid DESC`,
};

/**
 * Every message in which $1 takes part, oldest first: one index range scan
 * per side (sender, receiver) merged in order, so rows stream out without a
 * sort. A message to oneself comes from the sender side only.
 */
const EXPORT_CURSOR = `
  DECLARE export_rows NO SCROLL CURSOR FOR
  SELECT ${MESSAGE_COLUMNS} FROM (
    (SELECT * FROM messages WHERE sender_phone = $1 ORDER BY occurred_at, uuid)
    UNION ALL
    (SELECT * FROM messages WHERE receiver_phone = $1 AND sender_phone <> $1 ORDER BY occurred_at, uuid)
  ) AS m
  ORDER BY m.occurred_at, m.uuid`;

/** Rows per FETCH of an export: what the process holds at a time. */
export const EXPORT_BATCH_ROWS = 1000;

/** The search and export statements, for the EXPLAIN test. */
export const HISTORY_STATEMENTS = { SEARCH, EXPORT_CURSOR };

/**
 * Reads over a number's whole history: search, and export. An export reads
 * one consistent snapshot (a REPEATABLE READ READ ONLY transaction) through a
 * server-side cursor, in batches, on a connection of its own: a client that
 * downloads slowly holds that connection, never one of the request pool's.
 */
@Injectable()
export class HistoryRepository {
  constructor(
    @Inject(READ_SQL) private readonly reads: Sql,
    @Inject(SESSION_CONNECTION) private readonly connection: ClientConfig,
  ) {}

  async search(
    party: string,
    query: string,
    limit: number,
    options: { counterpart?: string; since?: number; until?: number; before?: RankedPosition },
  ): Promise<SearchRow[]> {
    const before = options.before ?? BEST;
    const result = await this.reads.query<[...MessageTuple, number, string]>({
      ...SEARCH,
      rowMode: 'array',
      values: [
        party,
        query,
        options.counterpart ?? null,
        options.since ?? -Infinity,
        options.until ?? Infinity,
        before.rank,
        before.time,
        before.uuid,
        limit,
        WHOLE_TEXT_HEADLINE,
        FRAGMENTS_HEADLINE,
      ],
    });
    return result.rows.map((row) => ({
      message: toMessageRow(row.slice(0, 10) as MessageTuple),
      rank: row[10],
      headline: row[11],
    }));
  }

  /**
   * Every message in which `party` takes part, oldest first, in batches. Stopping
   * the iteration (a client that went away) closes the cursor and the connection.
   */
  async *exportMessages(party: string): AsyncGenerator<MessageRow[]> {
    const client = new pg.Client({ ...this.connection, application_name: 'sms-service-export' });
    // A connection that breaks mid-export fails the FETCH in progress; this keeps the
    // client's own 'error' event from ending the process.
    client.on('error', () => undefined);
    await client.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await client.query(EXPORT_CURSOR, [party]);
      for (;;) {
        const batch = await client.query<MessageTuple>({
          text: `FETCH FORWARD ${EXPORT_BATCH_ROWS} FROM export_rows`,
          rowMode: 'array',
        });
        if (batch.rows.length > 0) yield batch.rows.map(toMessageRow);
        if (batch.rows.length < EXPORT_BATCH_ROWS) break;
      }
      await client.query('COMMIT');
    } finally {
      // Ending the session ends its transaction and cursor, whatever state they were left in.
      await client.end().catch(() => undefined);
    }
  }
}
