import { randomUUID } from 'node:crypto';
import { analyzeSms } from '@app/common';
import { SendFailure, type OutgoingSms } from '@app/gateways/senders/sms-sender.js';

/** A message as the delivery worker hands it to a sender: `text`'s encoding and segments, a fresh uuid. */
export function outgoingSms(overrides: Partial<OutgoingSms> & { text?: string } = {}): OutgoingSms {
  const text = overrides.text ?? 'Your code is 482913';
  const { encoding, segments } = analyzeSms(text);
  return {
    uuid: randomUUID(),
    from: '+12025550100',
    to: '+12025550143',
    encoding,
    segments,
    statusCallbackUrl: 'https://sms.example.com/api/gateways/g1/webhook',
    ...overrides,
    text,
  };
}

/** The SendFailure a send rejects with; fails the test when it succeeds or rejects otherwise. */
export async function sendFailureOf(sending: Promise<unknown>): Promise<SendFailure> {
  const error: unknown = await sending.then(
    () => new Error('the send succeeded'),
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(SendFailure);
  return error as SendFailure;
}
