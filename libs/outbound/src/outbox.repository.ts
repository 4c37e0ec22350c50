import { Inject, Injectable } from '@nestjs/common';
import { BACKGROUND_SQL, PRIMARY_SQL, type Sql } from '@app/database';
import type { DeliveryStatus } from '@app/messaging';
import type { ClaimedJob, DeliveryChanged, DeliveryReport } from './outbound.types.js';

/** What every transition returns: the message's parties, for the live stream and the metrics. */
const CHANGED_RETURNING = `
  RETURNING m.uuid::text AS uuid, j.gateway_id::text AS "gatewayId",
            m.sender_phone AS "senderPhone", m.receiver_phone AS "receiverPhone",
            m.delivery_status AS status,
            (extract(epoch FROM j.queued_at) * 1000)::float8 AS "queuedAtMs"`;

/**
 * The connections whose reports a report received by connection `id` may be
 * about: itself, and for SMPP every connection bound with the same account
 * (host, port, system_id), since an SMSC delivers an account's receipts on
 * whichever of its sessions is bound.
 */
function peersOf(id: string): string {
  return `(SELECT peer.id FROM gateways AS own
            JOIN gateways AS peer ON peer.id = own.id
              OR (own.provider = 'smpp' AND peer.provider = 'smpp'
                  AND peer.outbound->>'host' = own.outbound->>'host'
                  AND peer.outbound->>'port' = own.outbound->>'port'
                  AND peer.outbound->>'systemId' = own.outbound->>'systemId')
            WHERE own.id = ${id})`;
}

/**
 * A job's change and its message's, in one statement: `jobUpdate` is the
 * outbox's UPDATE (of `outbound_messages AS o`, without RETURNING), after the
 * CTEs in `before`; the message takes the job's new status. Every transition
 * but the claim goes through here, so a message never shows a status its job
 * does not have.
 */
function transition(jobUpdate: string, before = ''): string {
  return `
    WITH ${before}j AS (
      ${jobUpdate}
      RETURNING o.message_uuid, o.gateway_id, o.queued_at, o.status
    )
    UPDATE messages AS m SET delivery_status = j.status, updated_at = now()
    FROM j WHERE m.uuid = j.message_uuid
    ${CHANGED_RETURNING}`;
}

/**
 * Claims up to $2 due jobs of connection $1 for one worker, within the
 * connection's budget for the current second ($3 per second): the window row
 * is locked first, so concurrent claims for one connection (any instance)
 * queue here and each sees what the other took. SKIP LOCKED keeps workers off
 * each other's rows. The claimed jobs go to `sending` with a lease of $4 ms,
 * and the messages show it.
 */
const CLAIM = {
  name: 'outbox_claim',
  text: `
    WITH budget AS (
      SELECT CASE WHEN window_start = date_trunc('second', now()) THEN used ELSE 0 END AS used
      FROM outbound_rate_windows WHERE gateway_id = $1 FOR UPDATE
    ),
    due AS (
      SELECT message_uuid FROM outbound_messages
      WHERE gateway_id = $1 AND status = 'queued' AND next_attempt_at <= now()
      ORDER BY next_attempt_at
      LIMIT GREATEST(0, LEAST($2::int, $3::int - COALESCE((SELECT used FROM budget), 0)))
      FOR UPDATE SKIP LOCKED
    ),
    claimed AS (
      UPDATE outbound_messages AS o
        SET status = 'sending', attempts = o.attempts + 1,
            lease_until = now() + $4::int * interval '1 millisecond', updated_at = now()
      FROM due WHERE o.message_uuid = due.message_uuid
      RETURNING o.message_uuid, o.attempts, o.queued_at, o.gateway_id
    ),
    counted AS (
      INSERT INTO outbound_rate_windows AS w (gateway_id, window_start, used)
      SELECT $1, date_trunc('second', now()), count(*) FROM claimed
      ON CONFLICT (gateway_id) DO UPDATE
        SET used = CASE WHEN w.window_start = EXCLUDED.window_start
                        THEN w.used + EXCLUDED.used ELSE EXCLUDED.used END,
            window_start = EXCLUDED.window_start
    )
    UPDATE messages AS m SET delivery_status = 'sending', updated_at = now()
    FROM claimed AS j WHERE m.uuid = j.message_uuid
    RETURNING m.uuid::text AS uuid, j.gateway_id::text AS "gatewayId",
              m.sender_phone AS "from", m.receiver_phone AS "to", m.text, m.encoding, m.segments,
              j.attempts, (extract(epoch FROM j.queued_at) * 1000)::float8 AS "queuedAtMs"`,
};

