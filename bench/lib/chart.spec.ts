import { describe, expect, it } from 'vitest';
import { type ChartRow, chartInputFromReport, niceAxis, renderChart } from './chart.js';

/** A row of a fake run: the app's figures and its floors' paired runs. */
function row(overrides: Partial<ChartRow> = {}): ChartRow {
  return {
    scenario: 'read-conversation',
    platform: 'fastify',
    messages: 200_000,
    rps: 1_700,
    p99: 68,
    floors: { seed: { rps: 4_500, p99: 21 }, 'same-sql': { rps: 3_000, p99: 30 } },
    ...overrides,
  };
}

const bars = (svg: string, series: string, metric: string): number =>
  svg.match(new RegExp(`<rect [^>]*data-series="${series}" data-metric="${metric}"`, 'g'))
    ?.length ?? 0;

describe('renderChart', () => {
  const rows = [
    row({ platform: 'express', rps: 1_500, p99: 85 }),
    row(),
    row({ scenario: 'send', platform: 'express' }),
    row({ scenario: 'send', floors: { seed: { rps: 4_400, p99: 27 } } }),
    row({
      scenario: 'import',
      platform: 'fastify',
      rps: 20,
      p99: 400,
      messagesPerSecond: 20_339,
      floors: {},
    }),
  ];
  const svg = renderChart({ title: 'Benchmark: 200k messages, 2026-12-01, app abc1234', rows });

  it('draws a req/s and a p99 bar for the app and each floor it was paired with', () => {
    for (const metric of ['rps', 'p99']) {
      expect(bars(svg, 'express', metric)).toBe(2);
      expect(bars(svg, 'fastify', metric)).toBe(2);
      expect(bars(svg, 'seed', metric)).toBe(4);
      // The fastify send row has no same-sql run: no bar for it.
      expect(bars(svg, 'same-sql', metric)).toBe(3);
    }
  });

  it('gives every series a legend entry, and the title, panels and ratios as text', () => {
    for (const series of ['express', 'fastify', 'seed', 'same-sql']) {
      expect(svg).toContain(`data-legend="${series}"`);
    }
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('Benchmark: 200k messages, 2026-12-01, app abc1234');
    expect(svg).toContain('Requests per second (2xx) at 200k messages');
    expect(svg).toContain('p99 latency (ms) at 200k messages');
    expect(svg).toContain('0.33× seed'); // 1,500 / 4,500
    expect(svg.match(/<text /g)?.length).toBe(svg.match(/<\/text>/g)?.length);
  });

  it('keeps the import out of the bars and states its messages per second', () => {
    expect(svg).not.toMatch(/import, fastify/);
    expect(svg).toContain('fastify 20,339 msg/s');
  });

  it('puts a panel pair per dataset size and escapes text', () => {
    const two = renderChart({
      title: 'a < b & "c"',
      rows: [row(), row({ messages: 1_000_000 })],
    });
    expect(two.match(/data-panel="rps"/g)?.length).toBe(2);
    expect(two).toContain('at 1M messages');
    expect(two).toContain('a &#60; b &#38; &#34;c&#34;');
  });
});

describe('chartInputFromReport', () => {
  it('reads an older run, whose one floor was `baseline`', () => {
    const input = chartInputFromReport({
      date: '2026-11-25T14:39:43.000Z',
      app: { commit: '10cc7ee' },
      dataset: { messages: 1_000_000 },
      rows: [
        {
          scenario: 'send',
          platform: 'express',
          rps: 811,
          p99: 147,
          baseline: { rps: 2379, p99: 54.5 },
        },
      ],
    });
    expect(input.title).toBe('Benchmark: 1M messages, 2026-11-25');
    expect(input.subtitle?.[0]).toBe('app 10cc7ee');
    expect(input.rows[0]).toMatchObject({ messages: 1_000_000, floors: { seed: { rps: 2379 } } });
  });
});

describe('niceAxis', () => {
  it('rounds the top up to five round steps', () => {
    expect(niceAxis(4_552)).toEqual({ top: 5_000, step: 1_000 });
    expect(niceAxis(68.5)).toEqual({ top: 100, step: 20 });
    expect(niceAxis(0)).toEqual({ top: 1, step: 0.2 });
  });
});
