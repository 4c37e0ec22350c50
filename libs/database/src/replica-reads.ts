import { Logger } from '@nestjs/common';
import pg, { type QueryResult, type QueryResultRow } from 'pg';
import { isDatabaseUnavailable, isRecoveryConflict } from '@app/common';
import type { RowMapper } from './mapped-rows.js';
import { PoolSql, type Sql, type Statement } from './sql.js';

/** How often a replica that failed is tried again, and the probe's own limit. */
const RECHECK_INTERVAL_MS = 1_000;
const PROBE_TIMEOUT_MS = 1_000;

/**
 * How long the replica is behind: 0 when it has replayed all it received, and
 * 0 for a server not in recovery (a promoted replica, or a primary listed as
 * one). The first test matters: a server that went through crash recovery
 * keeps the replay position it reached, with no receive position and no
 * replay timestamp, so only the second test would call its lag unknown.
 */
const REPLICA_LAG = `SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
    ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())
  END::float8 AS "lagSeconds"`;

export interface ReplicaState {
  /** host:port/database, without credentials. */
  name: string;
  /** False while its reads go to the primary. */
  serving: boolean;
  /** Replay lag in seconds, when it answered. */
  lagSeconds?: number;
  /** Why it is not serving. */
  reason?: string;
}

export interface ReplicaSettings {
  url: string;
  poolSize: number;
  statementTimeoutMs: number;
  preparedStatements: boolean;
}

/** One read replica: its pool, and whether reads go to it. */
class Replica {
  readonly name: string;
  readonly sql: PoolSql;
  serving = true;
  reason?: string;
  private recheck?: NodeJS.Timeout;

  constructor(
    settings: ReplicaSettings,
    private readonly logger: Logger,
  ) {
    const url = new URL(settings.url);
    this.name = `${url.hostname}:${url.port || 5432}${url.pathname}`;
    const pool = new pg.Pool({
      connectionString: settings.url,
      max: settings.poolSize,
      statement_timeout: settings.statementTimeoutMs,
      // A replica that does not answer must not hold a read: the primary can take it.
      connectionTimeoutMillis: 2_000,
      idleTimeoutMillis: 30_000,
      application_name: 'sms-service-reads',
    });
    // An idle client whose server went away emits 'error' on the pool; unhandled, it would crash.
    pool.on('error', (error) => this.markDown(error));
    this.sql = new PoolSql(pool, settings.preparedStatements);
  }

  markDown(error: unknown): void {
    const reason = error instanceof Error ? error.message || error.name : String(error);
    if (this.serving) {
      this.logger.warn(`Replica ${this.name} failed (${reason}); its reads go to the primary`);
    }
    this.serving = false;
    this.reason = reason;
    this.recheck ??= setInterval(() => void this.probe(), RECHECK_INTERVAL_MS).unref();
  }

  /** The replica's lag, or the reason it does not answer. */
  async state(): Promise<ReplicaState> {
    if (!this.serving) return { name: this.name, serving: false, reason: this.reason };
    try {
      const lagSeconds = await this.lag();
      return { name: this.name, serving: true, lagSeconds };
    } catch (error) {
      this.markDown(error);
      return { name: this.name, serving: false, reason: this.reason };
    }
  }

  async close(): Promise<void> {
    clearInterval(this.recheck);
    await this.sql.pool.end().catch(() => undefined);
  }

  private async probe(): Promise<void> {
    try {
      await this.lag();
    } catch (error) {
      this.reason = error instanceof Error ? error.message : String(error);
      return;
    }
    clearInterval(this.recheck);
    this.recheck = undefined;
    this.serving = true;
    this.reason = undefined;
    this.logger.log(`Replica ${this.name} answers again; reads go to it`);
  }

  private async lag(): Promise<number> {
    const result = await withTimeout(
      this.sql.query<{ lagSeconds: number }>(REPLICA_LAG),
      PROBE_TIMEOUT_MS,
    );
    return result.rows[0].lagSeconds;
  }
}

/**
 * Reads that may be a little behind the primary: spread round-robin over the
 * replicas that serve. A read whose replica fails (unreachable, shutting down,
 * cancelled by recovery) is run again at once on the primary, within the same
 * request, so a lost replica costs its callers no error; the replica is tried
 * again every second and serves again as soon as it answers. With no
 * replicas, every read goes to the primary.
 */
export class ReplicaReads implements Sql {
  private readonly logger = new Logger('Database');
  private readonly replicas: Replica[];
  private next = 0;

  constructor(
    private readonly primary: Sql,
    replicas: readonly ReplicaSettings[],
  ) {
    this.replicas = replicas.map((settings) => new Replica(settings, this.logger));
  }

  get hasReplicas(): boolean {
    return this.replicas.length > 0;
  }

  query<R extends QueryResultRow = QueryResultRow>(
    statement: Statement | string,
    values?: unknown[],
  ): Promise<QueryResult<R>> {
    const replica = this.pick();
    if (!replica) return this.primary.query<R>(statement, values);
    return replica.sql.query<R>(statement, values).catch((error: unknown) => {
      if (!isDatabaseUnavailable(error) && !isRecoveryConflict(error)) throw error;
      replica.markDown(error);
      return this.primary.query<R>(statement, values);
    });
  }

  mapRows<Row extends unknown[], T>(
    statement: Statement,
    values: unknown[],
    mapRow: RowMapper<Row, T>,
  ): Promise<T[]> {
    const replica = this.pick();
    if (!replica) return this.primary.mapRows(statement, values, mapRow);
    return replica.sql.mapRows(statement, values, mapRow).catch((error: unknown) => {
      if (!isDatabaseUnavailable(error) && !isRecoveryConflict(error)) throw error;
      replica.markDown(error);
      return this.primary.mapRows(statement, values, mapRow);
    });
  }

  /** Each replica's state, for readiness. */
  states(): Promise<ReplicaState[]> {
    return Promise.all(this.replicas.map((replica) => replica.state()));
  }

  async close(): Promise<void> {
    await Promise.all(this.replicas.map((replica) => replica.close()));
  }

  private pick(): Replica | undefined {
    const count = this.replicas.length;
    for (let tried = 0; tried < count; tried += 1) {
      const replica = this.replicas[this.next];
      this.next = (this.next + 1) % count;
      if (replica.serving) return replica;
    }
    return undefined;
  }
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
