import { outgoingSms, sendFailureOf } from '../../../../test/support/outgoing-sms.js';
import { randomBytes } from 'node:crypto';
import { type TwilioStandin, startTwilioStandin } from '../../../../test/support/twilio-standin.js';
import type { OutgoingSms } from './sms-sender.js';
import {
  mapTwilioStatus,
  readTwilioStatusCallback,
  TWILIO_MESSAGE_STATUSES,
} from './twilio-status.js';
import { TwilioSender } from './twilio.sender.js';

const credentials = {
  accountSid: `AC${randomBytes(16).toString('hex')}`,
  authToken: 'tok3n-secret',
};

const outgoing = (overrides: Partial<OutgoingSms> = {}) =>
  outgoingSms({
    ...{
      from: '+12025550100',
      to: '+12025550143',
      text: 'Hello & welcome = 100%',
      statusCallbackUrl: 'https://sms.example.com/api/gateways/g1/webhook?source=twilio',
    },
    ...overrides,
  });
const failureOf = sendFailureOf;

describe('TwilioSender (the official SDK) against the stand-in', () => {
  let standin: TwilioStandin;
  let sender: TwilioSender;

  beforeEach(async () => {
    standin = await startTwilioStandin(credentials);
    sender = new TwilioSender({ ...credentials, apiBaseUrl: standin.baseUrl, timeoutMs: 2_000 });
  });

  afterEach(async () => {
    await sender.close();
    await standin.close();
  });

  it('creates the message and answers with its SID; the status callback URL reaches Twilio', async () => {
    const sms = outgoing();
    const accepted = await sender.send(sms);
    expect(accepted.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
    expect(standin.messages).toEqual([
      {
        sid: accepted.providerMessageId,
        Body: sms.text,
        From: sms.from,
        To: sms.to,
        StatusCallback: sms.statusCallbackUrl,
      },
    ]);
  });

  it('does not claim that Twilio deduplicates: a resend is a second message', async () => {
    const sms = outgoing();
    const first = await sender.send(sms);
    const second = await sender.send(sms);
    expect(sender.deduplicatesByReference).toBe(false);
    expect(second.providerMessageId).not.toBe(first.providerMessageId);
    expect(standin.messages).toHaveLength(2);
  });

  it("fails permanently on bad credentials, with Twilio's code", async () => {
    const wrong = new TwilioSender({
      accountSid: credentials.accountSid,
      authToken: 'not-the-token',
      apiBaseUrl: standin.baseUrl,
    });
    const failure = await failureOf(wrong.send(outgoing()));
    expect(failure).toMatchObject({ transient: false, code: '20003' });
    expect(failure.reason).toContain('401');
    expect(failure.reason).not.toContain('not-the-token');
    await wrong.close();
  });

  it("fails permanently on a 400, with Twilio's code and message", async () => {
    const failure = await failureOf(sender.send(outgoing({ to: '+1555' })));
    expect(failure).toMatchObject({
      transient: false,
      code: '21211',
      reason: "Twilio answered 400: The 'To' number +1555 is not a valid phone number.",
    });
  });

  it('fails permanently on any other 4xx', async () => {
    standin.failNext(404, 20404, 1, { message: 'The requested resource was not found' });
    await expect(failureOf(sender.send(outgoing()))).resolves.toMatchObject({
      transient: false,
      code: '20404',
    });
  });

  it('fails transiently on a 5xx', async () => {
    standin.failNext(500, 20500);
    await expect(failureOf(sender.send(outgoing()))).resolves.toMatchObject({
      transient: true,
      code: '20500',
    });
    standin.failNext(503, 20503);
    await expect(failureOf(sender.send(outgoing()))).resolves.toMatchObject({
      transient: true,
      code: '20503',
    });
  });

  it('fails transiently on a 429, with its Retry-After, and does not retry by itself', async () => {
    standin.failNext(429, 20429, 1, { message: 'Too Many Requests', retryAfter: '3' });
    await expect(failureOf(sender.send(outgoing()))).resolves.toMatchObject({
      transient: true,
      code: '20429',
      reason: 'Twilio answered 429: Too Many Requests',
      retryAfterMs: 3_000,
    });
    expect(standin.requests).toBe(1);
    standin.failNext(429, 20429);
    await expect(failureOf(sender.send(outgoing()))).resolves.toMatchObject({
      transient: true,
      retryAfterMs: undefined,
    });
  });

  it('calls the outcome unknown when Twilio does not answer in time (it may have the message)', async () => {
    const impatient = new TwilioSender({
      ...credentials,
      apiBaseUrl: standin.baseUrl,
      timeoutMs: 150,
    });
    standin.stallNext();
    await expect(failureOf(impatient.send(outgoing()))).resolves.toMatchObject({
      transient: false,
      code: 'UNKNOWN_OUTCOME',
    });
    await impatient.close();
  });

  it('fails transiently when nothing listens', async () => {
    const baseUrl = standin.baseUrl;
    await standin.close();
    const unreachable = new TwilioSender({ ...credentials, apiBaseUrl: baseUrl });
    await expect(failureOf(unreachable.send(outgoing()))).resolves.toMatchObject({
      transient: true,
      code: 'network',
      reason: 'cannot reach Twilio: ECONNREFUSED',
    });
    await unreachable.close();
    standin = await startTwilioStandin(credentials);
  });

  it('fails what is outstanding as transient when closed', async () => {
    standin.stallNext();
    const pending = failureOf(sender.send(outgoing()));
    await vi.waitFor(() => expect(standin.requests).toBe(1));
    await sender.close();
    await expect(pending).resolves.toMatchObject({ transient: true, code: 'closed' });
    await expect(failureOf(sender.send(outgoing()))).resolves.toMatchObject({ code: 'closed' });
  });
});

describe('mapTwilioStatus', () => {
  const expected = {
    queued: null,
    accepted: null,
    scheduled: null,
    sending: null,
    sent: 'sent',
    delivered: 'delivered',
    read: 'delivered',
    undelivered: 'failed',
    failed: 'failed',
    canceled: 'failed',
    partially_delivered: null,
    receiving: null,
    received: null,
  } as const;

  it.each(Object.entries(expected))('maps %s to %s', (status, reported) => {
    expect(mapTwilioStatus(status)).toBe(reported);
  });

  it("covers every status of the SDK's Message resource, and changes nothing for others", () => {
    expect([...TWILIO_MESSAGE_STATUSES].sort()).toEqual(Object.keys(expected).sort());
    expect(mapTwilioStatus('Delivered')).toBeNull();
    expect(mapTwilioStatus('')).toBeNull();
  });
});

describe('readTwilioStatusCallback', () => {
  const sid = `SM${'a'.repeat(32)}`;
  const callback = (fields: Record<string, string>) =>
    new URLSearchParams({ AccountSid: credentials.accountSid, MessageSid: sid, ...fields });

  it('reads sent and delivered', () => {
    expect(readTwilioStatusCallback(callback({ MessageStatus: 'sent' }))).toEqual({
      providerMessageId: sid,
      status: 'sent',
    });
    expect(readTwilioStatusCallback(callback({ MessageStatus: 'delivered' }))).toEqual({
      providerMessageId: sid,
      status: 'delivered',
    });
  });

  it('names the ErrorCode of a failed message', () => {
    expect(
      readTwilioStatusCallback(callback({ MessageStatus: 'undelivered', ErrorCode: '30003' })),
    ).toEqual({
      providerMessageId: sid,
      status: 'failed',
      errorCode: '30003',
      reason: 'Twilio error 30003 (https://www.twilio.com/docs/api/errors/30003)',
    });
    expect(readTwilioStatusCallback(callback({ MessageStatus: 'canceled' }))).toEqual({
      providerMessageId: sid,
      status: 'failed',
      errorCode: undefined,
      reason: 'Twilio reports the message canceled',
    });
  });

  it('reads the older SmsStatus name, and ignores what changes nothing', () => {
    expect(readTwilioStatusCallback(callback({ SmsStatus: 'sent' }))).toMatchObject({
      status: 'sent',
    });
    expect(readTwilioStatusCallback(callback({ MessageStatus: 'queued' }))).toBeNull();
    expect(readTwilioStatusCallback(new URLSearchParams({ MessageStatus: 'sent' }))).toBeNull();
    expect(readTwilioStatusCallback(callback({}))).toBeNull();
  });
});
