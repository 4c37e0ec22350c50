// The benchmark's same-sql floor: the seed contract on raw node:http + pg
// exactly as the seed floor (./contract.ts), but stored through the app's own
// compiled MessagesRepository on the app's own schema, so it runs the app's
// statements (thread summaries included) and nothing of the app's request
// stack. The app against this floor measures its framework and middleware;
// against the seed floor, everything.
//
//   PORT=3101 DATABASE_URL=<the app's migrated database> DB_POOL_SIZE=4 \
//   MESSAGES_REPOSITORY=<app build>/libs/messaging/src/messages.repository.js \
//   node dist/bench/baseline/same-sql-server.js
//
// The runner passes the repository of its app snapshot. Importing it loads
// what its module imports (@nestjs/common, and through @app/database TypeORM,
// @nestjs/config, the app's migrations and @app/common): start-up time and
// RSS, no work per request.
import { pathToFileURL } from 'node:url';
import type pg from 'pg';
import { type FloorEvent, floorPool, serveFloor, type WireMessage } from './contract.js';

/**
 * findConversation's result (`{messages, uuids}`, newest first, already in the
 * answer's shape) as the contract's messages, oldest first. If the repository changes what
 * it returns, this is the one function to adapt; it throws, rather than
 * answering wrong, when the rows lack the fields it reads, and the runner's
 * probe reports that answer.
 */
function toWireMessages(result: unknown): WireMessage[] {
  const rows = result as { messages?: WireMessage[]; uuids?: string[] } | undefined;
  const first = rows?.messages?.[0];
  if (
    !Array.isArray(rows?.messages) ||
    !Array.isArray(rows.uuids) ||
    (first !== undefined &&
      (typeof first.phone_number !== 'string' ||
        typeof first.message_text !== 'string' ||
        typeof first.timestamp !== 'number'))
  ) {
    throw new ShapeError(`findConversation returned ${describe(result)}`);
  }
  // Newest first, already in the answer's shape.
  return rows.messages.reverse();
}

/** recordEvents' result for one event as the contract's status. */
function toStatus(result: StoreResult | undefined, event: FloorEvent): 200 | 201 | 409 {
  switch (result?.outcome) {
    case 'created':
    case 'merged':
      return 201;
    case 'unchanged': {
      const { stored } = result;
      const identical =
        stored.senderPhone === event.senderPhone &&
        stored.receiverPhone === event.receiverPhone &&
        stored.text === event.text &&
        (event.kind === 'sent' ? stored.sentAt : stored.receivedAt) === event.timestamp;
      return identical ? 200 : 409;
    }
    default:
      throw new ShapeError(`recordEvents returned ${describe(result)}`);
  }
}

/** What the floor expects of the repository's methods (libs/messaging/src/messages.types.ts). */
type StoreResult =
  | { outcome: 'created' | 'merged' }
  | {
      outcome: 'unchanged';
      stored: {
        senderPhone: string;
        receiverPhone: string;
        text: string;
        sentAt: number | null;
        receivedAt: number | null;
      };
    };
interface MessagesRepository {
  recordEvents(events: readonly FloorEvent[]): Promise<StoreResult[]>;
  findConversation(party: string, limit: number): Promise<unknown>;
}

/** The app's `Sql` (libs/database/src/sql.ts), opaque here. */
type AppSql = object;

/** The repository no longer returns what the floor maps: answered as a 500 that says so. */
class ShapeError extends Error {}

function describe(value: unknown): string {
  const json = JSON.stringify(Array.isArray(value) ? value.slice(0, 1) : value) ?? String(value);
  return `${Array.isArray(value) ? `an array of ${value.length}, first ` : ''}${json.slice(0, 200)}`;
}

const modulePath = process.env.MESSAGES_REPOSITORY;
if (!modulePath) {
  throw new Error('MESSAGES_REPOSITORY: the path of the compiled messages.repository.js');
}
const { MessagesRepository } = (await import(pathToFileURL(modulePath).href)) as {
  MessagesRepository: new (primary: AppSql, reads: AppSql) => MessagesRepository;
};
// The app's own Sql over the floor's pool (named prepared statements, as the app runs them), from
// the same build as the repository: the primary's statements and the listings' (replicas in the
// app) both go to the one pool.
const { PoolSql } = (await import(
  new URL('../../database/src/sql.js', pathToFileURL(modulePath)).href
)) as { PoolSql: new (pool: pg.Pool, preparedStatements: boolean) => AppSql };
const pool = floorPool('sms-same-sql');
const sql = new PoolSql(pool, true);
const repository = new MessagesRepository(sql, sql);

serveFloor(
  'same-sql floor',
  {
    async record(event) {
      const [result] = await repository.recordEvents([event]);
      return toStatus(result, event);
    },
    async conversation(phone, limit) {
      return toWireMessages(await repository.findConversation(phone, limit));
    },
    failure(error) {
      if (!(error instanceof ShapeError)) return undefined;
      return {
        status: 500,
        body: {
          statusCode: 500,
          message: `${error.message}: adapt bench/baseline/same-sql-server.ts`,
        },
      };
    },
  },
  pool,
);
