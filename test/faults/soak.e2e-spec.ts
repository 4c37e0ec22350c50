import { buildSmsEvent, randomPhone, type SmsEventBody } from '../factories/sms-event.factory.js';
import { createTestDatabase, type TestDatabase } from '../setup/test-database.js';
import { type AppProcess, startAppProcess } from './support/app-process.js';
import { networkErrorCode, type Outcome } from './support/send-load.js';

const SOAK_MS = 60_000;
/**
 * RSS at the end is compared with RSS after 10 s. V8 collects its old space
 * lazily, so one sample can sit anywhere on a ±30% sawtooth: each side is the
 * median of the samples (two a second) of the 5 s after 10 s and the last 5 s.
 */
const BASELINE_WINDOW_MS = [10_000, 15_000] as const;
const END_WINDOW_MS = 5_000;
const MAX_REQUESTS = 1_000_000;
const CONCURRENCY = 8;
/** A steady pace a small machine sustains, CI's included, rather than as fast as it goes. */
const REQUESTS_PER_SECOND = 300;

interface Action {
  name: string;
  weight: number;
  /** The request to make and the status it must get; undefined when it cannot run yet. */
  prepare(): PreparedRequest | undefined;
}

interface PreparedRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  expect: number;
  /** Run once it got the expected answer. */
  then?: () => void;
}

/**
 * Fault 4: a minute of mixed traffic (new messages, the receiver's reports,
 * replays, conflicts, invalid bodies, conversation reads, scrapes and
 * probes). No 5xx, every answer the expected one, and memory that stays put:
 * RSS at the end at most 1.3 × RSS after 10 s.
 */
