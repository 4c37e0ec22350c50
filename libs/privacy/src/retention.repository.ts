import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import pg, { type ClientConfig } from 'pg';
import { databaseConfig, SESSION_CONNECTION } from '@app/database';
import { countInAudit } from './audit.repository.js';
import { type LeavingMessage, takeFromSummaries } from './summaries.js';
import { inTransaction } from './transaction.js';

/** Any 64-bit constant; the same for every instance (the migrations' lock is another). */
const RETENTION_LOCK_KEY = 7_366_120_452;
/** A batch may have to scan far for old rows (no index on time alone), so longer than a request's statements. */
const RETENTION_STATEMENT_TIMEOUT_MS = 300_000;

const CUTOFF = {
  name: 'privacy_retention_cutoff',
  text: `SELECT (now() - $1::int * interval '1 day')::text AS cutoff`,
};

/** Up to $2 messages older than $1, deleted (their delivery jobs go with them: ON DELETE CASCADE). */
const DELETE_OLD = {
  name: 'privacy_retention_delete',
  text: `
    WITH old AS (
      SELECT uuid FROM messages WHERE occurred_at < $1::timestamptz LIMIT $2
    )
    DELETE FROM messages AS m USING old
    WHERE m.uuid = old.uuid AND m.occurred_at < $1::timestamptz
    RETURNING m.uuid::text AS uuid, m.sender_phone AS "senderPhone", m.receiver_phone AS "receiverPhone"`,
};

export interface DeletedBatch {
  messages: number;
  summaries: number;
}

/** A retention run's work, on the connection that holds the lock. */
export interface RetentionSession {
  /** The database clock's time `days` days ago. */
  cutoff(days: number): Promise<string>;
  /** Deletes up to `limit` messages older than `cutoff`, correcting their summaries, in one transaction. */
  deleteBatch(cutoff: string, limit: number, auditId: string): Promise<DeletedBatch>;
}

/**
 * Retention's storage. A run holds a session-level advisory lock on a
 * connection of its own (DATABASE_SESSION_URL when set: a transaction-mode
 * pooler would hand the lock's session to others) and deletes over that same
 * connection, so when it dies the lock and the work stop together.
 */
@Injectable()
export class RetentionRepository {
  constructor(
    @Inject(SESSION_CONNECTION) private readonly connection: ClientConfig,
    @Inject(databaseConfig.KEY) private readonly database: ConfigType<typeof databaseConfig>,
  ) {}

  /** `work` under the retention lock; `undefined`, without running it, when another instance holds it. */
  async withLock<T>(work: (session: RetentionSession) => Promise<T>): Promise<T | undefined> {
    const client = new pg.Client({
      ...this.connection,
      application_name: 'sms-service-retention',
      statement_timeout: RETENTION_STATEMENT_TIMEOUT_MS,
    });
    // A connection lost mid-run fails the statement in progress; this keeps the
    // client's own 'error' event from ending the process.
    client.on('error', () => undefined);
    await client.connect();
    try {
      const locked = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock($1) AS locked',
        [RETENTION_LOCK_KEY],
      );
      if (!locked.rows[0].locked) return undefined;
      return await work(this.session(client));
    } finally {
      // Ending the session releases the lock, whatever state it was left in.
      await client.end().catch(() => undefined);
    }
  }

  private session(client: pg.Client): RetentionSession {
    const prepared = this.database.preparedStatements;
    return {
      cutoff: async (days) => {
        const result = await client.query<{ cutoff: string }>(
          prepared ? { ...CUTOFF, values: [days] } : { text: CUTOFF.text, values: [days] },
        );
        return result.rows[0].cutoff;
      },
      deleteBatch: (cutoff, limit, auditId) =>
        inTransaction(client, prepared, async (sql) => {
          const deleted = await sql.query<LeavingMessage>({
            ...DELETE_OLD,
            values: [cutoff, limit],
          });
          const changes = await takeFromSummaries(sql, deleted.rows);
          const summaries = changes.filter((change) => change.gone).length;
          await countInAudit(sql, auditId, deleted.rows.length, summaries);
          return { messages: deleted.rows.length, summaries };
        }),
    };
  }
}
