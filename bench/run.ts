// The benchmark: the built app (Express and Fastify) against two raw
// node:http + pg floors (bench/baseline: `seed` on the seed schema, `same-sql`
// through the app's own repository on the app's schema), on one PostgreSQL
// server, with autocannon as the load generator in this process while the
// servers run as child processes. See bench/README.md. `npm run bench` builds
// the app and this script (to dist/bench) first.
import autocannon, { type AutocannonResult } from 'autocannon';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { type Dataset, loadDataset, phoneOf } from './lib/dataset.js';
import { analyzeDeliveries, type SentMessage } from './lib/deliver.js';
import {
  freePort,
  type ProcessStats,
  postmasterOf,
  readCpuSeconds,
  rssMb,
  type RunningProcess,
  startNodeProcess,
  startProdNodeFlags,
  startSampler,
  waitForQuietMachine,
  waitUntilIdle,
} from './lib/processes.js';
import { chartInputFromReport, renderChart } from './lib/chart.js';
import {
  type Combined,
  type CpuPerRequest,
  cpuTable,
  type DeliverRow,
  deliverTable,
  type Floor,
  type FloorResult,
  FLOORS,
  type FlatnessRow,
  flatnessTable,
  judge,
  judgeDeliver,
  type Platform,
  resultsTable,
  type Row,
  sizeLabel,
  TARGETS,
} from './lib/report.js';
import {
  deliverRequests,
  type HttpScenarioName,
  IMPORT_BATCH,
  type Probe,
  probeScenario,
  SCENARIO_ORDER,
  SCENARIOS,
  type ScenarioName,
  scenarioRequests,
} from './lib/scenarios.js';
import { type SmscReceipts, startSmscProcess, transpileTestSmsc } from './lib/smsc-process.js';
import {
  type CpuProfile,
  formatSummary,
  type ProfileSummary,
  summarizeProfile,
} from './profile-summary.js';

/** This file's folder once compiled (dist/bench); the sources and results stay in bench/. */
const COMPILED_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = findRoot(COMPILED_DIR);
const BENCH_DIR = join(ROOT, 'bench');
const BUILT_APP = join(ROOT, 'dist/apps/api');
const RESULTS_DIR = join(BENCH_DIR, 'results');
const PLATFORMS: Platform[] = ['express', 'fastify'];
/** The scenarios of one server under autocannon, next to the floors; deliver has its own runs. */
const HTTP_SCENARIOS = SCENARIO_ORDER.filter(
  (scenario): scenario is HttpScenarioName => scenario !== 'deliver',
);

const HELP = `npm run bench -- [options]

  --messages N        messages in the dataset (default 1,000,000)
  --sizes LIST        run everything at each of these dataset sizes, e.g.
                      200000,1000000, each in fresh databases, smallest first
                      (default: --messages)
  --numbers N         phone numbers they are spread over (default 10,000)
  --duration S        seconds measured per run (default 10)
  --warmup S          seconds of load before each measured run (default 2)
  --connections N     concurrent connections (default 64)
  --import-connections N
                      concurrent connections for import (default 8: each request
                      carries 1000 events, and with 64 of them in flight a run
                      would last about as long as one response)
  --rounds N          measured runs per scenario and platform, in ABBA order
                      with their floors' runs (default 2)
  --platforms LIST    express,fastify (default both)
  --scenarios LIST    ${SCENARIO_ORDER.join(',')} (default all)
  --pool-size N       DB_POOL_SIZE of the app, and the floors' pools (default 4)
  --floors LIST       seed,same-sql (default both)
  --skip-baseline     measure the app only (no floors)
  --app-env LIST      extra environment for the app, e.g. THROTTLE_TTL_MS=1000,LOG_LEVEL=warn
  --flatness          also read-conversation (and search) at messages/10 over numbers/10 vs the full
                      dataset (the largest of --sizes)
  --profile           also profile (--cpu-prof) the app and the floors, in separate runs
                      (at the largest of --sizes)
  --profile-scenarios LIST
                      what --profile runs (default read-conversation,send)
  --quick             smoke check: 50,000 messages over 1,000 numbers, 1 s warm-up, 3 s runs, 1 round
  --quiet-wait S      before each run, wait up to S seconds for a second in which
                      the machine is under 25% busy (default 10; 0: don't wait)
  --max-minutes N     start no new run after this long (default 40 per dataset size)
  --chart             also write bench/chart.svg after a --quick or partial run (a run of
                      every scenario, platform and floor without --app-env always does)
  --deliver-receipts delivered|undeliverable|none
                      deliver: the receipts the SMSC sends for each submit_sm (default
                      delivered, as a real SMSC does; the app stores each one)
  --deliver-instances N
                      deliver: app instances on the database, each with its worker (default 2)

DATABASE_URL: a PostgreSQL server to use (the bench creates and drops its own
databases there); unset: an embedded PostgreSQL in a temporary folder.`;

interface Options {
  messages: number;
  /** Dataset sizes, ascending; [messages] unless --sizes. */
  sizes: number[];
  numbers: number;
  duration: number;
  warmup: number;
  connections: number;
  importConnections: number;
  quietWait: number;
  rounds: number;
  poolSize: number;
  platforms: Platform[];
  scenarios: ScenarioName[];
  floors: Floor[];
  appEnv: Record<string, string>;
  flatness: boolean;
  profile: boolean;
  profileScenarios: HttpScenarioName[];
  quick: boolean;
  chart: boolean;
  maxMinutes: number;
  deliverReceipts: SmscReceipts;
  deliverInstances: number;
}

/** Every scenario on both platforms next to both floors, as the app ships: the chart's run. */
function isCompleteRun(options: Options): boolean {
  return (
    !options.quick &&
    options.platforms.length === PLATFORMS.length &&
    options.scenarios.length === SCENARIO_ORDER.length &&
    options.floors.length === FLOORS.length &&
    Object.keys(options.appEnv).length === 0
  );
}

interface Run {
  label: string;
  scenario: HttpScenarioName;
  /** The dataset's size. */
  messages: number;
  rps: number;
  p50: number;
  p99: number;
  latencyMean: number;
  durationSeconds: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  connections: number;
  /** Waited for a quiet machine before the run; how busy it was when the run started. */
  quietGate: { waitedSeconds: number; busyPct: number | null };
  /** Waited after the warm-up and after the run for the server to finish what was in flight. */
  drainSeconds: { afterWarmup: number; afterRun: number };
  stats: ProcessStats;
  cpuMs: CpuPerRequest;
  at: string;
}