describe('Soak: a minute of mixed load (e2e)', () => {
  let database: TestDatabase;
  let app: AppProcess | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await app?.dispose();
    await database?.drop();
  });

  it(
    'answers everything as expected, never with a 5xx, with stable memory',
    async () => {
      app = await startAppProcess({ DATABASE_URL: database.url, LOG_LEVEL: 'warn' });
      await app.waitUntilReady();
      const target = app;

      const phones = Array.from({ length: 20 }, () => randomPhone());
      const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)];
      /** Sent events not yet received, and sent events both sides reported: bounded. */
      const sentOnly: SmsEventBody[] = [];
      const delivered: SmsEventBody[] = [];
      const remember = (list: SmsEventBody[], event: SmsEventBody) => {
        list.push(event);
        if (list.length > 2_000) list.splice(0, 1_000);
      };

      const actions: Action[] = [
        {
          name: 'send a new message',
          weight: 40,
          prepare: () => {
            const [sender, receiver] = [pick(phones), pick(phones)];
            const event = buildSmsEvent({ senderPhone: sender, receiverPhone: receiver });
            return {
              method: 'POST',
              path: '/api/send-sms',
              body: event,
              expect: 201,
              then: () => remember(sentOnly, event),
            };
          },
        },
        {
          name: "the receiver's report",
          weight: 15,
          prepare: () => {
            const event = sentOnly.shift();
            if (!event) return undefined;
            const received = { ...event, timestamp: event.timestamp + 3 };
            return {
              method: 'POST',
              path: '/api/receive-sms',
              body: received,
              expect: 201,
              then: () => remember(delivered, event),
            };
          },
        },
        {
          name: 'a replay',
          weight: 10,
          prepare: () => {
            const event = delivered.length > 0 ? pick(delivered) : undefined;
            return event && { method: 'POST', path: '/api/send-sms', body: event, expect: 200 };
          },
        },
        {
          name: 'a conflicting reuse of a uuid',
          weight: 5,
          prepare: () => {
            const event = delivered.length > 0 ? pick(delivered) : undefined;
            const conflicting = event && { ...event, messageText: `${event.messageText}!` };
            return (
              conflicting && {
                method: 'POST',
                path: '/api/send-sms',
                body: conflicting,
                expect: 409,
              }
            );
          },
        },
        {
          name: 'an invalid body',
          weight: 5,
          prepare: () => ({
            method: 'POST',
            path: '/api/send-sms',
            body: { ...buildSmsEvent({ senderPhone: pick(phones) }), timestamp: Date.now() },
            expect: 400,
          }),
        },
        {
          name: 'a conversation read',
          weight: 25,
          prepare: () => ({
            method: 'GET',
            path: `/api/get-conversation/${encodeURIComponent(pick(phones))}?limit=50`,
            expect: 200,
          }),
        },
      ];
      const totalWeight = actions.reduce((sum, action) => sum + action.weight, 0);
      const chooseAction = () => {
        let roll = Math.random() * totalWeight;
        for (const action of actions) if ((roll -= action.weight) < 0) return action;
        return actions[0];
      };

      const outcomes = new Map<Outcome, number>();
      const unexpected: string[] = [];
      const latenciesMs: number[] = [];
      let requests = 0;
      const started = performance.now();
      const elapsed = () => performance.now() - started;
      const running = () => elapsed() < SOAK_MS && requests < MAX_REQUESTS;

      const worker = async () => {
        while (running()) {
          const action = chooseAction();
          const request = action.prepare();
          if (!request) continue;
          requests += 1;
          // Paced to REQUESTS_PER_SECOND in all: a steady load, not a flood.
          const due = started + (requests / REQUESTS_PER_SECOND) * 1000;
          if (due > performance.now()) {
            await new Promise((resolve) => setTimeout(resolve, due - performance.now()));
          }
          const requestStarted = performance.now();
          let outcome: Outcome;
          try {
            const response = await fetch(`${target.baseUrl}${request.path}`, {
              method: request.method,
              headers: {
                Authorization: target.authorization,
                ...(request.body ? { 'Content-Type': 'application/json' } : {}),
              },
              body: request.body ? JSON.stringify(request.body) : undefined,
              signal: AbortSignal.timeout(15_000),
            });
            await response.arrayBuffer();
            outcome = response.status;
          } catch (error) {
            outcome = networkErrorCode(error);
          }
          latenciesMs.push(performance.now() - requestStarted);
          if (latenciesMs.length > 200_000) latenciesMs.splice(0, 100_000);
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
          if (outcome !== request.expect) {
            if (unexpected.length < 20) {
              unexpected.push(`${action.name}: expected ${request.expect}, got ${outcome}`);
            }
            continue;
          }
          request.then?.();
        }
      };

      /** RSS as the app itself reports it, scraped like Prometheus would. */
      const rssSamples: Array<{ atMs: number; rss: number }> = [];
      const scraper = async () => {
        while (running()) {
          const metrics = await fetch(`${target.baseUrl}/metrics`);
          const text = await metrics.text();
          const rss = /^process_resident_memory_bytes (\d+)/m.exec(text)?.[1];
          if (rss) rssSamples.push({ atMs: elapsed(), rss: Number(rss) });
          const ready = await fetch(`${target.baseUrl}/api/health/ready`);
          await ready.arrayBuffer();
          if (ready.status !== 200) unexpected.push(`readiness answered ${ready.status}`);
          // The scrape interval.
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      };

      await Promise.all([...Array.from({ length: CONCURRENCY }, worker), scraper()]);
      const durationS = elapsed() / 1000;

      const serverErrors = [...outcomes].filter(
        ([outcome]) => typeof outcome === 'string' || outcome >= 500,
      );
      expect(serverErrors).toEqual([]);
      expect(unexpected).toEqual([]);

      const median = (values: number[]) => values.toSorted((a, b) => a - b)[values.length >> 1];
      const baselineSamples = rssSamples.filter(
        ({ atMs }) => atMs >= BASELINE_WINDOW_MS[0] && atMs <= BASELINE_WINDOW_MS[1],
      );
      const endSamples = rssSamples.filter(({ atMs }) => atMs >= durationS * 1000 - END_WINDOW_MS);
      expect(baselineSamples.length).toBeGreaterThanOrEqual(3);
      expect(endSamples.length).toBeGreaterThanOrEqual(3);
      const baseline = median(baselineSamples.map(({ rss }) => rss));
      const end = median(endSamples.map(({ rss }) => rss));
      const peak = Math.max(...rssSamples.map(({ rss }) => rss));
      expect(end).toBeLessThanOrEqual(1.3 * baseline);

      const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
      const sorted = latenciesMs.toSorted((a, b) => a - b);
      const at = (p: number) => sorted[Math.floor((sorted.length - 1) * p)].toFixed(1);
      console.info(
        `[soak] ${requests} requests in ${durationS.toFixed(0)} s (${Math.round(requests / durationS)}/s), ` +
          `${JSON.stringify(Object.fromEntries(outcomes))}, 0 5xx; latency p50 ${at(0.5)} ms, p99 ${at(0.99)} ms; ` +
          `RSS ${mb(baseline)} after 10-15 s, ${mb(end)} at the end (${(end / baseline).toFixed(2)} ×; ` +
          `medians), peak ${mb(peak)}, last sample ${mb(rssSamples.at(-1)!.rss)}`,
      );
    },
    SOAK_MS + 50_000,
  );
});
