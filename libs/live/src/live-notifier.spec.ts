import { randomUUID } from 'node:crypto';
import { MessageEvents } from '@app/messaging';
import { decodeChanges } from './live-event.js';
import { LiveNotifier, NOTIFY_INTERVAL_MS } from './live-notifier.js';
import type { LiveRepository } from './live.repository.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('LiveNotifier', () => {
  let events: MessageEvents;
  let payloads: Array<{ at: number; payload: string }>;
  let notifier: LiveNotifier;

  beforeEach(() => {
    events = new MessageEvents();
    payloads = [];
    const repository = {
      notify: (_channel: string, payload: string) => {
        payloads.push({ at: Date.now(), payload });
        // A NOTIFY's round trip to the database.
        return sleep(1);
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

  it('sends what is still pending when the app stops', async () => {
    record();
    record();
    await notifier.beforeApplicationShutdown();
    expect(announced()).toBe(2);
  });
});
