// What each index and trigger costs the app's sends and imports, on the
// PostgreSQL server at DATABASE_URL (default: this machine's, postgres@127.0.0.1:5432):
//
//   npm run bench:writes -- [--messages N] [--numbers N] [--seconds S] [--rounds R] [--clients C]
//                           [--variants all,search,...]
//
// One database is migrated by the app's own migrations and loaded with the
// benchmark's dataset (thread summaries included); each variant is a copy of
// it with one object dropped or one index setting changed. C clients then send with the app's own
// statement (`messages_record_event`, named and prepared as the app runs it)
// for S seconds per variant, then import with its batch statement
// (`messages_record_events`, 1000 events a call) as long, the variants in
// turn, R rounds. The figure is PostgreSQL's CPU per message (its processes'
// user + system time, read from /proc), with the messages per second next to
// it; the clients are on the same machine and cost the same in every variant.
// Each call's latency is kept too: a GIN index's pending list is merged by the
// insert that fills it, so its setting shows in the tail more than in the mean.
// The databases are dropped at the end.
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { loadDataset, phoneOf, randomPair, slotOffsets } from './lib/dataset.js';
import { percentile } from './lib/deliver.js';
import { median } from './lib/layers/harness.js';
import { postmasterOf, startSampler } from './lib/processes.js';

interface Statement {
  name: string;
  text: string;
}

