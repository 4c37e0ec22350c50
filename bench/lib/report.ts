// Targets from the issue, and the tables the benchmark prints (Markdown, so
// they can be pasted into bench/README.md as they are).
import type { DeliveryAnalysis } from './deliver.js';
import { type HttpScenarioName, IMPORT_BATCH, SCENARIOS, type ScenarioName } from './scenarios.js';

export type Platform = 'express' | 'fastify';

/**
 * The raw node:http + pg servers the app is compared with: `seed` on the seed
 * schema with its own statements (baseline/server.ts), `same-sql` through the
 * app's own repository on the app's schema (baseline/same-sql-server.ts).
 */
export type Floor = 'seed' | 'same-sql';
export const FLOORS: readonly Floor[] = ['seed', 'same-sql'];

/** Ratios of the app's req/s to a floor's, per platform and kind of scenario. */
const RPS_TARGETS: Record<Platform, Record<'read' | 'send', Partial<Record<Floor, number>>>> = {
  fastify: { read: { seed: 0.7, 'same-sql': 0.85 }, send: { seed: 0.45, 'same-sql': 0.85 } },
  express: { read: { seed: 0.45 }, send: { seed: 0.3 } },
};

export const TARGETS = {
  rps: RPS_TARGETS,
  /** The app's p99 over the seed floor's, reads and sends. */
  p99OverSeed: 2,
  /** The app's RSS, maximum under load, every row with a target. */
  rssMaxMb: 200,
  importMessagesPerSecond: 30_000,
  flatnessP99Ratio: 1.5,
  /** deliver: submit_sm per second arriving at the SMSC, two instances. */
  deliverMessagesPerSecond: 1_000,
  /**
   * deliver: submit_sm per second over accepted POSTs per second in the same
   * window; below it the queue grows, and the rate is not sustained.
   */
  deliverKeepUpRatio: 0.95,
  /** Non-2xx answers and errors, app and floors, over the 2xx count. */
  errorShare: 0.01,
} as const;

/** CPU ms per successful request, by who spent it. */
export interface CpuPerRequest {
  server: number | null;
  postgres: number | null;
  generator: number | null;
  machine: number | null;
}

/** Several runs of one scenario against one server, combined. */
export interface Combined {
  rps: number;
  p50: number;
  p99: number;
  rssMaxMb: number | null;
  cpuMs: CpuPerRequest;
  non2xx: number;
  errors: number;
  /** 2xx answers. */
  ok: number;
  runs: number;
  /** The most CPU other work on the machine took during one of these runs, % of the machine. */
  foreignCpuPctMax: number | null;
}

/** A floor's runs paired with one platform's, and the app's figures over them. */
export interface FloorResult extends Combined {
  /** What the floor ran: read-thread and threads are compared with its read-conversation. */
  scenario: ScenarioName;
  rpsRatio: number;
  p99Ratio: number;
}

/** One target of a row; pass null when it was not measured. */
export interface Check {
  name: string;
  /** In words, e.g. "× seed req/s ≥ 0.7". */
  target: string;
  value: number | null;
  pass: boolean | null;
  /** In words when it failed, e.g. "× seed req/s 0.21 < 0.7". */
  failure?: string;
}

export interface Row extends Combined {
  scenario: ScenarioName;
  platform: Platform;
  /** The dataset this row ran on. */
  messages: number;
  numbers: number;
  messagesPerSecond?: number;
  floors: Partial<Record<Floor, FloorResult>>;
  checks: Check[];
  /** The targets, in words. */
  target: string;
  /** True when every check passed, false when one failed, null when none applies or one was not measured. */
  pass: boolean | null;
  /** The failed checks, in words. */
  failed: string[];
}

export interface FlatnessRow {
  /** read-conversation, or search. */
  scenario: HttpScenarioName;
  platform: Platform;
  small: Combined & { messages: number; numbers: number };
  large: Combined & { messages: number; numbers: number };
  p99Ratio: number;
  rpsRatio: number;
  pass: boolean;
}

