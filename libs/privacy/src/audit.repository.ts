import { Inject, Injectable } from '@nestjs/common';
import { epochSeconds, PRIMARY_SQL, type Sql } from '@app/database';
import type { AuditAction, AuditActor } from './erasure-audit.entity.js';

/** An audit record as the listing reads it; times in unix seconds. */
export interface AuditRow {
  id: string;
  action: AuditAction;
  actor: AuditActor;
  keyId: string | null;
  phoneHash: string | null;
  messagesChanged: number;
  summariesChanged: number;
  startedAt: number;
  finishedAt: number | null;
}

/** Started at the database's clock, to the millisecond, so a cursor's time gives it back exactly. */
const START = {
  name: 'privacy_audit_start',
  text: `
    INSERT INTO erasure_audit (action, actor, key_id, phone_hash, started_at)
    VALUES ($1, $2, $3::uuid, $4, date_trunc('milliseconds', now()))
    RETURNING id::text AS id`,
};

const FINISH = {
  name: 'privacy_audit_finish',
  text: `UPDATE erasure_audit SET finished_at = now() WHERE id = $1::uuid`,
};

/** Newest first, before ($1, $2): a backward scan of IDX_erasure_audit_started. */
const LIST = {
  name: 'privacy_audit_list',
  text: `
    SELECT id::text AS id, action, actor, key_id::text AS "keyId", phone_hash AS "phoneHash",
           messages_changed AS "messagesChanged", summaries_changed AS "summariesChanged",
           ${epochSeconds('started_at')} AS "startedAt",
           ${epochSeconds('finished_at')} AS "finishedAt"
    FROM erasure_audit
    WHERE (started_at, id) < (to_timestamp($1), $2::uuid)
    ORDER BY started_at DESC, id DESC
    LIMIT $3`,
};

const COUNT = {
  name: 'privacy_audit_count',
  text: `
    UPDATE erasure_audit
      SET messages_changed = messages_changed + $2, summaries_changed = summaries_changed + $3
    WHERE id = $1::uuid`,
};

/** Adds a batch's changes to its record, inside the batch's transaction (`sql`). */
export async function countInAudit(
  sql: Sql,
  id: string,
  messages: number,
  summaries: number,
): Promise<void> {
  await sql.query({ ...COUNT, values: [id, messages, summaries] });
}

const AFTER_EVERYTHING = { time: Infinity, id: 'ffffffff-ffff-ffff-ffff-ffffffffffff' };

/** The audit records; their counts grow inside each batch's own transaction (see ErasureRepository). */
@Injectable()
export class AuditRepository {
  constructor(@Inject(PRIMARY_SQL) private readonly primary: Sql) {}

  async start(record: {
    action: AuditAction;
    actor: AuditActor;
    keyId: string | null;
    phoneHash: string | null;
  }): Promise<string> {
    const result = await this.primary.query<{ id: string }>({
      ...START,
      values: [record.action, record.actor, record.keyId, record.phoneHash],
    });
    return result.rows[0].id;
  }

  async finish(id: string): Promise<void> {
    await this.primary.query({ ...FINISH, values: [id] });
  }

  async list(limit: number, before = AFTER_EVERYTHING): Promise<AuditRow[]> {
    const result = await this.primary.query<AuditRow>({
      ...LIST,
      values: [before.time, before.id, limit],
    });
    return result.rows;
  }
}
