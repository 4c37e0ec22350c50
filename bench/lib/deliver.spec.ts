import { describe, expect, it } from 'vitest';
import {
  analyzeDeliveries,
  deliverIndex,
  deliverText,
  distribution,
  percentile,
  type SentMessage,
} from './deliver.js';

describe('percentile', () => {
  it('takes the nearest rank of sorted values', () => {
    const values = Array.from({ length: 100 }, (_, index) => index + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile(values, 0)).toBe(1);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('sorts before it ranks, in distribution', () => {
    expect(distribution([30, 10, 20])).toEqual({ count: 3, p50: 20, p99: 30, max: 30 });
  });
});

describe('deliverText', () => {
  it("is read back with the run's tag only", () => {
    expect(deliverIndex('ab12', deliverText('ab12', 42))).toBe(42);
    expect(deliverIndex('ab12', deliverText('cd34', 42))).toBeNull();
    expect(deliverIndex('ab12', 'Bench deliver ab12 #4x')).toBeNull();
    expect(deliverIndex('ab12', 'Bench probe 0')).toBeNull();
  });
});

describe('analyzeDeliveries', () => {
  const tag = 't1';
  const message = (n: number, sentAt: number, acceptedAt: number | null): SentMessage => ({
    n,
    sentAt,
    acceptedAt,
  });
  const submit = (n: number, at: number) => ({ text: deliverText(tag, n), at });

  it('measures the window: rates, latency from the 202, backlog at both ends', () => {
    const sent = [
      message(0, 900, 950), // before the window, submitted in it
      message(1, 1000, 1100),
      message(2, 1200, 1300),
      message(3, 1900, 1950), // accepted in the window, submitted after it
      message(4, 1950, null), // no 202
    ];
    const submits = [submit(0, 1010), submit(1, 1150), submit(2, 1500), submit(3, 2100)];
    const result = analyzeDeliveries(sent, submits, tag, { start: 1000, end: 2000 });
    expect(result.window.seconds).toBe(1);
    expect(result.accepted).toBe(3);
    expect(result.submitted).toBe(3);
    expect(result.acceptedPerSecond).toBe(3);
    expect(result.submitsPerSecond).toBe(3);
    expect(result.backlogAtStart).toBe(1);
    expect(result.backlogAtEnd).toBe(1);
    expect(result.queueLatency).toEqual({ count: 3, p50: 150, p99: 200, max: 200 });
    expect(result.endToEnd.max).toBe(300);
    expect(result.post).toEqual({ count: 3, p50: 100, p99: 100, max: 100 });
    expect(result).toMatchObject({ duplicates: 0, neverSubmitted: 0, unknown: 0 });
  });

  it('counts a second submit of a message, one never submitted, and strangers', () => {
    const sent = [message(0, 0, 10), message(1, 0, 10), message(2, 0, 10)];
    const submits = [
      submit(0, 20),
      submit(0, 30),
      submit(1, 25),
      submit(9, 26),
      { text: 'someone else', at: 27 },
    ];
    const result = analyzeDeliveries(sent, submits, tag, { start: 0, end: 100 });
    expect(result).toMatchObject({ duplicates: 1, neverSubmitted: 1, unknown: 1 });
    // Every submit_sm of the run counts towards the rate, a duplicate too.
    expect(result.submitted).toBe(4);
    // Latency to the first submit.
    expect(result.queueLatency.max).toBe(15);
  });

  it('does not count as waiting a message submitted before its 202 arrived', () => {
    const sent = [message(0, 0, 50)];
    const result = analyzeDeliveries(sent, [submit(0, 40)], tag, { start: 0, end: 100 });
    expect(result.backlogAtEnd).toBe(0);
    expect(result.queueLatency.p50).toBe(-10);
  });
});