/** One measured run of the deliver scenario: two instances of one platform, one SMSC. */
export interface DeliverRow extends DeliveryAnalysis {
  platform: Platform;
  instances: number;
  /** The dataset this ran on. */
  messages: number;
  connections: number;
  receipts: string;
  /** Non-202 answers and errors of the load generator during the whole run. */
  non2xx: number;
  errors: number;
  /** Queued or sending in the outbox at the window's end, as PostgreSQL counted it. */
  outboxAtEnd: Record<string, number>;
  /** Transactions in the app's database during the window per submit_sm (pg_stat_database). */
  pgTransactionsPerMessage: number | null;
  /** CPU ms per submit_sm in the window, by who spent it (apps: both instances). */
  cpuMs: {
    apps: number | null;
    postgres: number | null;
    smsc: number | null;
    generator: number | null;
    machine: number | null;
  };
  /** CPU in % of one core during the window, same split. */
  cpuPct: { apps: number[]; postgres: number | null; smsc: number | null; generator: number };
  /** CPU of everything else on the machine, % of the machine. */
  foreignCpuPct: number | null;
  rssMaxMb: Array<number | null>;
  checks: Check[];
  target: string;
  pass: boolean | null;
  failed: string[];
}

/** A check of `value` against `limit`; `unit` follows the numbers in the words. */
function check(name: string, value: number | null, op: '≥' | '≤', limit: number, unit = ''): Check {
  const pass = value === null ? null : op === '≥' ? value >= limit : value <= limit;
  const words = (shown: string, sign: string) => `${name} ${sign} ${shown}${unit}`;
  return {
    name,
    target: words(limit.toLocaleString('en-US'), op),
    value,
    pass,
    // e.g. "× seed req/s 0.21 < 0.7"
    ...(pass === false && {
      failure: `${name} ${fmtCheck(value)}${unit} ${op === '≥' ? '<' : '>'} ${limit.toLocaleString('en-US')}${unit}`,
    }),
  };
}

/**
 * The targets of one row and whether they are met. `errorShare`: non-2xx and
 * errors of the app and its floors over their 2xx answers.
 */
export function judge(
  row: Pick<Row, 'scenario' | 'platform' | 'messagesPerSecond' | 'floors' | 'rssMaxMb'> & {
    errorShare: number;
  },
): Pick<Row, 'checks' | 'target' | 'pass' | 'failed'> {
  const { kind } = SCENARIOS[row.scenario];
  const checks: Check[] = [];
  if (kind === 'import') {
    checks.push(
      check('msg/s', row.messagesPerSecond ?? 0, '≥', TARGETS.importMessagesPerSecond),
      check('RSS', row.rssMaxMb, '≤', TARGETS.rssMaxMb, ' MB'),
    );
  } else if (kind === 'read' || kind === 'send') {
    const rps = Object.entries(TARGETS.rps[row.platform][kind]) as Array<[Floor, number]>;
    for (const [floor, limit] of rps) {
      checks.push(check(`× ${floor} req/s`, row.floors[floor]?.rpsRatio ?? null, '≥', limit));
    }
    checks.push(
      check('× seed p99', row.floors.seed?.p99Ratio ?? null, '≤', TARGETS.p99OverSeed),
      check('RSS', row.rssMaxMb, '≤', TARGETS.rssMaxMb, ' MB'),
    );
  }
  // Not a target of the issue, so not in the words; but a run that mostly
  // failed proves nothing, mixed included.
  const errors = check('non-2xx', row.errorShare * 100, '≤', TARGETS.errorShare * 100, '%');
  const targets = checks.map((c) => c.target);
  if (checks.length > 0 || errors.pass === false) checks.push(errors);
  const failed = checks.flatMap((c) => c.failure ?? []);
  const unknown = checks.some((c) => c.pass === null);
  return {
    checks,
    target: targets.length ? targets.join(', ') : 'none in the issue',
    pass: failed.length ? false : unknown || checks.length === 0 ? null : true,
    failed,
  };
}

/**
 * The deliver targets: the SMSC's rate, and that it keeps up with what was
 * accepted (else the rate only looks good while the queue grows); no message
 * twice or never; the load generator's errors.
 */