/** The provider took these messages ($1) under these ids ($2). */
const MARK_SENT = {
  name: 'outbox_mark_sent',
  text: transition(
    `UPDATE outbound_messages AS o
        SET status = 'sent', provider_message_id = input.provider_id, sent_at = now(),
            lease_until = NULL, error_code = NULL, error_reason = NULL, updated_at = now()
      FROM input WHERE o.message_uuid = input.uuid AND o.status = 'sending'`,
    `input AS (SELECT * FROM unnest($1::uuid[], $2::varchar[]) AS t(uuid, provider_id)),
    `,
  ),
};

/** A transient failure of $1: back to the queue in $2 ms, keeping the error ($3, $4) for the record. */
const RESCHEDULE = {
  name: 'outbox_reschedule',
  text: transition(`
      UPDATE outbound_messages AS o
        SET status = 'queued', next_attempt_at = now() + $2::int * interval '1 millisecond',
            lease_until = NULL, error_code = $3, error_reason = $4, updated_at = now()
      WHERE o.message_uuid = $1 AND o.status = 'sending'`),
};

/** $1 failed for good, with the provider's code $2 and reason $3. */
const MARK_FAILED = {
  name: 'outbox_mark_failed',
  text: transition(`
      UPDATE outbound_messages AS o
        SET status = 'failed', failed_at = now(), lease_until = NULL,
            error_code = $2, error_reason = $3, updated_at = now()
      WHERE o.message_uuid = $1 AND o.status IN ('queued', 'sending')`),
};

/**
 * A report that connection $1 received for message $2 (of it or a peer, see
 * peersOf): `delivered` or `failed` ($3, with
 * $4 and $5) moves a `sent` job on; anything else changes nothing. `matched`
 * tells whether the id is known at all, so an unknown one can be kept.
 */
const APPLY_REPORT = {
  name: 'outbox_apply_report',
  text: `
    WITH job AS (
      SELECT message_uuid, status FROM outbound_messages
      WHERE gateway_id IN ${peersOf('$1::uuid')} AND provider_message_id = $2
      FOR UPDATE
    ),
    j AS (
      UPDATE outbound_messages AS o
        SET status = $3,
            delivered_at = CASE WHEN $3 = 'delivered' THEN now() END,
            failed_at = CASE WHEN $3 = 'failed' THEN now() END,
            error_code = CASE WHEN $3 = 'failed' THEN $4 END,
            error_reason = CASE WHEN $3 = 'failed' THEN $5 END,
            updated_at = now()
      FROM job
      WHERE o.message_uuid = job.message_uuid AND job.status = 'sent' AND $3 IN ('delivered', 'failed')
      RETURNING o.message_uuid, o.gateway_id, o.queued_at
    ),
    changed AS (
      UPDATE messages AS m SET delivery_status = $3, updated_at = now()
      FROM j WHERE m.uuid = j.message_uuid
      ${CHANGED_RETURNING}
    )
    SELECT (SELECT count(*) FROM job)::int AS matched,
           (SELECT status FROM job) AS "jobStatus",
           (SELECT row_to_json(changed) FROM changed) AS changed`,
};

const KEEP_REPORT = {
  name: 'outbox_keep_report',
  text: `
    INSERT INTO delivery_reports
      (gateway_id, provider_message_id, status, error_code, error_reason,
       sender_address, receiver_address, text_start)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
    ON CONFLICT DO NOTHING`,
};

const FIND_KEPT_REPORTS = {
  name: 'outbox_find_kept_reports',
  text: `
    SELECT r.gateway_id::text AS "gatewayId", r.provider_message_id AS "providerMessageId",
           r.status, r.error_code AS "errorCode", r.error_reason AS reason
    FROM delivery_reports AS r
    JOIN unnest($1::uuid[], $2::varchar[]) AS t(gateway_id, provider_id)
      ON r.provider_message_id = t.provider_id AND r.gateway_id IN ${peersOf('t.gateway_id')}
    ORDER BY r.reported_at`,
};

/**
 * A message failed with UNKNOWN_OUTCOME (its hand-over was interrupted) that
 * a kept SMPP receipt shows the SMSC did take: same connection, same
 * addresses, same first characters (the receipt's `text:`, where an SMSC
 * writes '.' for what it cannot show, read as any character), and no other
 * such message or receipt to confuse it with. It gets the receipt's id and
 * status; ambiguous ones stay as they are.
 */
