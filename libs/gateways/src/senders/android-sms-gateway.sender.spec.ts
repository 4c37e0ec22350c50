import { outgoingSms, sendFailureOf } from '../../../../test/support/outgoing-sms.js';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  type AndroidStandin,
  startAndroidStandin,
} from '../../../../test/support/android-sms-gateway-standin.js';
import {
  ANDROID_MESSAGE_STATES,
  AndroidSmsGatewaySender,
  mapAndroidState,
  readAndroidStatusEvent,
  retryAfterMs,
} from './android-sms-gateway.sender.js';
import type { OutgoingSms } from './sms-sender.js';

const credentials = { username: 'sms', password: 'p4ss-w0rd-secret' };

const outgoing = (overrides: Partial<OutgoingSms> = {}) =>
  outgoingSms({
    ...{
      from: '+12025550188',
      to: '+12025550167',
      text: 'Your code is 482913',
      statusCallbackUrl: 'https://sms.example.com/api/gateways/g1/webhook',
    },
    ...overrides,
  });
const failureOf = sendFailureOf;

describe('AndroidSmsGatewaySender against the stand-in', () => {
  let standin: AndroidStandin;
  let sender: AndroidSmsGatewaySender;

  beforeEach(async () => {
    standin = await startAndroidStandin(credentials);
    sender = new AndroidSmsGatewaySender({ url: standin.url, ...credentials, timeoutMs: 2_000 });
  });

  afterEach(async () => {
    await sender.close();
    await standin.close();
  });

  it('hands the message over with our uuid as its id, and answers with that id', async () => {
    const sms = outgoing();
    await expect(sender.send(sms)).resolves.toEqual({ providerMessageId: sms.uuid });
    const held = standin.messages.get(sms.uuid);
    expect(held?.path).toBe('/messages');
    expect(held?.request).toEqual({
      id: sms.uuid,
      textMessage: { text: sms.text },
      phoneNumbers: [sms.to],
      withDeliveryReport: true,
    });
    expect(sender.deduplicatesByReference).toBe(true);
  });

  it('sends from the configured SIM slot', async () => {
    const onSim2 = new AndroidSmsGatewaySender({ url: standin.url, ...credentials, simNumber: 2 });
    const sms = outgoing();
    await onSim2.send(sms);
    expect(standin.messages.get(sms.uuid)?.request.simNumber).toBe(2);
    await onSim2.close();
  });

  it('takes a 409 for a repeated id as already accepted, and the app holds one message', async () => {
    const sms = outgoing();
    await sender.send(sms);
    await expect(sender.send(sms)).resolves.toEqual({ providerMessageId: sms.uuid });
    expect(standin.requests).toBe(2);
    expect(standin.messages.size).toBe(1);
  });

  it('fails permanently on bad credentials, without the password in the reason', async () => {
    const wrong = new AndroidSmsGatewaySender({
      url: standin.url,
      username: 'sms',
      password: 'not-the-password',
    });
    const failure = await failureOf(wrong.send(outgoing()));
    expect(failure).toMatchObject({ transient: false, code: 'HTTP_401' });
    expect(failure.reason).not.toContain('not-the-password');
    await wrong.close();
  });

  it("fails permanently on a 400, with the app's error message", async () => {
    const failure = await failureOf(sender.send(outgoing({ text: '' })));
    expect(failure).toMatchObject({
      transient: false,
      code: 'HTTP_400',
      reason: 'SMS Gateway for Android answered 400: Text message is empty',
    });
  });

  it.each([403, 404, 422])('fails permanently on a %i', async (status) => {
    standin.failNext(status);
    const failure = await failureOf(sender.send(outgoing()));
    expect(failure).toMatchObject({ transient: false, code: `HTTP_${status}` });
    expect(failure.reason).toContain(`stand-in ${status}`);
  });

  it('never shows the password, even when the app repeats it', async () => {
    standin.failNext(400, 1, { message: `bad password ${credentials.password}` });
    const failure = await failureOf(sender.send(outgoing()));
    expect(failure.reason).not.toContain(credentials.password);
  });

  it('fails transiently on a 5xx', async () => {
    standin.failNext(500);
    await expect(failureOf(sender.send(outgoing()))).resolves.toMatchObject({
      transient: true,
      code: 'HTTP_500',
    });
    standin.failNext(503);
    await expect(failureOf(sender.send(outgoing()))).resolves.toMatchObject({
      transient: true,
      code: 'HTTP_503',
    });
  });

  it('fails transiently on a 429, with its Retry-After', async () => {
    standin.failNext(429, 1, { retryAfter: '7' });
    await expect(failureOf(sender.send(outgoing()))).resolves.toMatchObject({
      transient: true,
      code: 'HTTP_429',
      retryAfterMs: 7_000,
    });
  });

  it('fails transiently when the app does not answer in time', async () => {
    const impatient = new AndroidSmsGatewaySender({
      url: standin.url,
      ...credentials,
      timeoutMs: 150,
    });
    standin.stallNext();
    await expect(failureOf(impatient.send(outgoing()))).resolves.toMatchObject({
      transient: true,
      code: 'timeout',
    });
    await impatient.close();
  });

  it('fails transiently when nothing listens', async () => {
    const url = standin.url;
    await standin.close();
    const unreachable = new AndroidSmsGatewaySender({ url, ...credentials });
    const failure = await failureOf(unreachable.send(outgoing()));
    expect(failure).toMatchObject({ transient: true, code: 'network' });
    expect(failure.reason).toContain('ECONNREFUSED');
    standin = await startAndroidStandin(credentials);
  });

  it('fails what is outstanding as transient when closed', async () => {
    standin.stallNext();
    const pending = failureOf(sender.send(outgoing()));
    await vi.waitFor(() => expect(standin.requests).toBe(1));
    await sender.close();
    await expect(pending).resolves.toMatchObject({ transient: true, code: 'closed' });
    await expect(failureOf(sender.send(outgoing()))).resolves.toMatchObject({ code: 'closed' });
  });

  it('reads the state of a message it sent', async () => {
    const sms = outgoing();
    await sender.send(sms);
    await expect(sender.getState(sms.uuid)).resolves.toBeNull();
    standin.setState(sms.uuid, 'Sent');
    await expect(sender.getState(sms.uuid)).resolves.toEqual({
      providerMessageId: sms.uuid,
      status: 'sent',
    });
    standin.setState(sms.uuid, 'Failed', 'Send result: RESULT_ERROR_GENERIC_FAILURE');
    await expect(sender.getState(sms.uuid)).resolves.toEqual({
      providerMessageId: sms.uuid,
      status: 'failed',
      errorCode: 'Failed',
      reason: 'Send result: RESULT_ERROR_GENERIC_FAILURE',
    });
    await expect(failureOf(sender.getState(randomUUID()))).resolves.toMatchObject({
      transient: false,
      code: 'HTTP_404',
    });
  });
});