export function judgeDeliver(
  row: Pick<
    DeliverRow,
    'submitsPerSecond' | 'acceptedPerSecond' | 'duplicates' | 'neverSubmitted' | 'accepted'
  > & { non2xx: number; errors: number },
): Pick<DeliverRow, 'checks' | 'target' | 'pass' | 'failed'> {
  const checks = [
    check('submit_sm/s', row.submitsPerSecond, '≥', TARGETS.deliverMessagesPerSecond),
    check(
      'submit_sm/s ÷ accepted/s',
      row.acceptedPerSecond > 0 ? row.submitsPerSecond / row.acceptedPerSecond : null,
      '≥',
      TARGETS.deliverKeepUpRatio,
    ),
    check('duplicates', row.duplicates, '≤', 0),
    check('never submitted', row.neverSubmitted, '≤', 0),
  ];
  const errorShare = (100 * (row.non2xx + row.errors)) / Math.max(1, row.accepted);
  const errors = check('non-2xx', errorShare, '≤', TARGETS.errorShare * 100, '%');
  const target = checks.map((c) => c.target).join(', ');
  checks.push(errors);
  const failed = checks.flatMap((c) => c.failure ?? []);
  return {
    checks,
    target,
    pass: failed.length ? false : checks.some((c) => c.pass === null) ? null : true,
    failed,
  };
}

const fmtCheck = (value: number | null): string =>
  value === null ? '—' : value >= 100 ? fmt(value) : fmt(value, 2);

const fmt = (value: number | null | undefined, digits = 0): string =>
  value === null || value === undefined || Number.isNaN(value)
    ? '—'
    : value.toLocaleString('en-US', {
        minimumFractionDigits: digits,
        maximumFractionDigits: digits,
      });
const maxOf = (...values: Array<number | null | undefined>): number | null => {
  const known = values.filter((value): value is number => typeof value === 'number');
  return known.length ? Math.max(...known) : null;
};
const verdict = (pass: boolean | null): string => (pass === null ? '—' : pass ? 'PASS' : 'FAIL');

/** 1,000,000 as 1M, 200,000 as 200k; other sizes in full. */
export function sizeLabel(messages: number): string {
  if (messages >= 1_000_000 && messages % 100_000 === 0) return `${messages / 1_000_000}M`;
  if (messages >= 1_000 && messages % 1_000 === 0) return `${messages / 1_000}k`;
  return fmt(messages);
}

function markdown(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((cells) => `| ${cells.join(' | ')} |`),
  ].join('\n');
}

/** What a row's result column says: PASS, FAIL and what failed, or why there is none. */
function resultCell(row: Row): string {
  if (row.pass === false) return `FAIL: ${row.failed.join('; ')}`;
  if (row.pass === true) return 'PASS';
  const missing = row.checks.filter((check) => check.pass === null).map((check) => check.name);
  return missing.length ? `— (not measured: ${missing.join(', ')})` : '—';
}

/** One line per row: the app's figures, then each floor's and the ratios over it. */
export function resultsTable(rows: Row[], floors: readonly Floor[]): string {
  return markdown(
    [
      'scenario',
      'messages',
      'platform',
      'req/s',
      'p50 ms',
      'p99 ms',
      'RSS MB (max)',
      ...floors.flatMap((floor) => [
        `${floor} req/s`,
        `${floor} p99`,
        `× ${floor} req/s`,
        `× ${floor} p99`,
      ]),
      `non-2xx (${['app', ...floors].join(' / ')})`,
      'foreign CPU % (max)',
      'target',
      'result',
    ],
    rows.map((row) => {
      const rps =
        row.messagesPerSecond === undefined
          ? fmt(row.rps)
          : `${fmt(row.rps, 1)} (${fmt(row.messagesPerSecond)} msg/s)`;
      const paired = floors.map((floor) => row.floors[floor]);
      return [
        row.scenario,
        sizeLabel(row.messages),
        row.platform,
        rps,
        fmt(row.p50, 1),
        fmt(row.p99, 1),
        fmt(row.rssMaxMb),
        ...paired.flatMap((floor) => [
          fmt(floor?.rps),
          fmt(floor?.p99, 1),
          fmt(floor?.rpsRatio, 2),
          fmt(floor?.p99Ratio, 2),
        ]),
        [row, ...paired].map((run) => (run ? fmt(run.non2xx + run.errors) : '—')).join(' / '),
        fmt(maxOf(row.foreignCpuPctMax, ...paired.map((floor) => floor?.foreignCpuPctMax))),
        row.target,
        resultCell(row),
      ];
    }),
  );
}