const RECOGNIZE_UNKNOWN_OUTCOMES = {
  name: 'outbox_recognize_unknown_outcomes',
  text: `
    WITH reports AS (
      SELECT DISTINCT ON (gateway_id, provider_message_id) *
      FROM delivery_reports
      WHERE text_start IS NOT NULL AND status IN ('delivered', 'failed')
      ORDER BY gateway_id, provider_message_id, reported_at
    ),
    pairs AS (
      SELECT r.gateway_id, r.provider_message_id, r.status, r.error_code, r.error_reason,
             o.message_uuid
      FROM reports AS r
      JOIN outbound_messages AS o
        ON o.gateway_id IN ${peersOf('r.gateway_id')} AND o.status = 'failed'
       AND o.error_code = 'UNKNOWN_OUTCOME' AND o.provider_message_id IS NULL
      JOIN messages AS m
        ON m.uuid = o.message_uuid
       AND ltrim(m.sender_phone, '+') = r.sender_address
       AND ltrim(m.receiver_phone, '+') = r.receiver_address
       AND m.text LIKE replace(replace(replace(replace(r.text_start, '\\', '\\\\'), '%', '\\%'), '_', '\\_'), '.', '_') || '%'
    ),
    unambiguous AS (
      SELECT * FROM pairs AS p
      WHERE (SELECT count(*) FROM pairs AS q WHERE q.gateway_id = p.gateway_id AND q.provider_message_id = p.provider_message_id) = 1
        AND (SELECT count(*) FROM pairs AS q WHERE q.message_uuid = p.message_uuid) = 1
    ),
    j AS (
      UPDATE outbound_messages AS o
        SET provider_message_id = u.provider_message_id, status = u.status,
            sent_at = COALESCE(o.sent_at, now()),
            delivered_at = CASE WHEN u.status = 'delivered' THEN now() END,
            failed_at = CASE WHEN u.status = 'failed' THEN now() END,
            error_code = CASE WHEN u.status = 'failed' THEN u.error_code END,
            error_reason = CASE WHEN u.status = 'failed' THEN u.error_reason END,
            updated_at = now()
      FROM unambiguous AS u WHERE o.message_uuid = u.message_uuid
      RETURNING o.message_uuid, o.gateway_id, o.queued_at, o.status
    ),
    forgotten AS (
      DELETE FROM delivery_reports AS r USING unambiguous AS u
      WHERE r.gateway_id = u.gateway_id AND r.provider_message_id = u.provider_message_id
    )
    UPDATE messages AS m SET delivery_status = j.status, updated_at = now()
    FROM j WHERE m.uuid = j.message_uuid
    ${CHANGED_RETURNING}`,
};

/** Kept reports whose message has its provider id now, oldest first. */
const FIND_MATCHED_KEPT_REPORTS = {
  name: 'outbox_find_matched_kept_reports',
  text: `
    SELECT r.gateway_id::text AS "gatewayId", r.provider_message_id AS "providerMessageId"
    FROM delivery_reports AS r
    WHERE EXISTS (SELECT 1 FROM outbound_messages AS o
                  WHERE o.gateway_id IN ${peersOf('r.gateway_id')}
                    AND o.provider_message_id = r.provider_message_id)
    ORDER BY r.reported_at
    LIMIT 1000`,
};

const FORGET_REPORTS = {
  name: 'outbox_forget_reports',
  text: `DELETE FROM delivery_reports WHERE gateway_id = $1 AND provider_message_id = $2`,
};

/**
 * Jobs whose worker died while they were `sending` (the lease ran out). Where
 * the provider deduplicates by our uuid ($1: those providers) they go back to
 * the queue; elsewhere the provider may already have the message, so they
 * fail with UNKNOWN_OUTCOME and the reason $2 rather than risk a second SMS.
 */
const RECOVER_EXPIRED = {
  name: 'outbox_recover_expired',
  text: transition(
    `UPDATE outbound_messages AS o
        SET status = CASE WHEN e.resend THEN 'queued' ELSE 'failed' END,
            next_attempt_at = now(), lease_until = NULL,
            failed_at = CASE WHEN e.resend THEN NULL ELSE now() END,
            error_code = CASE WHEN e.resend THEN o.error_code ELSE 'UNKNOWN_OUTCOME' END,
            error_reason = CASE WHEN e.resend THEN o.error_reason ELSE $2 END,
            updated_at = now()
      FROM expired AS e WHERE o.message_uuid = e.message_uuid`,
    `expired AS (
      SELECT o.message_uuid, COALESCE(g.provider = ANY($1::text[]), false) AS resend
      FROM outbound_messages AS o LEFT JOIN gateways AS g ON g.id = o.gateway_id
      WHERE o.status = 'sending' AND o.lease_until < now()
      ORDER BY o.lease_until
      LIMIT 1000
      FOR UPDATE OF o SKIP LOCKED
    ),
    `,
  ),
};

