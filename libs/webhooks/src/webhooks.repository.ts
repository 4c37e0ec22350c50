import { Inject, Injectable } from '@nestjs/common';
import { epochSeconds, PRIMARY_SQL, type Sql } from '@app/database';
import type { WebhookEventType } from './webhook-event-types.js';

/** A webhook as stored, secret still sealed. */
export interface WebhookRow {
  id: string;
  url: string;
  events: WebhookEventType[];
  phones: string[] | null;
  secretKeyId: string;
  secretSealed: Buffer;
  createdBy: string;
  enabled: boolean;
  disabledAt: Date | null;
  disabledReason: string | null;
  failingSince: Date | null;
  createdAt: Date;
}

export type NewWebhook = Pick<
  WebhookRow,
  'id' | 'url' | 'events' | 'phones' | 'secretKeyId' | 'secretSealed' | 'createdBy'
>;

/** One attempt, as the deliveries list shows it. */
export interface DeliveryRow {
  id: string;
  eventId: string;
  type: WebhookEventType;
  messageUuid: string;
  attemptedAt: Date;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  accepted: boolean;
}

/** An event a worker claimed, with what its change left. */
export interface ClaimedEvent {
  row: string;
  eventId: string;
  webhookId: string;
  url: string;
  secretKeyId: string;
  secretSealed: Buffer;
  type: WebhookEventType;
  messageUuid: string;
  viewer: string;
  sentAt: number | null;
  receivedAt: number | null;
  deliveryStatus: string | null;
  occurredAt: Date;
  attempts: number;
}

/** The result of one attempt, to store. */
export interface SettledAttempt {
  row: string;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
}

const WEBHOOK_COLUMNS = `
  id::text AS id, url, events, phones, secret_key_id AS "secretKeyId",
  secret_sealed AS "secretSealed", created_by AS "createdBy", enabled,
  disabled_at AS "disabledAt", disabled_reason AS "disabledReason",
  failing_since AS "failingSince", created_at AS "createdAt"`;

const INSERT_WEBHOOK = {
  name: 'webhooks_insert',
  text: `
    INSERT INTO webhooks (id, url, events, phones, secret_key_id, secret_sealed, created_by)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
    RETURNING ${WEBHOOK_COLUMNS}`,
};

/** Every webhook, or ($1) only those whose numbers are all among these. */
const FIND_WEBHOOKS = {
  name: 'webhooks_find',
  text: `
    SELECT ${WEBHOOK_COLUMNS} FROM webhooks
    WHERE $1::varchar[] IS NULL OR phones <@ $1::varchar[]
    ORDER BY created_at, id`,
};

const FIND_WEBHOOK = {
  name: 'webhooks_find_one',
  text: `SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1`,
};

const COUNT_CREATED_BY = {
  name: 'webhooks_count_created_by',
  text: `SELECT count(*)::int AS count FROM webhooks WHERE created_by = $1`,
};

/** PostgreSQL's SQLSTATE for a statement it rolled back to break a deadlock. */
const DEADLOCK_DETECTED = '40P01';
const DELETE_ATTEMPTS = 3;

const DELETE_WEBHOOK = {
  name: 'webhooks_delete',
  text: `DELETE FROM webhooks WHERE id = $1`,
};

const FIND_DELIVERIES = {
  name: 'webhooks_find_deliveries',
  text: `
    SELECT id::text AS id, event_id::text AS "eventId", type, message_uuid::text AS "messageUuid",
           attempted_at AS "attemptedAt", status_code AS "statusCode", latency_ms AS "latencyMs",
           error, accepted
    FROM webhook_deliveries WHERE webhook_id = $1
    ORDER BY id DESC LIMIT $2`,
};

/**
 * Puts the event of delivery $2 (of webhook $1) back in the queue, due now,
 * with a new 24 hours of retries; an event being delivered right now is left
 * alone. `found` tells whether the delivery exists, `state` where its event
 * stands now (null: no longer kept).
 */
const REDELIVER = {
  name: 'webhooks_redeliver',
  text: `
    WITH d AS (
      SELECT event_row FROM webhook_deliveries WHERE id = $2::int8 AND webhook_id = $1
    ),
    requeued AS (
      UPDATE webhook_events AS e
        SET state = 'pending', next_attempt_at = now(), queued_at = now(), finished_at = NULL
      FROM d WHERE e.id = d.event_row AND e.state <> 'delivering'
      RETURNING e.event_id::text AS "eventId", e.state
    )
    SELECT (SELECT count(*) FROM d)::int AS found,
           COALESCE((SELECT "eventId" FROM requeued),
                    (SELECT e.event_id::text FROM webhook_events AS e JOIN d ON e.id = d.event_row)) AS "eventId",
           COALESCE((SELECT state FROM requeued),
                    (SELECT e.state FROM webhook_events AS e JOIN d ON e.id = d.event_row)) AS state`,
};