/** Where the CPU went, per successful request (ms), app runs next to their floors' runs. */
export function cpuTable(rows: Row[], floors: readonly Floor[]): string {
  return markdown(
    [
      'scenario',
      'messages',
      'platform',
      'app process',
      'PostgreSQL',
      'generator',
      'machine',
      ...floors.flatMap((floor) => [`${floor} process`, 'PostgreSQL', 'machine']),
    ],
    rows.map((row) => [
      row.scenario,
      sizeLabel(row.messages),
      row.platform,
      fmt(row.cpuMs.server, 3),
      fmt(row.cpuMs.postgres, 3),
      fmt(row.cpuMs.generator, 3),
      fmt(row.cpuMs.machine, 3),
      ...floors.flatMap((floor) => {
        const cpu = row.floors[floor]?.cpuMs;
        return [fmt(cpu?.server, 3), fmt(cpu?.postgres, 3), fmt(cpu?.machine, 3)];
      }),
    ]),
  );
}

/** The deliver runs: rates, the queue's latency, the backlog and where the CPU went. */
export function deliverTable(rows: DeliverRow[]): string {
  return markdown(
    [
      'platform',
      'messages',
      'instances × connections',
      'accepted POST/s',
      'submit_sm/s',
      '÷ accepted',
      'POST p50 / p99 ms',
      'queue p50 / p99 ms (202 → submit_sm)',
      'backlog start → end (outbox queued+sending at end)',
      'duplicates / never submitted',
      'CPU ms/msg apps / PG / SMSC / generator',
      'PG xacts/msg',
      'CPU % of a core: apps / PG / SMSC / generator',
      'foreign CPU %',
      'target',
      'result',
    ],
    rows.map((row) => {
      const outbox = (row.outboxAtEnd.queued ?? 0) + (row.outboxAtEnd.sending ?? 0);
      return [
        row.platform,
        sizeLabel(row.messages),
        `${row.instances} × ${row.connections / row.instances}`,
        fmt(row.acceptedPerSecond),
        fmt(row.submitsPerSecond),
        fmt(row.submitsPerSecond / row.acceptedPerSecond, 2),
        `${fmt(row.post.p50, 1)} / ${fmt(row.post.p99, 1)}`,
        `${fmt(row.queueLatency.p50, 1)} / ${fmt(row.queueLatency.p99, 1)}`,
        `${fmt(row.backlogAtStart)} → ${fmt(row.backlogAtEnd)} (${fmt(outbox)})`,
        `${fmt(row.duplicates)} / ${fmt(row.neverSubmitted)}`,
        [row.cpuMs.apps, row.cpuMs.postgres, row.cpuMs.smsc, row.cpuMs.generator]
          .map((value) => fmt(value, 3))
          .join(' / '),
        fmt(row.pgTransactionsPerMessage, 1),
        [
          row.cpuPct.apps.map((value) => fmt(value)).join('+'),
          fmt(row.cpuPct.postgres),
          fmt(row.cpuPct.smsc),
          fmt(row.cpuPct.generator),
        ].join(' / '),
        fmt(row.foreignCpuPct),
        row.target,
        row.pass === false ? `FAIL: ${row.failed.join('; ')}` : verdict(row.pass),
      ];
    }),
  );
}

export function flatnessTable(rows: FlatnessRow[]): string {
  return markdown(
    [
      'scenario',
      'platform',
      'small: messages / numbers',
      'req/s',
      'p99 ms',
      'large: messages / numbers',
      'req/s',
      'p99 ms',
      'p99 ratio',
      'target',
      'result',
    ],
    rows.map((row) => [
      row.scenario,
      row.platform,
      `${fmt(row.small.messages)} / ${fmt(row.small.numbers)}`,
      fmt(row.small.rps),
      fmt(row.small.p99, 1),
      `${fmt(row.large.messages)} / ${fmt(row.large.numbers)}`,
      fmt(row.large.rps),
      fmt(row.large.p99, 1),
      fmt(row.p99Ratio, 2),
      `≤ ${TARGETS.flatnessP99Ratio}`,
      verdict(row.pass),
    ]),
  );
}

export { IMPORT_BATCH };
