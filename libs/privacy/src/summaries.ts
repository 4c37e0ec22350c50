import type { Sql } from '@app/database';

/** A message leaving its threads (deleted, or moved to a pseudonym), with its parties as they were. */
export interface LeavingMessage {
  uuid: string;
  senderPhone: string;
  receiverPhone: string;
}

/** What happened to one summary: `count` messages left it, and it is `gone` when none remain. */
export interface SummaryChange {
  owner: string;
  counterpart: string;
  count: number;
  gone: boolean;
}

/**
 * The summary rows about to change, locked in key order: the order every
 * recording statement locks them in, so a batch and concurrent sends queue
 * behind each other instead of deadlocking.
 */
const LOCK_SUMMARIES = {
  name: 'privacy_lock_summaries',
  text: `
    SELECT 1 FROM conversations
    WHERE (owner_phone, counterpart_phone) IN (SELECT * FROM unnest($1::varchar[], $2::varchar[]))
    ORDER BY owner_phone, counterpart_phone
    FOR UPDATE`,
};

/**
 * Takes $3 messages off each summary ($1, $2): deleted when that is all of
 * them, decremented otherwise (two disjoint sets of rows, so one statement).
 * Returns what changed and, for the kept ones, their newest message.
 */
const TAKE_FROM_SUMMARIES = {
  name: 'privacy_take_from_summaries',
  text: `
    WITH leaving AS (
      SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::int[]) AS t(owner, counterpart, n)
    ),
    gone AS (
      DELETE FROM conversations AS c USING leaving AS l
      WHERE c.owner_phone = l.owner AND c.counterpart_phone = l.counterpart
        AND c.message_count <= l.n
      RETURNING c.owner_phone, c.counterpart_phone, c.message_count, NULL::text AS last_message_uuid
    ),
    kept AS (
      UPDATE conversations AS c SET message_count = c.message_count - l.n, updated_at = now()
      FROM leaving AS l
      WHERE c.owner_phone = l.owner AND c.counterpart_phone = l.counterpart
        AND c.message_count > l.n
      RETURNING c.owner_phone, c.counterpart_phone, l.n, c.last_message_uuid::text
    )
    SELECT owner_phone AS owner, counterpart_phone AS counterpart, message_count AS count,
           true AS gone, last_message_uuid AS "lastMessageUuid" FROM gone
    UNION ALL
    SELECT owner_phone, counterpart_phone, n, false, last_message_uuid FROM kept`,
};

/** Summaries ($1, $2) whose newest message left: they point at the newest one still in the thread. */
const REPOINT_SUMMARIES = {
  name: 'privacy_repoint_summaries',
  text: `
    UPDATE conversations AS c
      SET last_message_uuid = newest.uuid, last_occurred_at = newest.occurred_at, updated_at = now()
    FROM unnest($1::varchar[], $2::varchar[]) AS k(owner, counterpart)
    CROSS JOIN LATERAL (
      SELECT m.uuid, m.occurred_at FROM messages AS m
      WHERE m.party_low = LEAST(k.owner, k.counterpart) AND m.party_high = GREATEST(k.owner, k.counterpart)
      ORDER BY m.occurred_at DESC, m.uuid DESC
      LIMIT 1
    ) AS newest
    WHERE c.owner_phone = k.owner AND c.counterpart_phone = k.counterpart`,
};

const key = (owner: string, counterpart: string) => `${owner}\u0000${counterpart}`;

/** How many of `messages` each summary holds: both parties' view of each, one for a message to oneself. */
function countBySummary(messages: readonly LeavingMessage[]): Map<string, SummaryChange> {
  const counts = new Map<string, SummaryChange>();
  const add = (owner: string, counterpart: string) => {
    const entry = counts.get(key(owner, counterpart));
    if (entry) entry.count += 1;
    else counts.set(key(owner, counterpart), { owner, counterpart, count: 1, gone: false });
  };
  for (const message of messages) {
    add(message.senderPhone, message.receiverPhone);
    if (message.receiverPhone !== message.senderPhone) {
      add(message.receiverPhone, message.senderPhone);
    }
  }
  return counts;
}

/** Locks these summaries, in key order. */
export async function lockSummaries(
  sql: Sql,
  summaries: ReadonlyArray<{ owner: string; counterpart: string }>,
): Promise<void> {
  if (summaries.length === 0) return;
  await sql.query({
    ...LOCK_SUMMARIES,
    values: [summaries.map((s) => s.owner), summaries.map((s) => s.counterpart)],
  });
}

/**
 * Corrects the summaries of threads `messages` left, inside the transaction
 * that made them leave: counts go down, a summary with nothing left goes, and
 * one whose newest message left points at the newest remaining. `alsoLock`:
 * summaries the caller writes next, locked with these (in one key order).
 * Counts stay exact under concurrent sends: each row is changed under its
 * lock, by the number of messages that left it.
 */
export async function takeFromSummaries(
  sql: Sql,
  messages: readonly LeavingMessage[],
  alsoLock: ReadonlyArray<{ owner: string; counterpart: string }> = [],
): Promise<SummaryChange[]> {
  const leaving = [...countBySummary(messages).values()];
  if (leaving.length === 0) return [];
  await lockSummaries(sql, [...leaving, ...alsoLock]);
  const changed = await sql.query<SummaryChange & { lastMessageUuid: string | null }>({
    ...TAKE_FROM_SUMMARIES,
    values: [
      leaving.map((s) => s.owner),
      leaving.map((s) => s.counterpart),
      leaving.map((s) => s.count),
    ],
  });
  const left = new Set(messages.map((message) => message.uuid));
  const repoint = changed.rows.filter(
    (row) => !row.gone && row.lastMessageUuid !== null && left.has(row.lastMessageUuid),
  );
  if (repoint.length > 0) {
    await sql.query({
      ...REPOINT_SUMMARIES,
      values: [repoint.map((s) => s.owner), repoint.map((s) => s.counterpart)],
    });
  }
  return changed.rows.map(({ owner, counterpart, count, gone }) => ({
    owner,
    counterpart,
    count,
    gone,
  }));
}