function findRoot(from: string): string {
  let dir = from;
  for (let depth = 0; depth < 6; depth++) {
    if (
      existsSync(join(dir, 'package.json')) &&
      existsSync(join(dir, 'bench/baseline/schema.sql'))
    ) {
      return dir;
    }
    dir = dirname(dir);
  }
  throw new Error(`Cannot find the repository root above ${from}`);
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string' },
      sizes: { type: 'string' },
      numbers: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      'import-connections': { type: 'string' },
      'quiet-wait': { type: 'string' },
      rounds: { type: 'string' },
      platforms: { type: 'string', default: PLATFORMS.join(',') },
      scenarios: { type: 'string', default: SCENARIO_ORDER.join(',') },
      'pool-size': { type: 'string', default: '4' },
      floors: { type: 'string', default: FLOORS.join(',') },
      'skip-baseline': { type: 'boolean', default: false },
      'app-env': { type: 'string', default: '' },
      flatness: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      'profile-scenarios': { type: 'string', default: 'read-conversation,send' },
      quick: { type: 'boolean', default: false },
      chart: { type: 'boolean', default: false },
      'max-minutes': { type: 'string' },
      'deliver-receipts': { type: 'string', default: 'delivered' },
      'deliver-instances': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const int = (raw: string | undefined, name: string, fallback: number, min = 1): number => {
    const value = raw === undefined ? fallback : Number(raw.replace(/[,_]/g, ''));
    if (!Number.isInteger(value) || value < min) {
      throw new Error(`--${name} must be an integer ≥ ${min}`);
    }
    return value;
  };
  const list = <T extends string>(raw: string, name: string, known: readonly T[]): T[] => {
    const items = raw.split(',').map((item) => item.trim());
    const unknown = items.filter((item) => !(known as readonly string[]).includes(item));
    if (unknown.length > 0 || items.length === 0) {
      throw new Error(`--${name}: unknown ${unknown.join(', ')}; known: ${known.join(', ')}`);
    }
    return known.filter((item) => items.includes(item));
  };
  const quick = values.quick;
  const messages = int(values.messages, 'messages', quick ? 50_000 : 1_000_000, 100);
  const sizes = values.sizes
    ? [...new Set(values.sizes.split(',').map((size) => int(size.trim(), 'sizes', 0, 100)))]
    : [messages];
  sizes.sort((a, b) => a - b);
  return {
    messages: sizes[sizes.length - 1],
    sizes,
    numbers: int(values.numbers, 'numbers', quick ? 1_000 : 10_000, 40),
    duration: int(values.duration, 'duration', quick ? 3 : 10),
    warmup: int(values.warmup, 'warmup', quick ? 1 : 2, 0),
    connections: int(values.connections, 'connections', 64),
    importConnections: int(values['import-connections'], 'import-connections', 8),
    quietWait: int(values['quiet-wait'], 'quiet-wait', 10, 0),
    rounds: int(values.rounds, 'rounds', quick ? 1 : 2),
    poolSize: int(values['pool-size'], 'pool-size', 4),
    platforms: list(values.platforms, 'platforms', PLATFORMS),
    scenarios: list(values.scenarios, 'scenarios', SCENARIO_ORDER),
    floors: values['skip-baseline'] ? [] : list(values.floors, 'floors', FLOORS),
    appEnv: Object.fromEntries(
      values['app-env']
        .split(',')
        .filter(Boolean)
        .map((pair) => {
          const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(pair.trim());
          if (!match) throw new Error(`--app-env: ${pair} is not NAME=value`);
          return [match[1], match[2]];
        }),
    ),
    flatness: values.flatness,
    profile: values.profile,
    profileScenarios: list(values['profile-scenarios'], 'profile-scenarios', HTTP_SCENARIOS),
    quick,
    chart: values.chart,
    maxMinutes: int(values['max-minutes'], 'max-minutes', 40 * sizes.length),
    deliverReceipts: list(values['deliver-receipts'], 'deliver-receipts', [
      'delivered',
      'undeliverable',
      'none',
    ] as const)[0],
    deliverInstances: int(values['deliver-instances'], 'deliver-instances', 2),
  };
}

const log = (message: string): void =>
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);

/** Set on SIGINT/SIGTERM: what fails from then on is expected. */
let interrupted = false;

