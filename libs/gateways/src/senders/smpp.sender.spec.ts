import { outgoingSms, sendFailureOf } from '../../../../test/support/outgoing-sms.js';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { analyzeSms } from '@app/common';
import { type Smsc, startSmsc } from '../../../../test/support/smsc.js';
import type { DeliveryReport, OutgoingSms } from './sms-sender.js';
import {
  SmppOutcomeUnknown,
  SmppSender,
  type SmppSenderOptions,
  splitSmsSegments,
} from './smpp.sender.js';

const outgoing = (text: string): OutgoingSms =>
  outgoingSms({ text, to: '+447700900123', statusCallbackUrl: 'https://sms.example.com/hook' });

/** Septets (GSM-7) or UTF-16 code units (UCS-2) of a part, as analyzeSms counts them. */
const unitsOf = (part: string) => analyzeSms(part).units;

describe('splitSmsSegments', () => {
  const texts = {
    empty: '',
    short: 'See you at 6',
    'exactly one GSM-7 part': 'a'.repeat(160),
    'one septet over': 'a'.repeat(161),
    'an extension character across the boundary': 'a'.repeat(152) + '€' + 'b'.repeat(20),
    'an extension character ending a part': 'a'.repeat(151) + '{' + 'b'.repeat(20),
    'only extension characters': '[]'.repeat(100),
    'exactly one UCS-2 part': 'я'.repeat(70),
    'one code unit over': 'я'.repeat(71),
    'an emoji across the boundary': 'я'.repeat(66) + '😀' + 'я'.repeat(10),
    'only emoji': '😀'.repeat(40),
    'a lone surrogate': '\ud800' + 'я'.repeat(80),
  };

  it.each(Object.entries(texts))('cuts %s into as many parts as analyzeSms counts', (_, text) => {
    const { encoding, segments, perSegment } = analyzeSms(text);
    const parts = splitSmsSegments(text, encoding);
    expect(parts).toHaveLength(segments);
    expect(parts.join('')).toBe(text);
    for (const part of parts) {
      expect(unitsOf(part)).toBeLessThanOrEqual(perSegment);
      expect(part).not.toMatch(/^[\udc00-\udfff]/);
    }
  });

  it('moves a character that does not fit whole to the next part', () => {
    expect(
      splitSmsSegments(texts['an extension character across the boundary'], 'GSM-7')[1],
    ).toMatch(/^€/);
    expect(splitSmsSegments(texts['an emoji across the boundary'], 'UCS-2')[1]).toMatch(/^😀/);
  });

  it('agrees with analyzeSms on any mix of plain, extension and astral characters', () => {
    const text = fc
      .array(fc.constantFrom('a', ' ', '€', '{', '\\', 'é', 'я', '😀'), { maxLength: 600 })
      .map((chars) => chars.join(''));
    fc.assert(
      fc.property(text, (sample) => {
        const { encoding, segments } = analyzeSms(sample);
        const parts = splitSmsSegments(sample, encoding);
        return parts.length === segments && parts.join('') === sample;
      }),
    );
  });
});