describe('mapAndroidState', () => {
  it.each([
    ['Pending', null],
    ['Processed', null],
    ['Sent', 'sent'],
    ['Delivered', 'delivered'],
    ['Failed', 'failed'],
  ] as const)('maps %s to %s', (state, status) => {
    expect(mapAndroidState(state)).toBe(status);
  });

  it('covers every state of the app, and changes nothing for one it does not know', () => {
    expect(ANDROID_MESSAGE_STATES).toEqual(['Pending', 'Processed', 'Sent', 'Delivered', 'Failed']);
    expect(mapAndroidState('Scheduled')).toBeNull();
    expect(mapAndroidState('sent')).toBeNull();
  });
});

describe('readAndroidStatusEvent', () => {
  // Bodies as the app posts them, from the inbound webhooks' fixture.
  const fixture = JSON.parse(
    readFileSync('test/fixtures/gateways/android-sms-gateway.json', 'utf8'),
  ) as Record<string, unknown>;

  it('reads sms:sent, sms:delivered and sms:failed', () => {
    expect(readAndroidStatusEvent(fixture['sms:sent'])).toEqual({
      providerMessageId: '1gohemSBu-wrWW0pdYLLV',
      status: 'sent',
    });
    expect(readAndroidStatusEvent(fixture['sms:delivered'])).toEqual({
      providerMessageId: '1gohemSBu-wrWW0pdYLLV',
      status: 'delivered',
    });
    expect(readAndroidStatusEvent(fixture['sms:failed'])).toEqual({
      providerMessageId: 'Zk3pQm9vT1rXc8LwYb2Nf',
      status: 'failed',
      errorCode: 'Failed',
      reason: 'Send result: RESULT_ERROR_GENERIC_FAILURE (Generic failure cause)',
    });
  });

  it('ignores other events and bodies without a message id', () => {
    expect(readAndroidStatusEvent(fixture['sms:received'])).toBeNull();
    expect(readAndroidStatusEvent(fixture['system:ping'])).toBeNull();
    expect(readAndroidStatusEvent({ event: 'sms:sent', payload: {} })).toBeNull();
    expect(readAndroidStatusEvent({ event: 'sms:sent' })).toBeNull();
    expect(readAndroidStatusEvent('sms:sent')).toBeNull();
  });

  it('gives a reason to a failure the app did not explain', () => {
    expect(
      readAndroidStatusEvent({ event: 'sms:failed', payload: { messageId: 'm1' } }),
    ).toMatchObject({ status: 'failed', reason: 'the app reports the message failed' });
  });
});

describe('retryAfterMs', () => {
  it('reads seconds and HTTP dates, and nothing else', () => {
    const now = Date.parse('2025-03-14T09:00:00Z');
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs('Fri, 14 Mar 2025 09:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Fri, 14 Mar 2025 08:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});