const root = join(import.meta.dirname, '..', '..');
const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** What each variant changes in the migrated schema; `all` changes nothing. */
const VARIANTS: Record<string, { label: string; statements: string[] }> = {
  all: { label: 'the schema as it is', statements: [] },
  search: {
    label: 'without the search index',
    statements: ['DROP INDEX "IDX_messages_search"'],
  },
  changes: {
    label: 'without the two change indexes',
    statements: [
      'DROP INDEX "IDX_messages_sender_changes"',
      'DROP INDEX "IDX_messages_receiver_changes"',
    ],
  },
  thread: {
    label: 'without the thread index',
    statements: ['DROP INDEX "IDX_messages_thread_time"'],
  },
  'opt-out': {
    label: 'without the opt-out keyword index',
    statements: ['DROP INDEX "IDX_messages_opt_out_keywords"'],
  },
  'webhook-trigger': {
    label: 'without the webhook insert trigger',
    statements: ['DROP TRIGGER "TRG_messages_webhook_inserts" ON messages'],
  },
  'thread-list': {
    label: 'without the thread-list index',
    statements: ['DROP INDEX "IDX_conversations_owner_activity"'],
  },
  'search-4mb-list': {
    label: "the search index's pending list at 4 MB (PostgreSQL's default)",
    statements: ['ALTER INDEX "IDX_messages_search" SET (gin_pending_list_limit = 4096)'],
  },
  'search-no-list': {
    label: 'the search index without a pending list (fastupdate off)',
    statements: ['ALTER INDEX "IDX_messages_search" SET (fastupdate = off)'],
  },
};

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at === -1) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be an integer ≥ 1`);
  return value;
}

const messages = option('messages', 200_000);
const numbers = option('numbers', 10_000);
const seconds = option('seconds', 10);
const rounds = option('rounds', 2);
const clients = option('clients', 4);
const chosen = (() => {
  const at = process.argv.indexOf('--variants');
  if (at === -1) return Object.keys(VARIANTS);
  const names = (process.argv[at + 1] ?? '').split(',');
  const unknown = names.filter((name) => !(name in VARIANTS));
  if (unknown.length > 0 || !names.includes('all')) {
    throw new Error(`--variants takes 'all' and any of ${Object.keys(VARIANTS).join(', ')}`);
  }
  return names;
})();

const log = (message: string): void =>
  console.log(`[writes ${new Date().toISOString().slice(11, 19)}] ${message}`);

function databaseUrl(database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function run(database: string | undefined, statements: string[]): Promise<void> {
  const client = new pg.Client({
    connectionString: database === undefined ? serverUrl : databaseUrl(database),
  });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Per variant and round: messages per second, PostgreSQL's CPU per message, calls' latency. */
interface Measured {
  perSecond: number;
  postgresMsPerMessage: number;
  p50Ms: number;
  p99Ms: number;
}

/** One call's values for `size` messages, as the workload's statement takes them. */
type Values = (size: number, sequence: number) => unknown[];

const offsets = slotOffsets(numbers);

/** send-sms: the one-event statement's values. */
const oneEvent: Values = (_size, sequence) => {
  const [a, b] = randomPair(numbers, offsets);
  return [
    randomUUID(),
    phoneOf(a),
    phoneOf(b),
    `Bench send ${sequence}: on my way, see you in 5`,
    'GSM-7',
    1,
    Date.now() / 1000,
    'sent',
  ];
};

/** import: the batch statement's eight arrays of `size` events. */
const manyEvents: Values = (size, sequence) => {
  const columns: unknown[][] = Array.from({ length: 8 }, () => []);
  for (let i = 0; i < size; i += 1) {
    oneEvent(1, sequence + i).forEach((value, column) => columns[column].push(value));
  }
  return columns;
};

/** `clients` connections calling `statement` for `seconds`, `size` messages a call. */
async function measure(
  database: string,
  statement: Statement,
  values: Values,
  size: number,
): Promise<Measured> {
  const connections = await Promise.all(
    Array.from({ length: clients }, async () => {
      const client = new pg.Client({ connectionString: databaseUrl(database) });
      await client.connect();
      return client;
    }),
  );
  const { rows } = await connections[0].query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const sampler = startSampler(process.pid, postmasterOf(rows[0].pid));
  const deadline = Date.now() + seconds * 1000;
  let recorded = 0;
  const latencies: number[] = [];
  await Promise.all(
    connections.map(async (client) => {
      while (Date.now() < deadline) {
        const started = performance.now();
        await client.query({ ...statement, values: values(size, recorded) });
        latencies.push(performance.now() - started);
        recorded += size;
      }
    }),
  );
  const stats = sampler.stop();
  await Promise.all(connections.map((client) => client.end()));
  const postgres = stats.cpuSeconds.postgres ?? Number.NaN;
  latencies.sort((a, b) => a - b);
  return {
    perSecond: recorded / seconds,
    postgresMsPerMessage: (1000 * postgres) / recorded,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

async function main(): Promise<void> {
  const { WRITE_STATEMENTS } = (await import(
    pathToFileURL(join(root, 'dist/apps/api/libs/messaging/src/messages.repository.js')).href
  )) as { WRITE_STATEMENTS: { RECORD_EVENT: Statement; RECORD_EVENTS: Statement } };
  const workloads = [
    { name: 'send', statement: WRITE_STATEMENTS.RECORD_EVENT, values: oneEvent, size: 1 },
    { name: 'import', statement: WRITE_STATEMENTS.RECORD_EVENTS, values: manyEvents, size: 1000 },
  ];
  const template = `write_costs_${Date.now().toString(36)}`;
  const databases = chosen.map((_, index) => `${template}_${index}`);
  try {
    await run(undefined, [`CREATE DATABASE ${template}`]);
    const migrated = spawnSync(
      process.execPath,
      [
        join(root, 'node_modules/typeorm/cli.js'),
        'migration:run',
        '-d',
        join(root, 'dist/apps/api/libs/database/src/data-source.js'),
      ],
      { cwd: root, env: { ...process.env, DATABASE_URL: databaseUrl(template) }, stdio: 'pipe' },
    );
    if (migrated.status !== 0) throw new Error(`migrations failed: ${migrated.stderr.toString()}`);
    const client = new pg.Client({ connectionString: databaseUrl(template) });
    await client.connect();
    const loadSeconds = await loadDataset(
      client,
      { messages, numbers },
      { withSummaries: true, log },
    );
    await client.query('CHECKPOINT');
    await client.end();
    log(`${messages.toLocaleString('en-US')} messages loaded in ${loadSeconds.toFixed(0)} s`);

    for (const [index, name] of chosen.entries()) {
      await run(undefined, [`CREATE DATABASE ${databases[index]} TEMPLATE ${template}`]);
      await run(databases[index], VARIANTS[name].statements);
    }
    const results = new Map<string, Measured[]>();
    for (let round = 1; round <= rounds; round += 1) {
      // Alternate the order between rounds, so a drift of the machine favours none.
      const order = chosen.map((name, index) => ({ name, index }));
      if (round % 2 === 0) order.reverse();
      for (const { name, index } of order) {
        for (const workload of workloads) {
          const result = await measure(
            databases[index],
            workload.statement,
            workload.values,
            workload.size,
          );
          const key = `${workload.name}: ${name}`;
          (results.get(key) ?? results.set(key, []).get(key)!).push(result);
          log(
            `round ${round}, ${key}: ${result.perSecond.toFixed(0)} messages/s, ` +
              `PostgreSQL ${(1000 * result.postgresMsPerMessage).toFixed(0)} µs per message, ` +
              `call p50 ${result.p50Ms.toFixed(2)} ms p99 ${result.p99Ms.toFixed(2)} ms`,
          );
        }
      }
    }

    console.log(
      `\n${messages.toLocaleString('en-US')} messages, ${clients} clients, ` +
        `${seconds} s × ${rounds} rounds per workload and variant, medians:\n`,
    );
    console.log(
      '| workload | variant | messages/s | PostgreSQL µs per message | saving per message | call p50 ms | call p99 ms |',
    );
    console.log('|---|---|--:|--:|--:|--:|--:|');
    for (const { name: workload } of workloads) {
      const runsOf = (variant: string): Measured[] => results.get(`${workload}: ${variant}`)!;
      const perMessage = (variant: string): number =>
        1000 * median(runsOf(variant).map((r) => r.postgresMsPerMessage));
      for (const variant of chosen) {
        const cost =
          variant === 'all' ? '—' : `${(perMessage('all') - perMessage(variant)).toFixed(0)} µs`;
        const runs = runsOf(variant);
        const rate = median(runs.map((r) => r.perSecond));
        const p50 = median(runs.map((r) => r.p50Ms)).toFixed(2);
        const p99 = median(runs.map((r) => r.p99Ms)).toFixed(2);
        console.log(
          `| ${workload} | ${VARIANTS[variant].label} | ${rate.toFixed(0)} | ` +
            `${perMessage(variant).toFixed(0)} | ${cost} | ${p50} | ${p99} |`,
        );
      }
    }
  } finally {
    for (const database of [...databases, template]) {
      await run(undefined, [`DROP DATABASE IF EXISTS ${database}`]).catch(() => undefined);
    }
  }
}

await main();