/**
 * Claims up to $1 due events for one worker, at most $3 per webhook, none of
 * the webhooks in $2 (those this worker already keeps busy). An event waits
 * while an earlier one of its message and webhook is open: that is the order
 * per message. SKIP LOCKED keeps workers off each other's rows; the lease
 * ($4 ms) returns an event to the queue if its worker dies. The order check
 * is a scalar subquery, not a NOT EXISTS: as an anti-join, the prepared
 * statement's generic plan scanned every open event of the webhook for each
 * candidate (358 ms per claim with 17k open events, against 3 ms).
 */
const CLAIM = {
  name: 'webhooks_claim',
  text: `
    WITH due AS (
      SELECT e.id FROM webhooks AS w
      CROSS JOIN LATERAL (
        SELECT e.id FROM webhook_events AS e
        WHERE e.webhook_id = w.id AND e.state = 'pending' AND e.next_attempt_at <= now()
          AND NOT (SELECT EXISTS (
            SELECT 1 FROM webhook_events AS p
            WHERE p.webhook_id = e.webhook_id AND p.message_uuid = e.message_uuid
              AND p.id < e.id AND p.state IN ('pending', 'delivering')))
        ORDER BY e.next_attempt_at, e.id
        LIMIT $3
        FOR UPDATE SKIP LOCKED
      ) AS e
      WHERE w.enabled AND w.id <> ALL ($2::uuid[])
      LIMIT $1
    )
    UPDATE webhook_events AS e
      SET state = 'delivering', attempts = e.attempts + 1,
          lease_until = now() + $4::int * interval '1 millisecond'
    FROM due, webhooks AS w
    WHERE e.id = due.id AND w.id = e.webhook_id
    RETURNING e.id::text AS "row", e.event_id::text AS "eventId", e.webhook_id::text AS "webhookId",
              w.url, w.secret_key_id AS "secretKeyId", w.secret_sealed AS "secretSealed",
              e.type, e.message_uuid::text AS "messageUuid", e.viewer,
              ${epochSeconds('e.sent_at')} AS "sentAt",
              ${epochSeconds('e.received_at')} AS "receivedAt",
              e.delivery_status AS "deliveryStatus", e.occurred_at AS "occurredAt", e.attempts`,
};

/** The attempt's record; shared by every settling statement, after its `e` (the event). */
const RECORD_ATTEMPT = `
    d AS (
      INSERT INTO webhook_deliveries
        (webhook_id, event_row, event_id, type, message_uuid, status_code, latency_ms, error, accepted)
      SELECT webhook_id, id, event_id, type, message_uuid, $2::int2, $3::int4, $4::varchar, $4::varchar IS NULL FROM e
    )`;

/**
 * These events ($1, with status $2 and $3 ms each) were accepted: delivered,
 * their attempts recorded, and their webhooks work again. One statement, one
 * commit, for a batch of answers.
 */
const SETTLE_ACCEPTED = {
  name: 'webhooks_settle_accepted',
  text: `
    WITH input AS (
      SELECT * FROM unnest($1::int8[], $2::int2[], $3::int4[]) AS t(id, status_code, latency_ms)
    ),
    e AS (
      UPDATE webhook_events AS ev
        SET state = 'delivered', lease_until = NULL, finished_at = now()
      FROM input WHERE ev.id = input.id AND ev.state = 'delivering'
      RETURNING ev.id, ev.webhook_id, ev.event_id, ev.type, ev.message_uuid,
                input.status_code, input.latency_ms
    ),
    d AS (
      INSERT INTO webhook_deliveries
        (webhook_id, event_row, event_id, type, message_uuid, status_code, latency_ms, error, accepted)
      SELECT webhook_id, id, event_id, type, message_uuid, status_code, latency_ms, NULL, true
      FROM e ORDER BY id
    )
    UPDATE webhooks SET failing_since = NULL
    WHERE id IN (SELECT webhook_id FROM e) AND failing_since IS NOT NULL`,
};

/** Claimed events this worker will not send after all (it is stopping): back to the queue. */
const RELEASE = {
  name: 'webhooks_release',
  text: `
    UPDATE webhook_events SET state = 'pending', lease_until = NULL, attempts = attempts - 1
    WHERE id = ANY($1::int8[]) AND state = 'delivering'`,
};

/**
 * $1 failed ($2, $3 ms, $4 why): again in $5 ms, unless that is past its 24
 * hours of retries ($6 ms after queued_at), then failed. The webhook has been
 * failing since its first failure after the last accepted attempt; past $7 ms
 * of that, or at once when the receiver said 410 Gone ($8), it is disabled
 * with the reason. Returns the webhook's reason when this disabled it.
 */