describe('SmppSender', () => {
  let smsc: Smsc;
  const senders: SmppSender[] = [];

  beforeEach(async () => {
    smsc = await startSmsc({ systemId: 'acme', password: 'secret' });
  });

  afterEach(async () => {
    await Promise.all(senders.splice(0).map((sender) => sender.close()));
    await smsc.close();
  });

  function connect(options: Partial<SmppSenderOptions> = {}) {
    const reports: DeliveryReport[] = [];
    const logs: string[] = [];
    const sender = new SmppSender({
      host: '127.0.0.1',
      port: smsc.port,
      systemId: 'acme',
      password: 'secret',
      submitTimeoutMs: 1000,
      reconnectMinMs: 20,
      reconnectMaxMs: 100,
      onReport: (report) => {
        reports.push(report);
      },
      logger: { log: (message) => logs.push(message), warn: (message) => logs.push(message) },
      ...options,
    });
    senders.push(sender);
    /** How many times the sender logged a line containing `text`. */
    const logged = (text: string) => logs.filter((line) => line.includes(text)).length;
    return { sender, reports, logged };
  }

  const failureOf = sendFailureOf;

  it('sends GSM-7 with data_coding 0 and international numbers without the +', async () => {
    const { sender } = connect();
    const text = 'Price: €5 [or] {6} ~ é Ç @ £ \\ ^ |';

    const { providerMessageId } = await sender.send(outgoing(text));

    expect(smsc.submits).toEqual([
      expect.objectContaining({
        source: '12025550100',
        destination: '447700900123',
        dataCoding: 0,
        esmClass: 0,
        text,
        udh: undefined,
        messageId: providerMessageId,
      }),
    ]);
  });

  it('sends UCS-2 with data_coding 8', async () => {
    const { sender } = connect();
    const text = 'Привет, мир 😀';

    await sender.send(outgoing(text));

    expect(smsc.submits).toEqual([expect.objectContaining({ dataCoding: 8, esmClass: 0, text })]);
  });

  it('sends a long message as one submit_sm per part, joined by their UDH', async () => {
    const { sender } = connect();
    const text = 'Long message. '.repeat(21) + '€' + 'x'.repeat(100);
    expect(analyzeSms(text).segments).toBe(3);

    const { providerMessageId } = await sender.send(outgoing(text));

    expect(smsc.submits).toHaveLength(3);
    const reference = smsc.submits[0].udh?.[3];
    smsc.submits.forEach((submit, index) => {
      expect(submit.esmClass & 0x40).toBe(0x40);
      expect(submit.dataCoding).toBe(0);
      expect(submit.udh).toEqual(Buffer.of(0x05, 0x00, 0x03, reference!, 3, index + 1));
    });
    expect(smsc.submits.map((submit) => submit.text).join('')).toBe(text);
    expect(providerMessageId).toBe(smsc.submits[0].messageId);
  });

  it('never cuts a surrogate pair between UCS-2 parts', async () => {
    const { sender } = connect();
    const text = 'я'.repeat(66) + '😀' + 'я'.repeat(10);

    await sender.send(outgoing(text));

    expect(smsc.submits.map((submit) => [submit.dataCoding, submit.text])).toEqual([
      [8, 'я'.repeat(66)],
      [8, '😀' + 'я'.repeat(10)],
    ]);
  });

  it('gives each long message its own reference', async () => {
    const { sender } = connect();
    const text = 'z'.repeat(200);

    await sender.send(outgoing(text));
    await sender.send(outgoing(text));

    expect(smsc.submits[0].udh?.[3]).not.toBe(smsc.submits[2].udh?.[3]);
  });

  it('reports the delivery receipt by the id the send returned', async () => {
    const { sender, reports } = connect();

    const { providerMessageId } = await sender.send(
      outgoing('Hello there, this is longer than 20'),
    );

    await vi.waitFor(() =>
      expect(reports).toEqual([
        {
          providerMessageId,
          status: 'delivered',
          // What finds the message should its submit's answer have been lost.
          recognition: {
            senderAddress: '12025550100',
            receiverAddress: '447700900123',
            textStart: 'Hello there, this is',
          },
        },
      ]),
    );
  });

  it("reports a long message once, by its first part's receipt", async () => {
    const { sender, reports } = connect();

    const { providerMessageId } = await sender.send(outgoing('w'.repeat(400)));

    await vi.waitFor(() => expect(reports).toHaveLength(1));
    await sleep(100);
    expect(reports).toEqual([expect.objectContaining({ providerMessageId, status: 'delivered' })]);
  });

  it('reports an undeliverable message as failed, with the err: code', async () => {
    smsc.receipts = 'undeliverable';
    const { sender, reports } = connect();

    const { providerMessageId } = await sender.send(outgoing('Hello'));

    await vi.waitFor(() =>
      expect(reports).toEqual([
        expect.objectContaining({
          providerMessageId,
          status: 'failed',
          errorCode: '001',
          reason: 'UNDELIV: undeliverable (err 001)',
        }),
      ]),
    );
  });

  it("prefers the receipt's TLVs to its text", async () => {
    smsc.receiptTlvs = true;
    const { sender, reports } = connect();

    const { providerMessageId } = await sender.send(outgoing('Hello'));

    await vi.waitFor(() =>
      expect(reports).toEqual([
        expect.objectContaining({ providerMessageId, status: 'delivered' }),
      ]),
    );
  });

  it('gets a receipt again when taking it failed', async () => {
    let calls = 0;
    const { sender, reports } = connect({
      onReport: (report) => {
        calls += 1;
        if (calls === 1) throw new Error('database down');
        reports.push(report);
      },
    });

    const { providerMessageId } = await sender.send(outgoing('Hello'));

    await vi.waitFor(() =>
      expect(reports).toEqual([
        expect.objectContaining({ providerMessageId, status: 'delivered' }),
      ]),
    );
    expect(calls).toBe(2);
  });

  it('fails a throttled message as transient, with a pause', async () => {
    smsc.mode = 'throttle';
    const { sender } = connect();

    const failure = await failureOf(sender.send(outgoing('Hello')));

    expect(failure).toMatchObject({
      transient: true,
      code: 'ESME_RTHROTTLED',
      reason: 'SMSC refused the message: ESME_RTHROTTLED (0x00000058)',
      retryAfterMs: 1000,
    });
  });

  it('fails a refused number as permanent', async () => {
    smsc.mode = 'refuse';
    const { sender } = connect();

    const failure = await failureOf(sender.send(outgoing('Hello')));

    expect(failure).toMatchObject({
      transient: false,
      code: 'ESME_RINVDSTADR',
      reason: 'SMSC refused the message: ESME_RINVDSTADR (0x0000000B)',
    });
  });

  it('fails every send as permanent once the SMSC refuses the password', async () => {
    const { sender } = connect({ password: 'wrong' });

    const first = await failureOf(sender.send(outgoing('Hello')));
    const second = await failureOf(sender.send(outgoing('Hello again')));

    for (const failure of [first, second]) {
      expect(failure).toMatchObject({ transient: false, code: 'ESME_RINVPASWD' });
      expect(failure.reason).not.toContain('wrong');
    }
    expect(smsc.received).toBe(0);
  });

  it('keeps at most `window` submits unanswered; the rest wait their turn in order', async () => {
    const { sender } = connect({ window: 3, submitTimeoutMs: 400 });
    await sender.send(outgoing('0'));
    smsc.mode = 'ignore';

    const outcomes = Promise.allSettled(
      ['1', '2', '3', '4', '5'].map((text) => sender.send(outgoing(text))),
    );
    await vi.waitFor(() => expect(smsc.received).toBe(1 + 3));
    await sleep(100);
    expect(smsc.received).toBe(1 + 3);
    smsc.mode = 'accept';

    // The unanswered three time out; their slots go to the two that waited.
    const [first, second, third, fourth, fifth] = await outcomes;
    for (const ignored of [first, second, third]) {
      expect(ignored).toMatchObject({ status: 'rejected', reason: expect.any(SmppOutcomeUnknown) });
    }
    expect([fourth.status, fifth.status]).toEqual(['fulfilled', 'fulfilled']);
    expect(smsc.submits.map((submit) => submit.text)).toEqual(['0', '4', '5']);
  });

  it('fails submits lost with the connection with an unknown outcome, then reconnects by itself', async () => {
    smsc.mode = 'ignore';
    const { sender, logged } = connect({ window: 1 });
    const written = failureOf(sender.send(outgoing('written')));
    const queued = sender.send(outgoing('queued'));
    await vi.waitFor(() => expect(smsc.received).toBe(1));

    smsc.mode = 'accept';
    smsc.dropConnections();

    expect(await written).toMatchObject({
      outcomeUnknown: true,
      transient: false,
      code: 'UNKNOWN_OUTCOME',
    });
    // Never written, so safe to send on the next session.
    expect(await queued).toEqual({ providerMessageId: expect.any(String) });
    expect(logged('bound as transceiver')).toBe(2);

    smsc.dropConnections();
    await vi.waitFor(() => expect(logged('bound as transceiver')).toBe(3));
    await expect(sender.send(outgoing('after'))).resolves.toBeDefined();
    expect(smsc.submits.map((submit) => submit.text)).toEqual(['queued', 'after']);
  });

  it('delivers a receipt the SMSC kept while the session was down', async () => {
    smsc.receiptDelayMs = 150;
    const { sender, reports } = connect();

    const { providerMessageId } = await sender.send(outgoing('Hello'));
    smsc.dropConnections();

    await vi.waitFor(() =>
      expect(reports).toEqual([
        expect.objectContaining({ providerMessageId, status: 'delivered' }),
      ]),
    );
  });

  it('sends a message given during an outage once the SMSC is back', async () => {
    const { sender, logged } = connect({ submitTimeoutMs: 5000 });
    await sender.send(outgoing('before'));
    await smsc.stop();
    await vi.waitFor(() => expect(logged('session lost')).toBe(1));

    const during = sender.send(outgoing('during'));
    await sleep(2000);
    expect(smsc.submits).toHaveLength(1);
    await smsc.start();

    await expect(during).resolves.toEqual({ providerMessageId: expect.any(String) });
    expect(smsc.countByText('during')).toBe(1);
  });

  it('fails a message as transient when the SMSC stays unreachable', async () => {
    const { sender } = connect({ submitTimeoutMs: 300 });
    await smsc.stop();

    const failure = await failureOf(sender.send(outgoing('Hello')));

    expect(failure).toMatchObject({ transient: true, code: 'network' });
    expect(failure.reason).toMatch(/^no SMPP session within 300 ms: .*ECONNREFUSED/);
  });

  it('keeps the link alive with enquire_link and answers the SMSC’s', async () => {
    const { sender } = connect({ enquireLinkMs: 30 });
    await sender.send(outgoing('Hello'));

    await vi.waitFor(() => expect(smsc.enquireLinks).toBeGreaterThanOrEqual(2));
    await expect(smsc.enquireLink()).resolves.toBe(0);
  });

  it('binds on open(), before any send, and takes the receipts the SMSC kept meanwhile', async () => {
    // A receipt for a message an earlier session submitted, waiting at the SMSC for a bind.
    smsc.receiptDelayMs = 300;
    const earlier = connect();
    const { providerMessageId } = await earlier.sender.send(outgoing('before the restart'));
    await earlier.sender.close();
    const { sender, reports } = connect();
    expect(smsc.sessions).toBe(0);

    sender.open();

    await vi.waitFor(() => expect(smsc.sessions).toBe(1));
    await vi.waitFor(() =>
      expect(reports).toContainEqual(expect.objectContaining({ providerMessageId })),
    );
  });

  it('closes by unbinding, failing what was never written', async () => {
    smsc.mode = 'ignore';
    const { sender } = connect({ window: 1, submitTimeoutMs: 300 });
    const written = failureOf(sender.send(outgoing('written')));
    const queued = failureOf(sender.send(outgoing('queued')));
    await vi.waitFor(() => expect(smsc.received).toBe(1));

    await sender.close();

    expect(await queued).toMatchObject({ transient: true, code: 'network' });
    expect(await written).toBeInstanceOf(SmppOutcomeUnknown);
    expect(smsc.sessions).toBe(0);
    expect(await failureOf(sender.send(outgoing('late')))).toMatchObject({ transient: true });
  });
});
