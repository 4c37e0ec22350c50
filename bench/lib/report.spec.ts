import { describe, expect, it } from 'vitest';
import { type FloorResult, judge, judgeDeliver } from './report.js';

/** A floor's paired runs with the app's ratios over them. */
function floor(rpsRatio: number, p99Ratio: number): FloorResult {
  return {
    scenario: 'read-conversation',
    rps: 1000,
    p50: 10,
    p99: 20,
    rssMaxMb: 90,
    cpuMs: { server: null, postgres: null, generator: null, machine: null },
    non2xx: 0,
    errors: 0,
    ok: 3000,
    runs: 1,
    foreignCpuPctMax: 0,
    rpsRatio,
    p99Ratio,
  };
}

describe('judge', () => {
  const read = { scenario: 'read-conversation', rssMaxMb: 150, errorShare: 0 } as const;

  it('passes a Fastify read only when both floors, p99 and RSS pass', () => {
    const floors = { seed: floor(0.75, 1.5), 'same-sql': floor(0.9, 1.2) };
    expect(judge({ ...read, platform: 'fastify', floors }).pass).toBe(true);
    const slow = judge({
      ...read,
      platform: 'fastify',
      floors: { ...floors, 'same-sql': floor(0.8, 1) },
    });
    expect(slow.pass).toBe(false);
    expect(slow.failed).toEqual(['× same-sql req/s 0.80 < 0.85']);
  });

  it('holds Express to the seed floor only, and names every failed target', () => {
    const verdict = judge({
      ...read,
      platform: 'express',
      rssMaxMb: 310,
      floors: { seed: floor(0.3, 3) },
    });
    expect(verdict.target).toBe('× seed req/s ≥ 0.45, × seed p99 ≤ 2, RSS ≤ 200 MB');
    expect(verdict.failed).toEqual([
      '× seed req/s 0.30 < 0.45',
      '× seed p99 3.00 > 2',
      'RSS 310 MB > 200 MB',
    ]);
  });

  it('has no verdict when a floor was not measured, and none for mixed', () => {
    expect(
      judge({ ...read, platform: 'fastify', floors: { seed: floor(0.8, 1) } }).pass,
    ).toBeNull();
    const mixed = judge({ ...read, scenario: 'mixed', platform: 'fastify', floors: {} });
    expect(mixed).toMatchObject({ pass: null, target: 'none in the issue' });
  });

  it('fails the import under 30,000 messages per second', () => {
    const verdict = judge({
      scenario: 'import',
      platform: 'fastify',
      messagesPerSecond: 20_000,
      rssMaxMb: 180,
      floors: {},
      errorShare: 0,
    });
    expect(verdict.failed).toEqual(['msg/s 20,000 < 30,000']);
  });
});

describe('judgeDeliver', () => {
  const run = {
    submitsPerSecond: 1200,
    acceptedPerSecond: 1210,
    duplicates: 0,
    neverSubmitted: 0,
    accepted: 12_000,
    non2xx: 0,
    errors: 0,
  };

  it('passes a rate at the target that keeps up with what was accepted', () => {
    const verdict = judgeDeliver(run);
    expect(verdict.pass).toBe(true);
    expect(verdict.target).toBe(
      'submit_sm/s ≥ 1,000, submit_sm/s ÷ accepted/s ≥ 0.95, duplicates ≤ 0, never submitted ≤ 0',
    );
  });

  it('fails a rate that only looks good while the queue grows, and any duplicate', () => {
    const verdict = judgeDeliver({ ...run, acceptedPerSecond: 1500, duplicates: 2 });
    expect(verdict.failed).toEqual(['submit_sm/s ÷ accepted/s 0.80 < 0.95', 'duplicates 2.00 > 0']);
  });

  it('fails under 1,000 submit_sm per second', () => {
    const verdict = judgeDeliver({ ...run, submitsPerSecond: 400, acceptedPerSecond: 400 });
    expect(verdict.failed).toEqual(['submit_sm/s 400 < 1,000']);
  });
});