/** Cleanup steps, run last-in first-out on the way out, whichever way that is. */
const cleanups: Array<() => Promise<unknown>> = [];
const children = new Set<number>();
async function cleanUp(): Promise<void> {
  for (let step = cleanups.pop(); step; step = cleanups.pop()) {
    await step().catch((error: unknown) => console.error(`cleanup: ${String(error)}`));
  }
}
process.on('exit', () => {
  for (const pid of children) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping the servers, dropping the databases`);
    interrupted = true;
    // The servers first, so nothing reconnects while the databases go.
    for (const pid of children) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    void cleanUp().finally(() => process.exit(130));
  });
}

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function adminQuery<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** The local postmaster of the server at `url`, to measure that server's CPU; null if remote. */
async function findPostmaster(url: string): Promise<number | null> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    return postmasterOf(rows[0].pid);
  } finally {
    await client.end();
  }
}

interface ProfileRecord extends ProfileSummary {
  target: Platform | Floor;
  scenario: ScenarioName;
  file: string;
  rpsUnderProfiler: number;
  cpuMsUnderProfiler: CpuPerRequest;
}

interface DatabaseServer {
  adminUrl: string;
  kind: 'DATABASE_URL' | 'embedded';
  stop(): Promise<void>;
}

/** DATABASE_URL's server, or an embedded one started by the app's own (built) launcher. */
async function databaseServer(appDir: string): Promise<DatabaseServer> {
  if (process.env.DATABASE_URL) {
    return { adminUrl: process.env.DATABASE_URL, kind: 'DATABASE_URL', stop: async () => {} };
  }
  const launcher = join(appDir, 'libs/database/src/embedded/embedded-postgres.launcher.js');
  const { startEmbeddedPostgres } = (await import(pathToFileURL(launcher).href)) as {
    startEmbeddedPostgres(options: {
      dataDir: string;
      logger: { log(m: string): void; warn(m: string): void; error(m: string): void };
    }): Promise<{ url: string; clusterDir: string; stop(): Promise<void> }>;
  };
  const dataDir = await mkdtemp(join(tmpdir(), 'sms-bench-pg-'));
  // Open to the 'postgres' user the launcher runs the server as (when we are root), so the
  // cluster stays in this folder and goes with it.
  await chmod(dataDir, 0o755);
  log(`DATABASE_URL unset: starting an embedded PostgreSQL in ${dataDir}`);
  const report = (message: string): void => {
    if (!interrupted) log(`embedded PostgreSQL: ${message}`);
  };
  const server = await startEmbeddedPostgres({
    dataDir,
    logger: { log: () => {}, warn: report, error: report },
  });
  return {
    adminUrl: server.url,
    kind: 'embedded',
    stop: async () => {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
      // Where the launcher put the cluster if it could not use dataDir.
      if (!server.clusterDir.startsWith(dataDir)) {
        await rm(dirname(server.clusterDir), { recursive: true, force: true });
      }
    },
  };
}

/** A copy of the built app, so that a rebuild of dist/ during the bench changes nothing. */
async function snapshotApp(stamp: string): Promise<string> {
  if (!existsSync(join(BUILT_APP, 'apps/api/src/main.js'))) {
    throw new Error('dist/apps/api is missing: run `npm run build` first (npm run bench does)');
  }
  const dir = join(RESULTS_DIR, `.app-${stamp}`);
  await cp(BUILT_APP, dir, { recursive: true });
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The environment variables the app reads, from its configuration source. */
async function appEnvironmentNames(appDir: string): Promise<Set<string>> {
  try {
    const { ENVIRONMENT_VARIABLE_NAMES } = (await import(
      pathToFileURL(join(appDir, 'apps/api/src/config/environment.js')).href
    )) as { ENVIRONMENT_VARIABLE_NAMES: readonly string[] };
    return new Set(ENVIRONMENT_VARIABLE_NAMES);
  } catch {
    return new Set();
  }
}

function gitDescription(): string {
  try {
    const git = (...args: string[]): string =>
      execFileSync('git', args, { cwd: ROOT }).toString().trim();
    const commit = git('rev-parse', '--short', 'HEAD');
    const dirty = git('status', '--porcelain', '--', 'apps', 'libs');
    return dirty ? `${commit} + uncommitted changes in apps/ libs/` : commit;
  } catch {
    return 'unknown';
  }
}

const average = (values: number[]): number | null =>
  values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;

function combine(runs: Run[]): Combined | null {
  if (runs.length === 0) return null;
  const cpuOf = (who: keyof CpuPerRequest): number | null =>
    average(runs.map((run) => run.cpuMs[who]).filter((value): value is number => value !== null));
  const rss = runs
    .map((run) => run.stats.rssMaxMb)
    .filter((value): value is number => value !== null);
  return {
    rps:
      runs.reduce((sum, run) => sum + run.ok, 0) /
      runs.reduce((sum, run) => sum + run.durationSeconds, 0),
    p50: average(runs.map((run) => run.p50)) ?? NaN,
    p99: average(runs.map((run) => run.p99)) ?? NaN,
    rssMaxMb: rss.length ? Math.max(...rss) : null,
    cpuMs: {
      server: cpuOf('server'),
      postgres: cpuOf('postgres'),
      generator: cpuOf('generator'),
      machine: cpuOf('machine'),
    },
    non2xx: runs.reduce((sum, run) => sum + run.non2xx, 0),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
    ok: runs.reduce((sum, run) => sum + run.ok, 0),
    runs: runs.length,
    foreignCpuPctMax: (() => {
      const foreign = runs
        .map((run) => run.stats.foreignCpuPct)
        .filter((value): value is number => value !== null);
      return foreign.length ? Math.max(...foreign) : null;
    })(),
  };
}

const FLOOR_DESCRIPTIONS: Record<Floor, string> = {
  seed: 'raw node:http + pg, its own statements on the seed schema (bench/baseline/server.ts, schema.sql)',
  'same-sql':
    "raw node:http + pg through the app's compiled MessagesRepository on the app's database (bench/baseline/same-sql-server.ts)",
};

/** Database names per role; a random suffix per dataset size. */
const DATABASE_PREFIX = { app: 'sms_bench', baseline: 'sms_baseline', flat: 'sms_bench_flat' };
type DatabaseRole = keyof typeof DATABASE_PREFIX;

async function main(): Promise<void> {
  const options = parseOptions();
  const httpScenarios = options.scenarios.filter(
    (scenario): scenario is HttpScenarioName => scenario !== 'deliver',
  );
  // The floors only serve the HTTP scenarios next to them.
  if (!httpScenarios.some((scenario) => SCENARIOS[scenario].baseline)) options.floors = [];
  const startedAt = Date.now();
  const deadline = startedAt + options.maxMinutes * 60_000;
  const timeLeft = (): boolean => Date.now() < deadline;
  const stamp = new Date().toISOString().replace(/:/g, '-').replace(/\..*/, '');
  await mkdir(RESULTS_DIR, { recursive: true });

  const appDir = await snapshotApp(stamp);
  const appEntry = join(appDir, 'apps/api/src/main.js');
  const floorEntries: Record<Floor, string> = {
    seed: join(COMPILED_DIR, 'baseline/server.js'),
    'same-sql': join(COMPILED_DIR, 'baseline/same-sql-server.js'),
  };
  // The same-sql floor runs the snapshot's own repository (bench/baseline/same-sql-server.ts).
  const repositoryModule = join(appDir, 'libs/messaging/src/messages.repository.js');
  if (options.floors.includes('same-sql') && !existsSync(repositoryModule)) {
    throw new Error(
      `${repositoryModule} is missing: the same-sql floor loads the app's MessagesRepository ` +
        'from there (--floors seed leaves that floor out)',
    );
  }
  const adminKey = randomBytes(30).toString('base64url'); // 40 characters
  // One for every instance: deliver's instances decrypt the gateway credentials another stored.
  const secretsKey = randomBytes(32).toString('base64');
  const headers = { authorization: `Bearer ${adminKey}` };
  const knownEnv = await appEnvironmentNames(appDir);
  // Rate limits far above anything a run can reach, where the app has them.
  const limitsEnv = Object.fromEntries(
    [
      ['THROTTLE_LIMIT', '1000000000'],
      ['AUTH_FAILURE_LIMIT', '1000000'],
    ].filter(([name]) => knownEnv.has(name)),
  );

  const server = await databaseServer(appDir);
  cleanups.push(() => server.stop());
  const [{ server_version: pgVersion }] = await adminQuery<{ server_version: string }>(
    server.adminUrl,
    'SHOW server_version',
  );
  log(
    `PostgreSQL ${pgVersion} (${server.kind}); pool of the app and of each floor: ${options.poolSize}`,
  );

  const postmasterPid = await findPostmaster(server.adminUrl);
  if (postmasterPid === null) log('PostgreSQL runs elsewhere: its CPU is not measured');

  /** Fresh databases for one dataset size; dropped by `drop()` or, at the latest, on the way out. */
  const createDatabases = async (roles: DatabaseRole[]) => {
    const suffix = randomBytes(4).toString('hex');
    const urls: Partial<Record<DatabaseRole, string>> = {};
    const drops: Array<() => Promise<unknown>> = [];
    for (const role of roles) {
      const name = `${DATABASE_PREFIX[role]}_${suffix}`;
      await adminQuery(server.adminUrl, `CREATE DATABASE ${name}`);
      const drop = () =>
        adminQuery(server.adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      cleanups.push(drop);
      drops.push(drop);
      urls[role] = withDatabase(server.adminUrl, name);
    }
    return {
      urls,
      drop: async () => {
        for (const drop of drops) await drop();
      },
    };
  };

  const probePath = `/api/get-conversation/${encodeURIComponent(phoneOf(0))}`;
  const productionNodeFlags = await startProdNodeFlags(ROOT);
  log(
    `the app runs with the Node flags of npm run start:prod: ${productionNodeFlags.join(' ') || 'none'}`,
  );

  const startApp = async (
    platform: Platform,
    databaseUrl: string,
    nodeArgs: string[] = [],
  ): Promise<RunningProcess> => {
    const port = await freePort();
    const app = await startNodeProcess({
      name: `app (${platform})`,
      // Node's flags as production passes them (npm run start:prod, the Dockerfile's CMD).
      args: [...productionNodeFlags, ...nodeArgs, appEntry],
      // Not the repository: no .env of a developer's leaks in.
      cwd: appDir,
      env: {
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PORT: String(port),
        HTTP_ADAPTER: platform,
        DATABASE_URL: databaseUrl,
        DB_POOL_SIZE: String(options.poolSize),
        ADMIN_API_KEY: adminKey,
        SECRETS_KEY: secretsKey,
        SWAGGER_ENABLED: 'false',
        ...limitsEnv,
        ...options.appEnv,
      },
      port,
      probePath,
      probeHeaders: headers,
    });
    children.add(app.pid);
    return app;
  };
  /** The seed floor on its own database; the same-sql floor on the app's, with the app's repository. */
  const startFloor = async (
    floor: Floor,
    urls: Partial<Record<DatabaseRole, string>>,
    nodeArgs: string[] = [],
  ): Promise<RunningProcess> => {
    const port = await freePort();
    const databaseUrl = floor === 'seed' ? urls.baseline : urls.app;
    if (!databaseUrl) throw new Error(`no database for the ${floor} floor`);
    const started = await startNodeProcess({
      name: `${floor} floor`,
      args: [...nodeArgs, floorEntries[floor]],
      env: {
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: databaseUrl,
        DB_POOL_SIZE: String(options.poolSize),
        ...(floor === 'same-sql' ? { MESSAGES_REPOSITORY: repositoryModule } : {}),
      },
      port,
      probePath,
    });
    children.add(started.pid);
    return started;
  };
  const stop = async (process: RunningProcess, signal?: NodeJS.Signals): Promise<void> => {
    await process.stop(signal);
    children.delete(process.pid);
  };

  const load = async (url: string, data: Dataset, withSummaries: boolean, label: string) => {
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => undefined);
    await client.connect();
    try {
      if (label === 'baseline') {
        await client.query(await readFile(join(BENCH_DIR, 'baseline/schema.sql'), 'utf8'));
      }
      const seconds = await loadDataset(client, data, {
        withSummaries,
        log: (message) => log(`  ${label}: ${message}`),
      });
      const { rows } = await client.query<{ size: string }>(
        'SELECT pg_size_pretty(pg_database_size(current_database())) AS size',
      );
      log(`  ${label}: loaded in ${seconds.toFixed(1)} s (database ${rows[0].size})`);
      return { seconds, size: rows[0].size };
    } finally {
      await client.end();
    }
  };

  const runs: Run[] = [];

  /** A warm-up and a measured autocannon run of `scenario` against `target`. */
  const measure = async (args: {
    target: RunningProcess;
    scenario: HttpScenarioName;
    data: Dataset;
    label: string;
  }): Promise<Run> => {
    const isImport = SCENARIOS[args.scenario].kind === 'import';
    const timeout = isImport ? 60 : 10;
    const connections = isImport ? options.importConnections : options.connections;
    const fire = (duration: number): Promise<AutocannonResult> =>
      new Promise((resolve, reject) => {
        const guard: { timer?: NodeJS.Timeout } = {};
        const instance = autocannon(
          {
            url: args.target.url,
            connections,
            duration,
            timeout,
            requests: scenarioRequests(args.scenario, args.data, headers),
          },
          (error, result) => {
            clearTimeout(guard.timer);
            if (error) reject(error);
            else resolve(result);
          },
        );
        // Bounded even if a server stops answering.
        guard.timer = setTimeout(() => instance.stop(), (duration + timeout + 30) * 1000);
      });
    const quietGate =
      options.quietWait > 0
        ? await waitForQuietMachine(options.quietWait, 25)
        : { waitedSeconds: 0, busyPct: null };
    if (options.warmup > 0) await fire(options.warmup);
    const afterWarmup = await waitUntilIdle(args.target.pid, 90);
    const sampler = startSampler(args.target.pid, postmasterPid);
    const result = await fire(options.duration);
    const stats = sampler.stop();
    const afterRun = await waitUntilIdle(args.target.pid, 90);
    const ok = result['2xx'];
    const perRequest = (seconds: number | null): number | null =>
      seconds !== null && ok > 0 ? (1000 * seconds) / ok : null;
    const run: Run = {
      label: args.label,
      scenario: args.scenario,
      messages: args.data.messages,
      rps: ok / result.duration,
      p50: result.latency.p50,
      p99: result.latency.p99,
      latencyMean: result.latency.average,
      durationSeconds: result.duration,
      ok,
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      statusCodes: Object.fromEntries(
        Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count]),
      ),
      connections,
      quietGate,
      drainSeconds: { afterWarmup, afterRun },
      stats,
      cpuMs: {
        server: perRequest(stats.cpuSeconds.server),
        postgres: perRequest(stats.cpuSeconds.postgres),
        generator: perRequest(stats.cpuSeconds.generator),
        machine: perRequest(stats.cpuSeconds.machine),
      },
      at: new Date().toISOString(),
    };
    runs.push(run);
    const codes = Object.entries(run.statusCodes)
      .map(([code, count]) => `${code}×${count}`)
      .join(' ');
    log(
      `  ${sizeLabel(run.messages).padStart(4)} ${args.label.padEnd(27)} ${args.scenario.padEnd(17)} ` +
        `${run.rps.toFixed(0).padStart(6)} req/s` +
        `  p50 ${run.p50} ms  p99 ${run.p99} ms  RSS ${stats.rssMaxMb} MB` +
        `  [${codes}${run.errors ? ` errors×${run.errors}` : ''}]` +
        `  CPU ms/req: server ${run.cpuMs.server?.toFixed(3)} postgres ${run.cpuMs.postgres?.toFixed(3)}` +
        ` machine ${run.cpuMs.machine?.toFixed(3)}  foreign CPU ${stats.foreignCpuPct}%` +
        (quietGate.waitedSeconds > 1 ? `  (waited ${quietGate.waitedSeconds} s for quiet)` : ''),
    );
    return run;
  };

  // --- Flatness: read-conversation (and search, when it runs) on a table ten
  // times smaller, same history per number.
  const flatness: FlatnessRow[] = [];
  const flatnessScenarios: HttpScenarioName[] = options.scenarios.includes('search')
    ? ['read-conversation', 'search']
    : ['read-conversation'];
  const runFlatness = async (
    dataset: Dataset,
    flatDataset: Dataset,
    urls: Partial<Record<DatabaseRole, string>>,
  ) => {
    log(
      `flatness: ${flatnessScenarios.join(', ')} at ${flatDataset.messages.toLocaleString('en-US')} messages / ` +
        `${flatDataset.numbers.toLocaleString('en-US')} numbers vs ${dataset.messages.toLocaleString('en-US')} / ` +
        `${dataset.numbers.toLocaleString('en-US')}`,
    );
    for (const platform of options.platforms) {
      if (!timeLeft()) break;
      const apps = {
        small: await startApp(platform, urls.flat!),
        large: await startApp(platform, urls.app!),
      };
      for (const scenario of flatnessScenarios) {
        const sides: { small: Run[]; large: Run[] } = { small: [], large: [] };
        for (let round = 0; round < options.rounds && timeLeft(); round++) {
          const order =
            round % 2 === 0 ? (['small', 'large'] as const) : (['large', 'small'] as const);
          for (const side of order) {
            sides[side].push(
              await measure({
                target: apps[side],
                scenario,
                data: side === 'small' ? flatDataset : dataset,
                label: `flatness ${platform} ${side}`,
              }),
            );
          }
        }
        const small = combine(sides.small);
        const large = combine(sides.large);
        if (!small || !large) continue;
        flatness.push({
          scenario,
          platform,
          small: { ...flatDataset, ...small },
          large: { ...dataset, ...large },
          p99Ratio: large.p99 / small.p99,
          rpsRatio: large.rps / small.rps,
          pass: large.p99 / small.p99 <= TARGETS.flatnessP99Ratio,
        });
      }
      await stop(apps.small);
      await stop(apps.large);
    }
  };

  // --- The scenarios: each platform's app and the floors up at once (idle
  // when not measured), scenario by scenario, ABBA against the floors.
  const rows: Row[] = [];
  const skipped: string[] = [];
  const probes: Record<string, Probe> = {};
  const idleRssMb: Record<string, Record<string, number | null>> = {};
  const runScenarios = async (dataset: Dataset, urls: Partial<Record<DatabaseRole, string>>) => {
    const at = sizeLabel(dataset.messages);
    const apps = {} as Record<Platform, RunningProcess>;
    const idle: Record<string, number | null> = {};
    for (const platform of options.platforms) {
      apps[platform] = await startApp(platform, urls.app!);
      idle[platform] = rssMb(apps[platform].pid);
    }
    const floors: Partial<Record<Floor, RunningProcess>> = {};
    for (const floor of options.floors) {
      const started = await startFloor(floor, urls);
      floors[floor] = started;
      idle[`${floor} floor`] = rssMb(started.pid);
    }
    idleRssMb[at] = idle;
    log(`RSS after start, before any load (MB): ${JSON.stringify(idle)}`);

    const probeKey = (scenario: HttpScenarioName, who: Platform | Floor): string =>
      `${at}/${scenario}/${who}`;
    for (const scenario of httpScenarios) {
      for (const platform of options.platforms) {
        probes[probeKey(scenario, platform)] = await probeScenario(
          scenario,
          dataset,
          headers,
          apps[platform].url,
        );
      }
      const floorScenario = SCENARIOS[scenario].baseline;
      for (const [floor, started] of Object.entries(floors) as Array<[Floor, RunningProcess]>) {
        if (!floorScenario) continue;
        probes[probeKey(floorScenario, floor)] ??= await probeScenario(
          floorScenario,
          dataset,
          headers,
          started.url,
        );
      }
    }
    for (const [key, probe] of Object.entries(probes)) {
      if (!key.startsWith(`${at}/`)) continue;
      log(
        `probe ${key}: ${probe.status} ${probe.shape}${probe.excerpt ? ` ${probe.excerpt}` : ''}`,
      );
      if (!probe.ok && FLOORS.some((floor) => key.endsWith(`/${floor}`))) {
        skipped.push(
          `${key}: left out of the comparisons, the probe got ${probe.status} ${probe.shape}: ${probe.excerpt}`,
        );
      }
    }

    const measured: Record<string, { app: Run[]; floors: Partial<Record<Floor, Run[]>> }> = {};
    for (const scenario of httpScenarios) {
      const floorScenario = SCENARIOS[scenario].baseline;
      const platforms = options.platforms.filter(
        (platform) => probes[probeKey(scenario, platform)].ok,
      );
      const paired = floorScenario
        ? options.floors.filter((floor) => probes[probeKey(floorScenario, floor)]?.ok)
        : [];
      for (let round = 0; round < options.rounds && timeLeft(); round++) {
        // Each app run next to a run of each floor of its own, in reverse order
        // every other round (app, seed, same-sql / same-sql, seed, app).
        const steps = platforms.flatMap((platform) => [
          { platform, floor: null },
          ...paired.map((floor) => ({ platform, floor })),
        ]);
        if (round % 2 === 1) steps.reverse();
        for (const { platform, floor } of steps) {
          if (!timeLeft()) break;
          const sets = (measured[`${scenario}/${platform}`] ??= { app: [], floors: {} });
          if (floor && floorScenario) {
            (sets.floors[floor] ??= []).push(
              await measure({
                target: floors[floor]!,
                scenario: floorScenario,
                data: dataset,
                label: `${floor} floor (paired ${platform})`,
              }),
            );
          } else {
            sets.app.push(
              await measure({
                target: apps[platform],
                scenario,
                data: dataset,
                label: `app ${platform}`,
              }),
            );
          }
        }
      }
    }
    for (const app of Object.values(apps)) await stop(app);
    for (const floor of Object.values(floors)) await stop(floor);

    for (const scenario of httpScenarios) {
      for (const platform of options.platforms) {
        const probe = probes[probeKey(scenario, platform)];
        const sets = measured[`${scenario}/${platform}`];
        const app = sets ? combine(sets.app) : null;
        if (!app) {
          skipped.push(
            `${scenario} on ${platform} at ${at}: ${probe.ok ? 'not run (time limit)' : `the probe got ${probe.status} ${probe.shape}: ${probe.excerpt}`}`,
          );
          continue;
        }
        const floorScenario = SCENARIOS[scenario].baseline;
        const floorResults: Partial<Record<Floor, FloorResult>> = {};
        for (const floor of options.floors) {
          const combined = combine(sets.floors[floor] ?? []);
          if (!combined || !floorScenario) continue;
          floorResults[floor] = {
            scenario: floorScenario,
            ...combined,
            rpsRatio: app.rps / combined.rps,
            p99Ratio: app.p99 / combined.p99,
          };
        }
        const all: Combined[] = [app, ...FLOORS.flatMap((floor) => floorResults[floor] ?? [])];
        const errorShare =
          all.reduce((sum, c) => sum + c.non2xx + c.errors, 0) /
          Math.max(
            1,
            all.reduce((sum, c) => sum + c.ok, 0),
          );
        const messagesPerSecond =
          SCENARIOS[scenario].kind === 'import' ? app.rps * IMPORT_BATCH : undefined;
        rows.push({
          ...app,
          scenario,
          platform,
          messages: dataset.messages,
          numbers: dataset.numbers,
          messagesPerSecond,
          floors: floorResults,
          ...judge({
            scenario,
            platform,
            messagesPerSecond,
            floors: floorResults,
            rssMaxMb: app.rssMaxMb,
            errorShare,
          }),
        });
      }
    }
  };

  // --- Deliver: POST /api/messages over N instances of one platform on one database, each
  // running its delivery worker, to submit_sm at one SMSC (a child process: see lib/smsc-child.ts).
  const deliverRows: DeliverRow[] = [];
  const deliverFrom = '+12025550100';
  let smscModule: string | undefined;
  const runDeliver = async (dataset: Dataset, urls: Partial<Record<DatabaseRole, string>>) => {
    if (!smscModule) {
      smscModule = join(RESULTS_DIR, `.smsc-${stamp}.mjs`);
      await transpileTestSmsc(join(ROOT, 'test/support/smsc.ts'), smscModule);
      const file = smscModule;
      cleanups.push(() => rm(file, { force: true }));
    }
    const smsc = await startSmscProcess({
      childEntry: join(COMPILED_DIR, 'lib/smsc-child.js'),
      smscModule,
      systemId: 'bench',
      password: randomBytes(4).toString('hex'), // SMPP 3.4: at most 8 characters
      receipts: options.deliverReceipts,
    });
    children.add(smsc.pid);
    cleanups.push(() => smsc.stop());
    const db = new pg.Client({ connectionString: urls.app! });
    db.on('error', () => undefined);
    await db.connect();
    cleanups.push(() => db.end());
    const outboxCounts = async (): Promise<Record<string, number>> => {
      const { rows } = await db.query<{ status: string; count: number }>(
        'SELECT status, count(*)::int AS count FROM outbound_messages GROUP BY status',
      );
      return Object.fromEntries(rows.map((row) => [row.status, row.count]));
    };
    /** Transactions committed or rolled back in the app's database so far (pg_stat_database). */
    const transactions = async (): Promise<number> => {
      const { rows } = await db.query<{ count: string }>(
        'SELECT xact_commit + xact_rollback AS count FROM pg_stat_database WHERE datname = current_database()',
      );
      return Number(rows[0].count);
    };
    const waitFor = async (what: () => Promise<boolean>, seconds: number): Promise<boolean> => {
      const until = Date.now() + seconds * 1000;
      while (Date.now() < until) {
        if (await what()) return true;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      return false;
    };
    log(
      `deliver: SMSC in a child process at ${smsc.url.replace(/:[^:@/]+@/, ':…@')}, ` +
        `receipts ${options.deliverReceipts}, ${options.deliverInstances} instances per platform`,
    );
    let gatewayCreated = false;
    for (const platform of options.platforms) {
      if (!timeLeft()) {
        skipped.push(
          `deliver on ${platform} at ${sizeLabel(dataset.messages)}: not run (time limit)`,
        );
        continue;
      }
      const instances: RunningProcess[] = [];
      try {
        for (let index = 0; index < options.deliverInstances; index++) {
          instances.push(await startApp(platform, urls.app!));
        }
        await deliverWith(platform, instances);
      } finally {
        for (const instance of instances) await stop(instance);
      }
    }
    await smsc.stop();
    children.delete(smsc.pid);

    async function deliverWith(platform: Platform, instances: RunningProcess[]): Promise<void> {
      if (!gatewayCreated) {
        const response = await fetch(`${instances[0].url}/api/gateways`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({
            provider: 'smpp',
            label: 'bench',
            phones: [deliverFrom],
            outbound: { url: smsc.url, ratePerSecond: 10_000 },
          }),
        });
        const text = await response.text();
        if (!response.ok) {
          throw new Error(`POST /api/gateways answered ${response.status}: ${text.slice(0, 300)}`);
        }
        gatewayCreated = true;
      }
      // A worker binds its session with its first message (or on a sweep): one through each
      // instance, so that the binds are not in the measured window.
      for (const [index, instance] of instances.entries()) {
        const response = await fetch(`${instance.url}/api/messages`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({ from: deliverFrom, to: phoneOf(0), text: `Bench probe ${index}` }),
        });
        const text = await response.text();
        if (response.status !== 202) {
          throw new Error(`POST /api/messages answered ${response.status}: ${text.slice(0, 300)}`);
        }
      }
      const bound = await waitFor(
        async () => (await smsc.count()).sessions >= instances.length,
        10,
      );
      log(
        `deliver ${platform}: ${(await smsc.count()).sessions} SMPP sessions bound${bound ? '' : ' (not all)'}`,
      );
      for (let round = 0; round < options.rounds && timeLeft(); round++) {
        deliverRows.push(
          await measureDeliver(platform, instances, smsc, dataset, {
            outboxCounts,
            transactions,
            waitFor,
          }),
        );
      }
    }
  };

  const measureDeliver = async (
    platform: Platform,
    instances: RunningProcess[],
    smsc: Awaited<ReturnType<typeof startSmscProcess>>,
    dataset: Dataset,
    db: {
      outboxCounts: () => Promise<Record<string, number>>;
      transactions: () => Promise<number>;
      waitFor: (what: () => Promise<boolean>, seconds: number) => Promise<boolean>;
    },
  ): Promise<DeliverRow> => {
    const { outboxCounts, transactions, waitFor } = db;
    const tag = randomBytes(3).toString('hex');
    const sent: SentMessage[] = [];
    const requests = deliverRequests({ from: deliverFrom, dataset, headers, tag, sent });
    const firstSubmit = (await smsc.count()).submits;
    if (options.quietWait > 0) await waitForQuietMachine(options.quietWait, 25);
    const perInstance = Math.max(1, Math.round(options.connections / instances.length));
    const seconds = options.warmup + options.duration;
    const fire = (url: string): Promise<AutocannonResult> =>
      new Promise((resolve, reject) => {
        const guard: { timer?: NodeJS.Timeout } = {};
        const instance = autocannon(
          { url, connections: perInstance, duration: seconds, timeout: 10, requests },
          (error, result) => {
            clearTimeout(guard.timer);
            if (error) reject(error);
            else resolve(result);
          },
        );
        guard.timer = setTimeout(() => instance.stop(), (seconds + 40) * 1000);
      });
    // One load over the warm-up and the window: the window starts in the steady state.
    const loadStart = Date.now();
    const windowStart = loadStart + options.warmup * 1000;
    let sampler: ReturnType<typeof startSampler> | undefined;
    let cpuStart: Array<number | null> = [];
    let transactionsAtStart: Promise<number> | undefined;
    const startSampling = setTimeout(() => {
      sampler = startSampler(instances[0].pid, postmasterPid);
      transactionsAtStart = transactions();
      cpuStart = [
        ...instances.slice(1).map((i) => readCpuSeconds(i.pid)),
        readCpuSeconds(smsc.pid),
      ];
    }, windowStart - Date.now());
    const results = await Promise.all(instances.map((instance) => fire(instance.url)));
    const windowEnd = Date.now();
    clearTimeout(startSampling);
    const transactionsInWindow = (await transactions()) - ((await transactionsAtStart) ?? NaN);
    const outboxAtEnd = await outboxCounts();
    const stats = sampler?.stop();
    const cpuEnd = [
      ...instances.slice(1).map((i) => readCpuSeconds(i.pid)),
      readCpuSeconds(smsc.pid),
    ];
    const rssMaxMb = [stats?.rssMaxMb ?? null, ...instances.slice(1).map((i) => rssMb(i.pid))];
    // Drain: whatever was accepted reaches the SMSC, so that duplicates and losses show.
    const accepted = sent.filter((message) => message.acceptedAt !== null).length;
    let last = -1;
    let stalledSince = Date.now();
    await waitFor(async () => {
      const { submits } = await smsc.count();
      if (submits !== last) {
        last = submits;
        stalledSince = Date.now();
      }
      return submits - firstSubmit >= accepted || Date.now() - stalledSince > 10_000;
    }, 120);
    await new Promise((resolve) => setTimeout(resolve, 500)); // a late duplicate, if any
    const submits = await smsc.submits(firstSubmit);
    const analysis = analyzeDeliveries(sent, submits, tag, { start: windowStart, end: windowEnd });
    const delta = (index: number): number | null => {
      const [start, end] = [cpuStart[index], cpuEnd[index]];
      return start != null && end != null ? end - start : null;
    };
    const otherApps = instances.slice(1).map((_, index) => delta(index));
    const smscCpu = delta(instances.length - 1);
    const appCpu = [stats?.cpuSeconds.server ?? null, ...otherApps];
    const appsTotal = appCpu.some((value) => value === null)
      ? null
      : appCpu.reduce<number>((sum, value) => sum + (value ?? 0), 0);
    const windowSeconds = analysis.window.seconds;
    const perMessage = (value: number | null | undefined): number | null =>
      value != null && analysis.submitted > 0 ? (1000 * value) / analysis.submitted : null;
    const pctOfCore = (value: number | null | undefined): number | null =>
      value != null ? (100 * value) / windowSeconds : null;
    const machine = stats?.cpuSeconds.machine ?? null;
    const foreign =
      machine !== null &&
      appsTotal !== null &&
      smscCpu !== null &&
      stats?.cpuSeconds.postgres != null
        ? Math.max(
            0,
            machine - appsTotal - smscCpu - stats.cpuSeconds.postgres - stats.cpuSeconds.generator,
          )
        : null;
    const non2xx = results.reduce((sum, result) => sum + result.non2xx, 0);
    const errors = results.reduce((sum, result) => sum + result.errors, 0);
    const row: DeliverRow = {
      platform,
      instances: instances.length,
      messages: dataset.messages,
      connections: perInstance * instances.length,
      receipts: options.deliverReceipts,
      ...analysis,
      non2xx,
      errors,
      outboxAtEnd,
      pgTransactionsPerMessage:
        analysis.submitted > 0 ? transactionsInWindow / analysis.submitted : null,
      cpuMs: {
        apps: perMessage(appsTotal),
        postgres: perMessage(stats?.cpuSeconds.postgres),
        smsc: perMessage(smscCpu),
        generator: perMessage(stats?.cpuSeconds.generator),
        machine: perMessage(machine),
      },
      cpuPct: {
        apps: appCpu.map((value) => pctOfCore(value) ?? NaN),
        postgres: pctOfCore(stats?.cpuSeconds.postgres),
        smsc: pctOfCore(smscCpu),
        generator: pctOfCore(stats?.cpuSeconds.generator) ?? NaN,
      },
      foreignCpuPct: foreign === null ? null : (100 * foreign) / (windowSeconds * cpus().length),
      rssMaxMb,
      ...judgeDeliver({ ...analysis, non2xx, errors }),
    };
    log(
      `  ${sizeLabel(row.messages).padStart(4)} deliver ${platform} ×${instances.length}: ` +
        `${analysis.acceptedPerSecond.toFixed(0)} accepted/s, ${analysis.submitsPerSecond.toFixed(0)} submit_sm/s; ` +
        `queue p50 ${analysis.queueLatency.p50} ms p99 ${analysis.queueLatency.p99} ms; ` +
        `POST p50 ${analysis.post.p50} ms p99 ${analysis.post.p99} ms; backlog ` +
        `${analysis.backlogAtStart} → ${analysis.backlogAtEnd} (outbox ${JSON.stringify(outboxAtEnd)}); ` +
        `PG transactions/msg ${row.pgTransactionsPerMessage?.toFixed(1)}; duplicates ${analysis.duplicates}, never submitted ${analysis.neverSubmitted}, non-2xx ${non2xx}, errors ${errors}; ` +
        `CPU % of a core: apps ${row.cpuPct.apps.map((v) => v.toFixed(0)).join('+')} PG ${row.cpuPct.postgres?.toFixed(0)} ` +
        `SMSC ${row.cpuPct.smsc?.toFixed(0)} generator ${row.cpuPct.generator.toFixed(0)}, foreign ${row.foreignCpuPct?.toFixed(0)}% ` +
        `[${row.pass === false ? `FAIL: ${row.failed.join('; ')}` : row.pass ? 'PASS' : '—'}]`,
    );
    return row;
  };

  // --- Profiles: separate processes under --cpu-prof, so that the figures
  // above carry no profiler overhead.
  const profiles: ProfileRecord[] = [];
  const runProfiles = async (dataset: Dataset, urls: Partial<Record<DatabaseRole, string>>) => {
    const profileDir = join(RESULTS_DIR, `profiles-${stamp}`);
    await mkdir(profileDir, { recursive: true });
    const preload = pathToFileURL(join(COMPILED_DIR, 'lib/exit-on-sigusr2.js')).href;
    const targets: Array<Platform | Floor> = [...options.platforms, ...options.floors];
    for (const target of targets) {
      for (const scenario of options.profileScenarios) {
        if (!timeLeft()) break;
        const isFloor = (FLOORS as readonly string[]).includes(target);
        // The floors serve the seed contract only.
        if (isFloor && SCENARIOS[scenario].baseline !== scenario) continue;
        const name = `${target}-${scenario}`;
        const profilerArgs = [
          '--cpu-prof',
          `--cpu-prof-dir=${profileDir}`,
          `--cpu-prof-name=${name}.cpuprofile`,
        ];
        // A floor's SIGTERM handler exits normally, which writes the profile; the app needs the preload.
        const server = isFloor
          ? await startFloor(target as Floor, urls, profilerArgs)
          : await startApp(target as Platform, urls.app!, [...profilerArgs, '--import', preload]);
        const run = await measure({
          target: server,
          scenario,
          data: dataset,
          label: `profiled ${target}`,
        });
        await stop(server, isFloor ? 'SIGTERM' : 'SIGUSR2');
        const file = join(profileDir, `${name}.cpuprofile`);
        if (!existsSync(file)) {
          log(`  no profile written at ${file}`);
          continue;
        }
        const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
        const summary = summarizeProfile(profile, { windowSeconds: options.duration, top: 30 });
        profiles.push({
          target,
          scenario,
          file: file.slice(ROOT.length + 1),
          rpsUnderProfiler: run.rps,
          cpuMsUnderProfiler: run.cpuMs,
          ...summary,
        });
        console.log(
          formatSummary(
            { ...summary, topFunctions: summary.topFunctions.slice(0, 20) },
            `profile ${name} (last ${options.duration} s)`,
          ),
        );
      }
    }
  };

  // --- Each dataset size in fresh databases, smallest first: load, then flatness
  // and profiles (largest size only), the scenarios, drop.
  const datasets: Array<Dataset & { loads: Record<string, { seconds: number; size: string }> }> =
    [];
  let flatDataset: Dataset | undefined;
  for (const [index, messages] of options.sizes.entries()) {
    const dataset: Dataset = { messages, numbers: options.numbers };
    if (!timeLeft()) {
      skipped.push(`everything at ${sizeLabel(messages)} messages: not run (time limit)`);
      continue;
    }
    const largest = index === options.sizes.length - 1;
    const withFlat = options.flatness && largest;
    // The same history per number on a table ten times smaller: each read returns as much.
    if (withFlat) {
      flatDataset = {
        messages: Math.round(messages / 10),
        numbers: Math.max(40, Math.round(options.numbers / 10)),
      };
    }
    const roles: DatabaseRole[] = [
      'app',
      ...(options.floors.includes('seed') ? (['baseline'] as const) : []),
      ...(withFlat ? (['flat'] as const) : []),
    ];
    const { urls, drop } = await createDatabases(roles);

    // The app's own migrations create its schema: start it once on each of its databases.
    for (const url of [urls.app, urls.flat]) {
      if (url) await stop(await startApp('express', url));
    }
    log("the app's schema was created by its migrations (one start per database)");
    log(
      `loading ${messages.toLocaleString('en-US')} messages over ${dataset.numbers.toLocaleString('en-US')} numbers ` +
        `with SQL (INSERT ... SELECT FROM generate_series), into ${roles.filter((r) => r !== 'flat').join(' and ')} at once`,
    );
    const loads = Object.fromEntries(
      await Promise.all([
        load(urls.app!, dataset, true, 'app').then((result) => ['app', result] as const),
        ...(urls.baseline
          ? [load(urls.baseline, dataset, false, 'baseline').then((r) => ['baseline', r] as const)]
          : []),
      ]),
    );
    if (urls.flat && flatDataset) loads.flat = await load(urls.flat, flatDataset, true, 'flat');
    datasets.push({ ...dataset, loads });

    if (withFlat && flatDataset) await runFlatness(dataset, flatDataset, urls);
    if (httpScenarios.length) await runScenarios(dataset, urls);
    if (options.scenarios.includes('deliver')) await runDeliver(dataset, urls);
    if (options.profile && largest) await runProfiles(dataset, urls);
    await drop();
  }

  // Self time by kind of work, in ms per request: the profile's shares (on-CPU
  // samples) times the process CPU per request measured in the same run.
  const profileTable = (scenario: ScenarioName): string | undefined => {
    const columns = profiles.filter((profile) => profile.scenario === scenario);
    if (columns.length === 0) return undefined;
    const categories = [...new Set(columns.flatMap((c) => c.categories.map((x) => x.category)))];
    const cell = (profile: ProfileRecord, category: string): string => {
      const pct = profile.categories.find((c) => c.category === category)?.pct ?? 0;
      const cpu = profile.cpuMsUnderProfiler.server;
      return cpu === null ? '—' : ((pct / 100) * cpu).toFixed(3);
    };
    return [
      `| ${scenario}: ms of process CPU per request | ${columns.map((c) => c.target).join(' | ')} |`,
      `|---|${columns.map(() => '---').join('|')}|`,
      ...categories.map(
        (category) => `| ${category} | ${columns.map((c) => cell(c, category)).join(' | ')} |`,
      ),
      `| **total (measured)** | ${columns.map((c) => c.cpuMsUnderProfiler.server?.toFixed(3) ?? '—').join(' | ')} |`,
    ].join('\n');
  };

  // --- Report.
  const totalMinutes = (Date.now() - startedAt) / 60_000;
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
  const report = {
    date: new Date().toISOString(),
    machine,
    postgres: { version: pgVersion, server: server.kind },
    app: { commit: gitDescription(), poolSize: options.poolSize },
    options,
    datasets,
    loadedWith:
      "SQL: INSERT ... SELECT FROM generate_series into messages; for the app also the CreateConversations migration's backfill statement into conversations; VACUUM ANALYZE",
    flatnessDataset: flatDataset,
    floors: Object.fromEntries(options.floors.map((floor) => [floor, FLOOR_DESCRIPTIONS[floor]])),
    targets: TARGETS,
    deliver: deliverRows,
    loadGenerator: `autocannon, ${options.connections} connections, in the runner process; ${options.warmup} s warm-up then ${options.duration} s per run; ${options.rounds} round(s), each app run next to a run of each floor, in ABBA order`,
    idleRssMb,
    rows,
    skipped,
    flatness,
    profiles,
    probes,
    runs,
    totalMinutes,
  };
  const resultFile = join(RESULTS_DIR, `${stamp}${options.quick ? '-quick' : ''}.json`);
  await writeFile(resultFile, `${JSON.stringify(report, null, 2)}\n`);
  const charts: string[] = [];
  if (rows.length) {
    const svg = renderChart(chartInputFromReport(report));
    charts.push(resultFile.replace(/\.json$/, '.svg'));
    // The committed picture (bench/README.md shows it): a run of every scenario on both
    // platforms next to both floors, unless asked; a partial run would replace it with less.
    if (isCompleteRun(options) || options.chart) charts.push(join(BENCH_DIR, 'chart.svg'));
    for (const file of charts) await writeFile(file, svg);
  }

  const out = (line = ''): void => console.log(line);
  out();
  out(
    `## ${options.quick ? 'Quick run' : 'Results'}: ${report.date.slice(0, 10)}, ${machine.cpus} cores, ` +
      `Node ${process.version}, PostgreSQL ${pgVersion} (${server.kind}), app ${report.app.commit}`,
  );
  out(
    `Dataset: ${options.sizes.map((size) => size.toLocaleString('en-US')).join(' and ')} messages ` +
      `over ${options.numbers.toLocaleString('en-US')} numbers, loaded with SQL (generate_series), not through the API.`,
  );
  for (const floor of options.floors) out(`Floor ${floor}: ${FLOOR_DESCRIPTIONS[floor]}.`);
  out(
    `${report.loadGenerator}. read-thread and threads are compared with the floors' read-conversation ` +
      '(the floors have no thread endpoints).',
  );
  if (rows.length) {
    out();
    out(resultsTable(rows, options.floors));
    out();
    out(
      'CPU per successful request (ms), same runs; all of it shares 2 cores with the load generator:',
    );
    out();
    out(cpuTable(rows, options.floors));
  }
  if (deliverRows.length) {
    out();
    out(
      `Deliver: POST /api/messages from ${deliverFrom} over ${options.deliverInstances} instances, ` +
        `each running its delivery worker, to submit_sm at the test SMSC (a child process, receipts ` +
        `${options.deliverReceipts}); ${options.warmup} s of load, then ${options.duration} s measured. ` +
        'Queue latency: from the 202 to the submit_sm at the SMSC. Backlog: accepted and not yet at the SMSC.',
    );
    out();
    out(deliverTable(deliverRows));
  }
  for (const line of skipped) out(`- ${line}`);
  if (flatness.length) {
    out();
    out(flatnessTable(flatness));
  }
  for (const scenario of options.profileScenarios) {
    const table = profileTable(scenario);
    if (!table) continue;
    out();
    out(table);
  }
  if (profiles.length) {
    out();
    out(
      'Profiles: shares of on-CPU samples (socket writes left out) × the process CPU per request',
    );
    out('measured under the profiler, so approximate. Files and full summaries in the JSON.');
  }
  out();
  for (const file of charts) out(`Chart: ${file.slice(ROOT.length + 1)}`);
  out(`JSON: ${resultFile.slice(ROOT.length + 1)} (${totalMinutes.toFixed(1)} min)`);
}

try {
  await main();
} catch (error) {
  console.error(error instanceof Error ? error.stack : error);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
