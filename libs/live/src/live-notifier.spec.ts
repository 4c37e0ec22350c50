import { randomUUID } from 'node:crypto';
import { MessageEvents } from '@app/messaging';
import { decodeChanges } from './live-event.js';
import { LiveNotifier, MAX_PAYLOADS_PER_STATEMENT, NOTIFY_INTERVAL_MS } from './live-notifier.js';
import type { LiveRepository } from './live.repository.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('LiveNotifier', () => {
  let events: MessageEvents;
  let payloads: Array<{ at: number; payload: string }>;
  /** The payloads of each NOTIFY statement, in order. */
  let statements: string[][];
  /** A NOTIFY's round trip to the database. */
  let roundTripMs: number;
  let notifier: LiveNotifier;

  beforeEach(() => {
    events = new MessageEvents();
    payloads = [];
    statements = [];
    roundTripMs = 1;
    const repository = {
      notify: (_channel: string, sent: readonly string[]) => {
        statements.push([...sent]);
        for (const payload of sent) payloads.push({ at: Date.now(), payload });
        return sleep(roundTripMs);
      },
    } as unknown as LiveRepository;
    notifier = new LiveNotifier(events, repository);
    notifier.onModuleInit();
  });

  afterEach(() => notifier.beforeApplicationShutdown());

  const record = () =>
    events.publish({
      kind: 'sent',
      outcome: 'created',
      uuid: randomUUID(),
      senderPhone: '+12025550143',
      receiverPhone: '+12025550178',
    });
  const announced = () => payloads.flatMap(({ payload }) => decodeChanges(payload)).length;

  it('announces a change at once when idle', async () => {
    const recordedAt = Date.now();
    record();
    await expect.poll(() => payloads.length, { interval: 1 }).toBe(1);
    expect(payloads[0].at - recordedAt).toBeLessThan(NOTIFY_INTERVAL_MS);
  });

  it('under load, sends one NOTIFY per interval with every change of it, and loses none', async () => {
    const started = Date.now();
    let recorded = 0;
    while (Date.now() - started < 10 * NOTIFY_INTERVAL_MS) {
      for (let burst = 0; burst < 5; burst += 1, recorded += 1) record();
      // A burst per millisecond, for ten intervals.
      await sleep(1);
    }
    await expect.poll(announced).toBe(recorded);
    // About one round per interval (a burst per millisecond would otherwise be a NOTIFY each).
    expect(payloads.length).toBeLessThanOrEqual(12);
    const gaps = payloads.slice(1).map(({ at }, index) => at - payloads[index].at);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(NOTIFY_INTERVAL_MS - 2);
  });

  it('keeps up with a bulk import behind a slow database: one statement per round, however many payloads', async () => {
    // An import's statements hold the pool, so a NOTIFY waits its turn.
    roundTripMs = 50;
    record();
    await expect.poll(() => statements.length, { interval: 1 }).toBe(1);
    // Three imports of 1000 messages land while that first NOTIFY is on its way.
    for (let index = 0; index < 3000; index += 1) record();
    await expect.poll(announced, { timeout: 2_000 }).toBe(3001);
    // 3000 changes need dozens of 8000-byte payloads, all in the second statement.
    expect(statements).toHaveLength(2);
    expect(statements[1].length).toBeGreaterThan(20);
    const uuids = statements[1].flatMap((payload) => decodeChanges(payload).map((c) => c.uuid));
    expect(new Set(uuids).size).toBe(3000);
  });

  it('splits a round of more than MAX_PAYLOADS_PER_STATEMENT payloads over several statements', async () => {
    roundTripMs = 50;
    record();
    await expect.poll(() => statements.length, { interval: 1 }).toBe(1);
    // About 100 changes fit a payload: this backlog needs more than one statement.
    const backlog = MAX_PAYLOADS_PER_STATEMENT * 150;
    for (let index = 0; index < backlog; index += 1) record();
    await expect.poll(announced, { timeout: 5_000 }).toBe(backlog + 1);
    expect(statements.length).toBeGreaterThan(2);
    expect(Math.max(...statements.map((sent) => sent.length))).toBe(MAX_PAYLOADS_PER_STATEMENT);
  });

  it('sends what is still pending when the app stops', async () => {
    record();
    record();
    await notifier.beforeApplicationShutdown();
    expect(announced()).toBe(2);
  });
});
