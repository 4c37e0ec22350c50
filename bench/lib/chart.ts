// The benchmark's picture: an SVG written by hand (no dependency), with per
// dataset size a req/s panel and a p99 panel. In each, a group of bars per
// scenario and platform: the app on that platform, then the floors' runs
// paired with it. The bulk import (no floor, req/s a thousand times smaller)
// is a line of text under the panels.
import { type Floor, FLOORS, sizeLabel } from './report.js';

export interface ChartRow {
  scenario: string;
  platform: string;
  messages: number;
  rps: number;
  p99: number;
  messagesPerSecond?: number;
  floors: Partial<Record<Floor, { rps: number; p99: number }>>;
}

export interface ChartInput {
  title: string;
  /** Lines under the title. */
  subtitle?: string[];
  rows: ChartRow[];
}

type Series = 'express' | 'fastify' | Floor;

const COLORS: Record<Series, string> = {
  express: '#2f6db5',
  fastify: '#e8731c',
  seed: '#9a9a9a',
  'same-sql': '#4c9a5b',
};
const LEGEND: Record<Series, string> = {
  express: 'app on Express',
  fastify: 'app on Fastify',
  seed: 'seed floor (node:http + pg, seed schema)',
  'same-sql': "same-sql floor (node:http + pg, the app's repository and schema)",
};

const FONT = 'system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif';
const BAR = 22;
const BAR_GAP = 3;
const GROUP_GAP = 18;
const CLUSTER_GAP = 34;
const LEFT = 70;
const RIGHT = 24;
const MIN_WIDTH = 720;
const PLOT_HEIGHT = 170;
/** Above a panel's plot: its title. Below: platform, ratio lines, scenario. */
const PANEL_TOP = 34;
const PANEL_BOTTOM = 78;

const METRICS = {
  rps: {
    title: (size: string) => `Requests per second (2xx) at ${size} messages, higher is better`,
    axis: 'req/s',
    value: (app: { rps: number }) => app.rps,
    label: (value: number) =>
      value >= 10_000
        ? `${Math.round(value / 1000)}k`
        : value >= 1000
          ? `${(value / 1000).toFixed(1)}k`
          : `${Math.round(value)}`,
  },
  p99: {
    title: (size: string) => `p99 latency (ms) at ${size} messages, lower is better`,
    axis: 'p99 ms',
    value: (app: { p99: number }) => app.p99,
    label: (value: number) => (value < 10 ? value.toFixed(1) : `${Math.round(value)}`),
  },
} as const;
type Metric = keyof typeof METRICS;

const escape = (text: string): string =>
  text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
const round = (value: number): string => String(Math.round(value * 10) / 10);

function text(
  x: number,
  y: number,
  content: string,
  attributes: {
    size?: number;
    anchor?: 'start' | 'middle' | 'end';
    weight?: string;
    fill?: string;
    extra?: string;
  } = {},
): string {
  const { size = 11, anchor = 'start', weight, fill = '#222', extra = '' } = attributes;
  return (
    `<text x="${round(x)}" y="${round(y)}" font-size="${size}" text-anchor="${anchor}" fill="${fill}"` +
    `${weight ? ` font-weight="${weight}"` : ''}${extra}>${escape(content)}</text>`
  );
}

/** A round axis maximum above `max`: 1, 2, 2.5 or 5 times a power of ten, five ticks. */
export function niceAxis(max: number): { top: number; step: number } {
  if (!(max > 0)) return { top: 1, step: 0.2 };
  const rough = max / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s * 5 >= max) ?? 10 * power;
  return { top: step * 5, step };
}

