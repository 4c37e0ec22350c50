import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { Pool } from 'pg';
import { databaseConfig, PG_POOL, PRIMARY_SQL, type Sql } from '@app/database';
import { countInAudit } from './audit.repository.js';
import { takeFromSummaries, type LeavingMessage } from './summaries.js';
import { inTransaction } from './transaction.js';

/**
 * What an erased message's text becomes: the schema wants 1 to 1600
 * characters, and an empty text would break the documented answers. Which
 * messages are erased is told by the pseudonym in them (see pseudonyms.ts),
 * not by this text. GSM-7, one segment, and no opt-out keyword.
 */
export const ERASED_TEXT = '(erased)';

/**
 * The newest $2 messages in which $1 takes part: one backward range scan per
 * side. Newest first, so that a partial erasure's summaries are always
 * re-pointed at the newest message left (the same path every batch takes).
 */
const FIND_BATCH = {
  name: 'privacy_find_erase_batch',
  text: `
    SELECT uuid::text AS uuid FROM (
      (SELECT uuid, occurred_at FROM messages WHERE sender_phone = $1
        ORDER BY occurred_at DESC, uuid DESC LIMIT $2)
      UNION
      (SELECT uuid, occurred_at FROM messages WHERE receiver_phone = $1
        ORDER BY occurred_at DESC, uuid DESC LIMIT $2)
    ) AS batch
    ORDER BY occurred_at DESC, uuid DESC
    LIMIT $2`,
};

/**
 * The batch's delivery jobs, locked before their messages as the delivery
 * workers lock them: a job not yet handed over fails (nothing is sent for an
 * erased message), and no provider error text (which may quote a number) is kept.
 */
const STOP_JOBS = {
  name: 'privacy_stop_erased_jobs',
  text: `
    UPDATE outbound_messages AS o
      SET status = CASE WHEN o.status IN ('queued', 'sending') THEN 'failed' ELSE o.status END,
          failed_at = CASE WHEN o.status IN ('queued', 'sending') THEN now() ELSE o.failed_at END,
          error_code = CASE WHEN o.status IN ('queued', 'sending') THEN 'ERASED' ELSE o.error_code END,
          error_reason = CASE WHEN o.status IN ('queued', 'sending') THEN 'The message was erased' END,
          lease_until = NULL, updated_at = now()
    WHERE o.message_uuid = ANY($1::uuid[])`,
};

/**
 * The batch's messages lose their text and the number ($2), which becomes its
 * pseudonym ($3). The party condition is checked again on the locked row, so
 * a message another erasure changed meanwhile is left alone and not counted.
 * Returns the parties as they are now.
 */
const ERASE_MESSAGES = {
  name: 'privacy_erase_messages',
  text: `
    UPDATE messages AS m
      SET sender_phone = CASE WHEN m.sender_phone = $2 THEN $3 ELSE m.sender_phone END,
          receiver_phone = CASE WHEN m.receiver_phone = $2 THEN $3 ELSE m.receiver_phone END,
          text = $4, encoding = 'GSM-7', segments = 1,
          delivery_status = CASE WHEN m.delivery_status IN ('queued', 'sending') THEN 'failed'
                                 ELSE m.delivery_status END,
          updated_at = now()
    WHERE m.uuid = ANY($1::uuid[]) AND (m.sender_phone = $2 OR m.receiver_phone = $2)
    RETURNING m.uuid::text AS uuid, m.sender_phone AS "senderPhone", m.receiver_phone AS "receiverPhone"`,
};

/**
 * The counterparts' ($1) threads with the pseudonym ($3) take over the
 * messages ($2 each) their threads with the number gave up, newest message
 * included (among the batch's, $4); a thread with the pseudonym from an
 * earlier erasure is merged into, counts added.
 */
const GIVE_TO_PSEUDONYM = {
  name: 'privacy_give_to_pseudonym',
  text: `
    INSERT INTO conversations AS c
      (owner_phone, counterpart_phone, last_message_uuid, last_occurred_at, message_count)
    SELECT t.owner, $3::varchar, newest.uuid, newest.occurred_at, t.n
    FROM unnest($1::varchar[], $2::int[]) AS t(owner, n)
    CROSS JOIN LATERAL (
      SELECT m.uuid, m.occurred_at FROM messages AS m
      WHERE m.uuid = ANY($4::uuid[])
        AND m.party_low = LEAST(t.owner, $3::varchar) AND m.party_high = GREATEST(t.owner, $3::varchar)
      ORDER BY m.occurred_at DESC, m.uuid DESC
      LIMIT 1
    ) AS newest
    ORDER BY t.owner
    ON CONFLICT (owner_phone, counterpart_phone) DO UPDATE
      SET message_count = c.message_count + EXCLUDED.message_count,
          last_message_uuid = CASE
            WHEN (EXCLUDED.last_occurred_at, EXCLUDED.last_message_uuid) > (c.last_occurred_at, c.last_message_uuid)
            THEN EXCLUDED.last_message_uuid ELSE c.last_message_uuid END,
          last_occurred_at = GREATEST(c.last_occurred_at, EXCLUDED.last_occurred_at),
          updated_at = now()`,
};

