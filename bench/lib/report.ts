// Targets from the issue, and the tables the benchmark prints (Markdown, so
// they can be pasted into bench/README.md as they are).
import { IMPORT_BATCH, SCENARIOS, type ScenarioName } from './scenarios.js';

export type Platform = 'express' | 'fastify';

export const TARGETS = {
  express: { read: { rps: 0.5, p99: 2 }, send: { rps: 0.45 } },
  fastify: { read: { rps: 0.9 }, send: { rps: 0.7 } },
  importMessagesPerSecond: 20_000,
  flatnessP99Ratio: 1.5,
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
  runs: number;
  /** The most CPU other work on the machine took during one of these runs, % of the machine. */
  foreignCpuPctMax: number | null;
}

export interface Row extends Combined {
  scenario: ScenarioName;
  platform: Platform;
  messagesPerSecond?: number;
  baselineScenario: ScenarioName | null;
  baseline: Combined | null;
  rpsRatio: number | null;
  p99Ratio: number | null;
  target: string;
  pass: boolean | null;
}

export interface FlatnessRow {
  platform: Platform;
  small: Combined & { messages: number; numbers: number };
  large: Combined & { messages: number; numbers: number };
  p99Ratio: number;
  rpsRatio: number;
  pass: boolean;
}

/** The target of one row and whether it is met; pass null when the issue sets none. */
export function judge(
  row: Pick<Row, 'scenario' | 'platform' | 'messagesPerSecond' | 'rpsRatio' | 'p99Ratio'>,
): { target: string; pass: boolean | null } {
  const { kind } = SCENARIOS[row.scenario];
  if (kind === 'import') {
    const target = TARGETS.importMessagesPerSecond;
    return {
      target: `≥ ${target.toLocaleString('en-US')} msg/s`,
      pass: (row.messagesPerSecond ?? 0) >= target,
    };
  }
  if (kind === 'mixed') return { target: 'none in the issue', pass: null };
  const targets: { rps: number; p99?: number } = TARGETS[row.platform][kind];
  if (row.rpsRatio === null || row.p99Ratio === null) {
    return { target: 'needs the baseline', pass: null };
  }
  const parts = [`≥ ${targets.rps}× req/s`];
  let pass = row.rpsRatio >= targets.rps;
  if (targets.p99 !== undefined) {
    parts.push(`p99 ≤ ${targets.p99}×`);
    pass = pass && row.p99Ratio <= targets.p99;
  }
  return { target: parts.join(', '), pass };
}

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

function markdown(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((cells) => `| ${cells.join(' | ')} |`),
  ].join('\n');
}

export function resultsTable(rows: Row[]): string {
  return markdown(
    [
      'scenario',
      'platform',
      'req/s',
      'p50 ms',
      'p99 ms',
      'baseline run',
      'base req/s',
      'base p50',
      'base p99',
      '× req/s',
      '× p99',
      'RSS MB (max)',
      'non-2xx',
      'foreign CPU % (max)',
      'target',
      'result',
    ],
    rows.map((row) => {
      const baselineRun = row.baselineScenario
        ? row.baselineScenario === row.scenario
          ? row.baselineScenario
          : `${row.baselineScenario} (no thread endpoints)`
        : 'none';
      const rps =
        row.messagesPerSecond === undefined
          ? fmt(row.rps)
          : `${fmt(row.rps, 1)} (${fmt(row.messagesPerSecond)} msg/s)`;
      return [
        row.scenario,
        row.platform,
        rps,
        fmt(row.p50, 1),
        fmt(row.p99, 1),
        baselineRun,
        fmt(row.baseline?.rps),
        fmt(row.baseline?.p50, 1),
        fmt(row.baseline?.p99, 1),
        fmt(row.rpsRatio, 2),
        fmt(row.p99Ratio, 2),
        fmt(row.rssMaxMb),
        fmt(row.non2xx + row.errors),
        fmt(maxOf(row.foreignCpuPctMax, row.baseline?.foreignCpuPctMax)),
        row.target,
        verdict(row.pass),
      ];
    }),
  );
}

/** Where the CPU went, per successful request (ms), app runs next to their baseline runs. */
export function cpuTable(rows: Row[]): string {
  return markdown(
    [
      'scenario',
      'platform',
      'app process',
      'PostgreSQL',
      'generator',
      'machine',
      'baseline process',
      'PostgreSQL',
      'generator',
      'machine',
    ],
    rows.map((row) => [
      row.scenario,
      row.platform,
      fmt(row.cpuMs.server, 3),
      fmt(row.cpuMs.postgres, 3),
      fmt(row.cpuMs.generator, 3),
      fmt(row.cpuMs.machine, 3),
      fmt(row.baseline?.cpuMs.server, 3),
      fmt(row.baseline?.cpuMs.postgres, 3),
      fmt(row.baseline?.cpuMs.generator, 3),
      fmt(row.baseline?.cpuMs.machine, 3),
    ]),
  );
}

export function flatnessTable(rows: FlatnessRow[]): string {
  return markdown(
    [
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