/** The chart of a run's rows. */
export function renderChart(input: ChartInput): string {
  const barRows = input.rows.filter((row) => row.messagesPerSecond === undefined);
  const importRows = input.rows.filter((row) => row.messagesPerSecond !== undefined);
  const floors = FLOORS.filter((floor) => barRows.some((row) => row.floors[floor]));
  const sizes = [...new Set(input.rows.map((row) => row.messages))].sort((a, b) => a - b);

  // The x layout, the same in every panel: clusters of scenarios, groups of platforms.
  const clusters: Array<{ scenario: string; platforms: string[] }> = [];
  for (const row of barRows) {
    let cluster = clusters.find((c) => c.scenario === row.scenario);
    if (!cluster) clusters.push((cluster = { scenario: row.scenario, platforms: [] }));
    if (!cluster.platforms.includes(row.platform)) cluster.platforms.push(row.platform);
  }
  const slots = 1 + floors.length;
  const groupWidth = slots * BAR + (slots - 1) * BAR_GAP;
  const groupX = new Map<string, number>();
  const clusterCenters: Array<{ scenario: string; x: number }> = [];
  let x = 0;
  for (const cluster of clusters) {
    const start = x;
    for (const platform of cluster.platforms) {
      groupX.set(`${cluster.scenario}/${platform}`, x);
      x += groupWidth + GROUP_GAP;
    }
    x -= GROUP_GAP;
    clusterCenters.push({ scenario: cluster.scenario, x: (start + x) / 2 });
    x += CLUSTER_GAP;
  }
  // Clusters centred in the plot, CLUSTER_GAP / 2 at least at either end.
  const barsWidth = Math.max(0, x - CLUSTER_GAP);
  const width = Math.max(MIN_WIDTH, Math.ceil(LEFT + barsWidth + CLUSTER_GAP + RIGHT));
  const shift = LEFT + (width - LEFT - RIGHT - barsWidth) / 2;
  for (const [key, gx] of groupX) groupX.set(key, gx + shift);
  for (const cluster of clusterCenters) cluster.x += shift;

  const parts: string[] = [];
  let y = 30;
  parts.push(text(LEFT, y, input.title, { size: 17, weight: 'bold' }));
  for (const line of input.subtitle ?? []) {
    y += 18;
    parts.push(text(LEFT, y, line, { size: 12, fill: '#555' }));
  }

  // Legend: the app's platforms present, then the floors; wrapped to the width.
  y += 26;
  let legendX = LEFT;
  const series: Series[] = [
    ...(['express', 'fastify'] as const).filter((p) => barRows.some((row) => row.platform === p)),
    ...floors,
  ];
  for (const name of series) {
    const entryWidth = 17 + LEGEND[name].length * 6.4 + 22;
    if (legendX > LEFT && legendX + entryWidth - 22 > width - RIGHT) {
      legendX = LEFT;
      y += 20;
    }
    parts.push(
      `<rect x="${legendX}" y="${y - 10}" width="12" height="12" fill="${COLORS[name]}" data-legend="${name}"/>`,
    );
    parts.push(text(legendX + 17, y, LEGEND[name], { size: 12 }));
    legendX += entryWidth;
  }
  y += 8;

  const panel = (metric: Metric, size: number, top: number): void => {
    const spec = METRICS[metric];
    const rows = barRows.filter((row) => row.messages === size);
    const values = barRows.flatMap((row) => [
      spec.value(row),
      ...floors.map((floor) => (row.floors[floor] ? spec.value(row.floors[floor]) : 0)),
    ]);
    // One axis per metric across sizes, so that sizes compare at a glance.
    const axis = niceAxis(Math.max(0, ...values.filter(Number.isFinite)));
    const plotTop = top + PANEL_TOP;
    const plotBottom = plotTop + PLOT_HEIGHT;
    const yOf = (value: number): number => plotBottom - (value / axis.top) * PLOT_HEIGHT;
    parts.push(
      `<g data-panel="${metric}" data-messages="${size}">`,
      text(LEFT, top + 18, spec.title(sizeLabel(size)), { size: 13, weight: 'bold' }),
    );
    for (let tick = 0; tick <= axis.top + axis.step / 2; tick += axis.step) {
      const ty = yOf(tick);
      parts.push(
        `<line x1="${LEFT}" x2="${width - RIGHT}" y1="${round(ty)}" y2="${round(ty)}" stroke="${tick === 0 ? '#888' : '#e3e3e3'}"/>`,
        text(LEFT - 6, ty + 4, tick.toLocaleString('en-US'), {
          size: 10,
          anchor: 'end',
          fill: '#555',
        }),
      );
    }
    parts.push(
      text(18, (plotTop + plotBottom) / 2, spec.axis, {
        size: 11,
        anchor: 'middle',
        fill: '#555',
        extra: ` transform="rotate(-90 18 ${round((plotTop + plotBottom) / 2)})"`,
      }),
    );
    for (const row of rows) {
      const gx = groupX.get(`${row.scenario}/${row.platform}`);
      if (gx === undefined) continue;
      const bars: Array<{ series: Series; value: number | undefined }> = [
        { series: row.platform === 'express' ? 'express' : 'fastify', value: spec.value(row) },
        ...floors.map((floor) => ({
          series: floor,
          value: row.floors[floor] ? spec.value(row.floors[floor]) : undefined,
        })),
      ];
      bars.forEach((bar, slot) => {
        if (bar.value === undefined || !Number.isFinite(bar.value)) return;
        const bx = gx + slot * (BAR + BAR_GAP);
        const by = yOf(bar.value);
        parts.push(
          `<rect x="${round(bx)}" y="${round(by)}" width="${BAR}" height="${round(plotBottom - by)}" ` +
            `fill="${COLORS[bar.series]}" data-series="${bar.series}" data-metric="${metric}">` +
            `<title>${escape(`${row.scenario}, ${row.platform}, ${bar.series}: ${bar.value.toFixed(1)}`)}</title></rect>`,
          text(bx + BAR / 2, by - 3, spec.label(bar.value), {
            size: 9,
            anchor: 'middle',
            fill: '#333',
          }),
        );
      });
      const center = gx + groupWidth / 2;
      parts.push(text(center, plotBottom + 14, row.platform, { size: 11, anchor: 'middle' }));
      floors.forEach((floor, index) => {
        const paired = row.floors[floor];
        if (!paired) return;
        const ratio = spec.value(row) / spec.value(paired);
        parts.push(
          text(center, plotBottom + 27 + index * 11, `${ratio.toFixed(2)}× ${floor}`, {
            size: 9.5,
            anchor: 'middle',
            fill: '#555',
          }),
        );
      });
    }
    for (const cluster of clusterCenters) {
      parts.push(
        text(cluster.x, plotBottom + 30 + floors.length * 11, cluster.scenario, {
          size: 12,
          anchor: 'middle',
          weight: 'bold',
        }),
      );
    }
    parts.push('</g>');
  };

  if (barRows.length) {
    for (const size of sizes) {
      for (const metric of ['rps', 'p99'] as const) {
        panel(metric, size, y);
        y += PANEL_TOP + PLOT_HEIGHT + PANEL_BOTTOM;
      }
    }
  }
  for (const size of sizes) {
    const imports = importRows.filter((row) => row.messages === size);
    if (!imports.length) continue;
    y += 18;
    parts.push(
      text(
        LEFT,
        y,
        `import at ${sizeLabel(size)} messages (1000 events per request, no floor): ` +
          imports
            .map(
              (row) =>
                `${row.platform} ${Math.round(row.messagesPerSecond ?? 0).toLocaleString('en-US')} msg/s`,
            )
            .join(' · '),
        { size: 12, extra: ' data-row="import"' },
      ),
    );
  }
  for (const note of [
    "Next to each app bar: its floors' runs, made in the same rounds in ABBA order.",
    "read-thread and threads are compared with the floors' read-conversation (they have no thread endpoints).",
  ]) {
    y += 16;
    parts.push(text(LEFT, y, note, { size: 10.5, fill: '#666' }));
  }
  const height = Math.ceil(y + 14);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

/** A saved run as far as the chart reads it; older runs had one floor, as `baseline`. */
export interface SavedReport {
  date: string;
  machine?: { cpus?: number; node?: string };
  postgres?: { version?: string; server?: string };
  app?: { commit?: string };
  options?: { quick?: boolean; connections?: number; duration?: number; rounds?: number };
  dataset?: { messages: number };
  rows: Array<
    Omit<ChartRow, 'messages' | 'floors'> & {
      messages?: number;
      floors?: ChartRow['floors'];
      baseline?: { rps: number; p99: number } | null;
    }
  >;
}

/** The chart's title, subtitle and rows from a run's JSON. */
export function chartInputFromReport(report: SavedReport): ChartInput {
  const rows: ChartRow[] = report.rows.map((row) => ({
    scenario: row.scenario,
    platform: row.platform,
    messages: row.messages ?? report.dataset?.messages ?? 0,
    rps: row.rps,
    p99: row.p99,
    messagesPerSecond: row.messagesPerSecond,
    floors: row.floors ?? (row.baseline ? { seed: row.baseline } : {}),
  }));
  const sizes = [...new Set(rows.map((row) => row.messages))].sort((a, b) => a - b);
  const { options = {}, machine = {}, postgres = {} } = report;
  const sizeText = sizes.map(sizeLabel).join(' and ');
  const settings = [
    machine.cpus ? `${machine.cpus} cores` : undefined,
    machine.node ? `Node ${machine.node}` : undefined,
    postgres.version ? `PostgreSQL ${postgres.version}` : undefined,
    options.connections ? `${options.connections} connections` : undefined,
    options.duration ? `${options.duration} s per run` : undefined,
    options.rounds ? `${options.rounds} round${options.rounds > 1 ? 's' : ''}` : undefined,
  ];
  return {
    title: `Benchmark${options.quick ? ' (quick run)' : ''}: ${sizeText} messages, ${report.date.slice(0, 10)}`,
    subtitle: [`app ${report.app?.commit ?? 'unknown'}`, settings.filter(Boolean).join(', ')],
    rows,
  };
}