/** Kept reports no message claimed within $1 days: another system's, or a lost submit's. */
const EXPIRE_KEPT_REPORTS = {
  name: 'outbox_expire_kept_reports',
  text: `DELETE FROM delivery_reports WHERE reported_at < now() - $1::int * interval '1 day'`,
};

/** Connections that send, with what the worker needs to pace them. */
const FIND_SENDING_GATEWAYS = {
  name: 'outbox_find_sending_gateways',
  text: `
    SELECT g.id::text AS id, (g.outbound->>'ratePerSecond')::int AS "ratePerSecond"
    FROM gateways AS g WHERE g.outbound IS NOT NULL
      AND EXISTS (SELECT 1 FROM outbound_messages AS o
                  WHERE o.gateway_id = g.id AND o.status = 'queued' AND o.next_attempt_at <= now())`,
};

/** Jobs of connections that no longer exist: they fail with a reason instead of waiting forever. */
const FAIL_ORPHANED = {
  name: 'outbox_fail_orphaned',
  text: transition(`
      UPDATE outbound_messages AS o
        SET status = 'failed', failed_at = now(), error_code = 'GATEWAY_DELETED',
            error_reason = 'The gateway connection this message was queued for was deleted',
            updated_at = now()
      WHERE o.status = 'queued' AND NOT EXISTS (SELECT 1 FROM gateways AS g WHERE g.id = o.gateway_id)`),
};

/** The connection a number sends through. */
const FIND_SENDER_GATEWAY = {
  name: 'outbox_find_sender_gateway',
  text: `SELECT gateway_id::text AS "gatewayId" FROM gateway_senders WHERE phone = $1`,
};

/** A failed message queued again (a retry from the page or the API), through connection $2. */
const REQUEUE = {
  name: 'outbox_requeue',
  text: transition(`
      UPDATE outbound_messages AS o
        SET status = 'queued', gateway_id = $2, attempts = 0, next_attempt_at = now(),
            error_code = NULL, error_reason = NULL, failed_at = NULL, updated_at = now()
      WHERE o.message_uuid = $1 AND o.status = 'failed'`),
};

/** Queue depth and the age of its oldest job, for the metrics. */
const QUEUE_STATE = {
  name: 'outbox_queue_state',
  text: `
    SELECT count(*)::int AS depth,
           COALESCE(extract(epoch FROM now() - min(queued_at)), 0)::float8 AS "oldestAgeSeconds"
    FROM outbound_messages WHERE status IN ('queued', 'sending')`,
};

/**
 * The outbox's SQL: claiming, transitions and status reports. Every
 * transition updates the job and its message in one statement, and only from
 * the states it may leave, so a late or repeated report never moves a message
 * backwards and two workers can never both complete one job.
 *
 * The workers' statements (and the status reports') run on the background
 * pool; the two a request waits for (its connection, a retry) on the
 * request pool.
 */
@Injectable()
export class OutboxRepository {
  constructor(
    @Inject(BACKGROUND_SQL) private readonly sql: Sql,
    @Inject(PRIMARY_SQL) private readonly requests: Sql,
  ) {}

  async claim(
    gatewayId: string,
    limit: number,
    ratePerSecond: number,
    leaseMs: number,
  ): Promise<ClaimedJob[]> {
    const result = await this.sql.query<ClaimedJob>({
      ...CLAIM,
      values: [gatewayId, limit, ratePerSecond, leaseMs],
    });
    return result.rows;
  }

  async markSent(accepted: ReadonlyArray<{ uuid: string; providerMessageId: string }>) {
    if (accepted.length === 0) return [];
    const result = await this.sql.query<DeliveryChanged>({
      ...MARK_SENT,
      values: [accepted.map((item) => item.uuid), accepted.map((item) => item.providerMessageId)],
    });
    return result.rows;
  }

  async reschedule(
    uuid: string,
    delayMs: number,
    errorCode: string,
    reason: string,
  ): Promise<DeliveryChanged[]> {
    const result = await this.sql.query<DeliveryChanged>({
      ...RESCHEDULE,
      values: [uuid, Math.round(delayMs), errorCode.slice(0, 64), reason.slice(0, 500)],
    });
    return result.rows;
  }

  async markFailed(uuid: string, errorCode: string, reason: string): Promise<DeliveryChanged[]> {
    const result = await this.sql.query<DeliveryChanged>({
      ...MARK_FAILED,
      values: [uuid, errorCode.slice(0, 64), reason.slice(0, 500)],
    });
    return result.rows;
  }