const SETTLE_FAILED = {
  name: 'webhooks_settle_failed',
  text: `
    WITH e AS (
      UPDATE webhook_events AS ev
        SET state = CASE WHEN ev.queued_at + $6::int8 * interval '1 millisecond'
                              < now() + $5::int8 * interval '1 millisecond'
                         THEN 'failed' ELSE 'pending' END,
            next_attempt_at = now() + $5::int8 * interval '1 millisecond',
            finished_at = CASE WHEN ev.queued_at + $6::int8 * interval '1 millisecond'
                                    < now() + $5::int8 * interval '1 millisecond'
                               THEN now() END,
            lease_until = NULL
      WHERE id = $1::int8 AND state = 'delivering'
      RETURNING id, webhook_id, event_id, type, message_uuid, state
    ),
    ${RECORD_ATTEMPT},
    judged AS (
      SELECT w.id, w.enabled AND ($8::boolean
               OR COALESCE(w.failing_since, now()) <= now() - $7::int8 * interval '1 millisecond') AS disable,
             COALESCE(w.failing_since, now()) AS failing_since
      FROM webhooks AS w WHERE w.id = (SELECT webhook_id FROM e)
    )
    UPDATE webhooks AS w
      SET failing_since = judged.failing_since,
          enabled = w.enabled AND NOT judged.disable,
          disabled_at = CASE WHEN judged.disable THEN now() ELSE w.disabled_at END,
          disabled_reason = CASE
            WHEN NOT judged.disable THEN w.disabled_reason
            WHEN $8::boolean THEN 'The receiver answered 410 Gone'
            ELSE 'Every attempt failed since ' || to_char(judged.failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                 || '; the last: ' || left($4::varchar, 300)
          END
    FROM judged WHERE w.id = judged.id
    RETURNING CASE WHEN judged.disable THEN w.disabled_reason END AS "disabledReason",
              (SELECT state FROM e) AS state`,
};

/** $1 cannot be delivered ($4 why): failed, without counting against its webhook. */
const DROP_EVENT = {
  name: 'webhooks_drop_event',
  text: `
    WITH e AS (
      UPDATE webhook_events SET state = 'failed', lease_until = NULL, finished_at = now()
      WHERE id = $1::int8 AND state = 'delivering'
      RETURNING id, webhook_id, event_id, type, message_uuid
    ),
    ${RECORD_ATTEMPT}
    SELECT count(*) FROM e`,
};

/** Events whose worker died mid-attempt ($1 at a time): back to the queue, at least once. */
const RECOVER_EXPIRED = {
  name: 'webhooks_recover_expired',
  text: `
    UPDATE webhook_events SET state = 'pending', lease_until = NULL
    WHERE id = ANY(ARRAY(
      SELECT id FROM webhook_events WHERE state = 'delivering' AND lease_until < now()
      LIMIT $1 FOR UPDATE SKIP LOCKED))`,
};

/** Finished events older than $1 ms, $2 at a time; redelivery needs them until then. */
const PRUNE_EVENTS = {
  name: 'webhooks_prune_events',
  text: `
    DELETE FROM webhook_events
    WHERE id = ANY(ARRAY(
      SELECT id FROM webhook_events
      WHERE state IN ('delivered', 'failed') AND finished_at < now() - $1::int8 * interval '1 millisecond'
      LIMIT $2))`,
};

/** Each webhook keeps its last $1 attempts. */
const PRUNE_DELIVERIES = {
  name: 'webhooks_prune_deliveries',
  text: `
    DELETE FROM webhook_deliveries AS d
    USING (
      SELECT w.id, (SELECT x.id FROM webhook_deliveries AS x WHERE x.webhook_id = w.id
                    ORDER BY x.id DESC OFFSET $1 LIMIT 1) AS cutoff
      FROM webhooks AS w
    ) AS c
    WHERE d.webhook_id = c.id AND d.id <= c.cutoff`,
};

/** The queue over every instance: events not yet delivered, and the oldest one's age. */
const QUEUE_STATE = {
  name: 'webhooks_queue_state',
  text: `
    SELECT count(*)::int AS depth,
           COALESCE(extract(epoch FROM now() - min(occurred_at)), 0)::float8 AS "oldestAgeSeconds"
    FROM webhook_events WHERE state IN ('pending', 'delivering')`,
};

/** Webhooks, their queue and their attempts. */
@Injectable()
export class WebhooksRepository {
  constructor(@Inject(PRIMARY_SQL) private readonly sql: Sql) {}

  async insert(webhook: NewWebhook): Promise<WebhookRow> {
    const result = await this.sql.query<WebhookRow>({
      ...INSERT_WEBHOOK,
      values: [
        webhook.id,
        webhook.url,
        webhook.events,
        webhook.phones,
        webhook.secretKeyId,
        webhook.secretSealed,
        webhook.createdBy,
      ],
    });
    return result.rows[0];
  }