/** Reports kept for later matching that name the number ($1: with and without '+'), $2 at a time. */
const DELETE_REPORTS = {
  name: 'privacy_delete_erased_reports',
  text: `
    DELETE FROM delivery_reports WHERE ctid = ANY(ARRAY(
      SELECT ctid FROM delivery_reports
      WHERE sender_address = ANY($1::varchar[]) OR receiver_address = ANY($1::varchar[])
      LIMIT $2))`,
};

/**
 * Webhook events seen from the number ($1) are seen from its pseudonym ($2)
 * instead, $3 at a time: their messages are erased already, and the events
 * (queued, or kept for redelivery) must not name the number either.
 */
const FORGET_IN_WEBHOOK_EVENTS = {
  name: 'privacy_forget_in_webhook_events',
  text: `
    UPDATE webhook_events SET viewer = $2 WHERE id = ANY(ARRAY(
      SELECT id FROM webhook_events WHERE viewer = $1 LIMIT $3))`,
};

export interface ErasedBatch {
  /** Messages the batch found with the number; 0 when none are left. */
  found: number;
  /** Those it erased: fewer when a concurrent erasure took some first. */
  messages: number;
  /** Summary rows deleted: the number's own, and its counterparts' threads merged into the pseudonym's. */
  summaries: number;
}

/**
 * The erasure's storage: each batch is one transaction (messages, summaries,
 * delivery jobs and the audit record's counts together), so a crash between
 * two leaves a consistent state and a new run goes on from there.
 */
@Injectable()
export class ErasureRepository {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(PRIMARY_SQL) private readonly primary: Sql,
    @Inject(databaseConfig.KEY) private readonly database: ConfigType<typeof databaseConfig>,
  ) {}

  /** Erases up to `limit` of `number`'s messages. */
  async eraseBatch(
    number: string,
    pseudonym: string,
    limit: number,
    auditId: string,
  ): Promise<ErasedBatch> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      return await inTransaction(client, this.database.preparedStatements, (sql) =>
        this.erase(sql, number, pseudonym, limit, auditId),
      );
    } catch (error) {
      broken = error as Error;
      throw error;
    } finally {
      // A connection whose transaction failed in an unknown state is not handed out again.
      client.release(broken);
    }
  }

  private async erase(
    sql: Sql,
    number: string,
    pseudonym: string,
    limit: number,
    auditId: string,
  ): Promise<ErasedBatch> {
    const batch = await sql.query<{ uuid: string }>({ ...FIND_BATCH, values: [number, limit] });
    if (batch.rows.length === 0) return { found: 0, messages: 0, summaries: 0 };
    const uuids = batch.rows.map((row) => row.uuid);
    await sql.query({ ...STOP_JOBS, values: [uuids] });
    const erased = await sql.query<LeavingMessage>({
      ...ERASE_MESSAGES,
      values: [uuids, number, pseudonym, ERASED_TEXT],
    });
    // The parties as they were: the pseudonym stands for the number.
    const before = erased.rows.map((row) => ({
      uuid: row.uuid,
      senderPhone: row.senderPhone === pseudonym ? number : row.senderPhone,
      receiverPhone: row.receiverPhone === pseudonym ? number : row.receiverPhone,
    }));
    const counterparts = new Set(
      before.flatMap((row) => [row.senderPhone, row.receiverPhone]).filter((p) => p !== number),
    );
    const changes = await takeFromSummaries(
      sql,
      before,
      [...counterparts].map((owner) => ({ owner, counterpart: pseudonym })),
    );
    // Only what left a counterpart's thread with the number moves, so counts stay exact.
    const moved = changes.filter((c) => c.counterpart === number && c.owner !== number);
    if (moved.length > 0) {
      await sql.query({
        ...GIVE_TO_PSEUDONYM,
        values: [
          moved.map((c) => c.owner),
          moved.map((c) => c.count),
          pseudonym,
          erased.rows.map((row) => row.uuid),
        ],
      });
    }
    const summaries = changes.filter((c) => c.gone).length;
    await countInAudit(sql, auditId, erased.rows.length, summaries);
    return { found: uuids.length, messages: erased.rows.length, summaries };
  }

  /** Deletes up to `limit` kept delivery reports naming `number`; how many it deleted. */
  async deleteReports(number: string, limit: number): Promise<number> {
    const addresses = [...new Set([number, number.replace(/^\+/, '')])];
    const result = await this.primary.query({ ...DELETE_REPORTS, values: [addresses, limit] });
    return result.rowCount ?? 0;
  }

  /** Rewrites up to `limit` webhook events seen from `number`; how many it rewrote. */
  async forgetInWebhookEvents(number: string, pseudonym: string, limit: number): Promise<number> {
    const result = await this.primary.query({
      ...FORGET_IN_WEBHOOK_EVENTS,
      values: [number, pseudonym, limit],
    });
    return result.rowCount ?? 0;
  }
}