  /** Applies a report; `matched` is false when no message has this provider id (yet). */
  async applyReport(
    gatewayId: string,
    report: DeliveryReport,
  ): Promise<{ matched: boolean; jobStatus?: DeliveryStatus; changed?: DeliveryChanged }> {
    const result = await this.sql.query<{
      matched: number;
      jobStatus: DeliveryStatus | null;
      changed: DeliveryChanged | null;
    }>({
      ...APPLY_REPORT,
      values: [
        gatewayId,
        report.providerMessageId,
        report.status,
        report.errorCode?.slice(0, 64) ?? null,
        report.reason?.slice(0, 500) ?? null,
      ],
    });
    const [row] = result.rows;
    return {
      matched: row.matched > 0,
      jobStatus: row.jobStatus ?? undefined,
      changed: row.changed ?? undefined,
    };
  }

  async keepReport(gatewayId: string, report: DeliveryReport): Promise<void> {
    const recognition = report.recognition;
    await this.sql.query({
      ...KEEP_REPORT,
      values: [
        gatewayId,
        report.providerMessageId,
        report.status,
        report.errorCode?.slice(0, 64) ?? null,
        report.reason?.slice(0, 500) ?? null,
        recognition?.senderAddress.slice(0, 32) ?? null,
        recognition?.receiverAddress.slice(0, 32) ?? null,
        recognition?.textStart.slice(0, 160) ?? null,
      ],
    });
  }

  async recognizeUnknownOutcomes(): Promise<DeliveryChanged[]> {
    const result = await this.sql.query<DeliveryChanged>(RECOGNIZE_UNKNOWN_OUTCOMES);
    return result.rows;
  }

  async findKeptReports(
    ids: ReadonlyArray<{ gatewayId: string; providerMessageId: string }>,
  ): Promise<Array<DeliveryReport & { gatewayId: string }>> {
    if (ids.length === 0) return [];
    const result = await this.sql.query<DeliveryReport & { gatewayId: string }>({
      ...FIND_KEPT_REPORTS,
      values: [ids.map((id) => id.gatewayId), ids.map((id) => id.providerMessageId)],
    });
    return result.rows.map((row) => ({
      ...row,
      errorCode: row.errorCode ?? undefined,
      reason: row.reason ?? undefined,
    }));
  }

  async findMatchedKeptReports(): Promise<Array<{ gatewayId: string; providerMessageId: string }>> {
    const result = await this.sql.query<{ gatewayId: string; providerMessageId: string }>(
      FIND_MATCHED_KEPT_REPORTS,
    );
    return result.rows;
  }

  async forgetReports(gatewayId: string, providerMessageId: string): Promise<void> {
    await this.sql.query({ ...FORGET_REPORTS, values: [gatewayId, providerMessageId] });
  }

  async recoverExpired(resendingProviders: string[], reason: string): Promise<DeliveryChanged[]> {
    const result = await this.sql.query<DeliveryChanged>({
      ...RECOVER_EXPIRED,
      values: [resendingProviders, reason],
    });
    return result.rows;
  }

  async expireKeptReports(days: number): Promise<void> {
    await this.sql.query({ ...EXPIRE_KEPT_REPORTS, values: [days] });
  }

  async findSendingGateways(): Promise<Array<{ id: string; ratePerSecond: number }>> {
    const result = await this.sql.query<{ id: string; ratePerSecond: number }>(
      FIND_SENDING_GATEWAYS,
    );
    return result.rows;
  }

  async failOrphaned(): Promise<DeliveryChanged[]> {
    const result = await this.sql.query<DeliveryChanged>(FAIL_ORPHANED);
    return result.rows;
  }

  async findSenderGateway(phone: string): Promise<string | undefined> {
    const result = await this.requests.query<{ gatewayId: string }>({
      ...FIND_SENDER_GATEWAY,
      values: [phone],
    });
    return result.rows[0]?.gatewayId;
  }

  /** True when the message was failed and is queued again. */
  async requeue(uuid: string, gatewayId: string): Promise<boolean> {
    const result = await this.requests.query({ ...REQUEUE, values: [uuid, gatewayId] });
    return (result.rowCount ?? 0) > 0;
  }

  async queueState(): Promise<{ depth: number; oldestAgeSeconds: number }> {
    const result = await this.sql.query<{ depth: number; oldestAgeSeconds: number }>(QUEUE_STATE);
    return result.rows[0];
  }
}