  /** Every webhook, or only those within `phones`. */
  async find(within?: readonly string[]): Promise<WebhookRow[]> {
    const result = await this.sql.query<WebhookRow>({
      ...FIND_WEBHOOKS,
      values: [within ? [...within] : null],
    });
    return result.rows;
  }

  async findOne(id: string): Promise<WebhookRow | undefined> {
    const result = await this.sql.query<WebhookRow>({ ...FIND_WEBHOOK, values: [id] });
    return result.rows[0];
  }

  async countCreatedBy(createdBy: string): Promise<number> {
    const result = await this.sql.query<{ count: number }>({
      ...COUNT_CREATED_BY,
      values: [createdBy],
    });
    return result.rows[0].count;
  }

  /**
   * The deletion cascades to the webhook's events, which a worker's settling
   * statement may hold while it waits for the webhook's row (to record the
   * attempts): PostgreSQL then aborts one of the two as a deadlock. Either
   * statement is safe to run again, and this one is run again here.
   */
  async delete(id: string): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.sql.query({ ...DELETE_WEBHOOK, values: [id] });
        return;
      } catch (error) {
        const deadlock = (error as { code?: unknown }).code === DEADLOCK_DETECTED;
        if (!deadlock || attempt >= DELETE_ATTEMPTS) throw error;
      }
    }
  }

  async findDeliveries(webhookId: string, limit: number): Promise<DeliveryRow[]> {
    const result = await this.sql.query<DeliveryRow>({
      ...FIND_DELIVERIES,
      values: [webhookId, limit],
    });
    return result.rows;
  }

  async redeliver(
    webhookId: string,
    deliveryId: string,
  ): Promise<{ found: boolean; eventId: string | null; state: string | null }> {
    const result = await this.sql.query<{ found: number; eventId: string | null; state: string }>({
      ...REDELIVER,
      values: [webhookId, deliveryId],
    });
    const [row] = result.rows;
    return { found: row.found > 0, eventId: row.eventId, state: row.state };
  }

  async claim(
    limit: number,
    busyWebhooks: readonly string[],
    perWebhook: number,
    leaseMs: number,
  ): Promise<ClaimedEvent[]> {
    const result = await this.sql.query<ClaimedEvent>({
      ...CLAIM,
      values: [limit, busyWebhooks, perWebhook, leaseMs],
    });
    return result.rows;
  }

  async settleAccepted(attempts: readonly SettledAttempt[]): Promise<void> {
    await this.sql.query({
      ...SETTLE_ACCEPTED,
      values: [
        attempts.map((attempt) => attempt.row),
        attempts.map((attempt) => attempt.statusCode),
        attempts.map((attempt) => attempt.latencyMs),
      ],
    });
  }

  async release(rows: readonly string[]): Promise<void> {
    if (rows.length > 0) await this.sql.query({ ...RELEASE, values: [rows] });
  }

  /** Whether the event will be tried again, and the reason when this failure disabled the webhook. */
  async settleFailed(
    attempt: SettledAttempt,
    retry: { delayMs: number; windowMs: number; disableAfterMs: number; gone: boolean },
  ): Promise<{ givenUp: boolean; disabledReason?: string }> {
    const result = await this.sql.query<{ disabledReason: string | null; state: string }>({
      ...SETTLE_FAILED,
      values: [
        attempt.row,
        attempt.statusCode,
        attempt.latencyMs,
        attempt.error ?? 'failed',
        Math.round(retry.delayMs),
        retry.windowMs,
        retry.disableAfterMs,
        retry.gone,
      ],
    });
    const [row] = result.rows;
    return { givenUp: row?.state === 'failed', disabledReason: row?.disabledReason ?? undefined };
  }

  async drop(row: string, reason: string): Promise<void> {
    await this.sql.query({ ...DROP_EVENT, values: [row, null, 0, reason] });
  }

  async recoverExpired(limit: number): Promise<number> {
    const result = await this.sql.query({ ...RECOVER_EXPIRED, values: [limit] });
    return result.rowCount ?? 0;
  }

  async pruneEvents(olderThanMs: number, limit: number): Promise<number> {
    const result = await this.sql.query({ ...PRUNE_EVENTS, values: [olderThanMs, limit] });
    return result.rowCount ?? 0;
  }

  async pruneDeliveries(keep: number): Promise<void> {
    await this.sql.query({ ...PRUNE_DELIVERIES, values: [keep] });
  }

  async queueState(): Promise<{ depth: number; oldestAgeSeconds: number }> {
    const result = await this.sql.query<{ depth: number; oldestAgeSeconds: number }>(QUEUE_STATE);
    return result.rows[0];
  }
}
