import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import twilioWebhooks from 'twilio/lib/webhooks/webhooks.js';
import type { TestApp } from '../setup/test-app.js';

export type Provider = 'twilio' | 'android-sms-gateway' | 'textbee';

export interface Connection {
  id: string;
  provider: Provider;
  phones: string[];
  webhookUrl: string;
  secret: string;
}

/** One captured body per event, with a note of where the format comes from (`_source`). */
export const androidFixture = JSON.parse(
  readFileSync('test/fixtures/gateways/android-sms-gateway.json', 'utf8'),
) as Record<string, { payload: Record<string, unknown> } & Record<string, unknown>>;
export const textbeeFixture = JSON.parse(
  readFileSync('test/fixtures/gateways/textbee.json', 'utf8'),
) as Record<string, Record<string, unknown>>;

/** Connects a gateway through the API, as an operator would. */
export async function connectGateway(
  app: TestApp,
  provider: Provider,
  phones: string[],
  secret = randomBytes(16).toString('hex'),
): Promise<Connection> {
  const response = await fetch(`${app.baseUrl}/api/gateways`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${app.adminKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ provider, label: `${provider} test`, phones, secret }),
  });
  if (response.status !== 201)
    throw new Error(`connect: ${response.status} ${await response.text()}`);
  return { ...((await response.json()) as Omit<Connection, 'secret'>), secret };
}

let sequence = 0;

/** An inbound-message webhook as Twilio posts it (https://www.twilio.com/docs/messaging/guides/webhook-request). */
export function twilioInbound(overrides: Record<string, string> = {}): Record<string, string> {
  sequence += 1;
  const sid = `SM${randomBytes(16).toString('hex')}`;
  return {
    ToCountry: 'US',
    ToState: 'DC',
    SmsMessageSid: sid,
    NumMedia: '0',
    ToCity: 'WASHINGTON',
    FromZip: '20001',
    SmsSid: sid,
    FromState: 'DC',
    SmsStatus: 'received',
    FromCity: 'WASHINGTON',
    Body: `Twilio hello #${sequence}`,
    FromCountry: 'US',
    To: '+12025550100',
    ToZip: '20001',
    NumSegments: '1',
    MessageSid: sid,
    AccountSid: `AC${randomBytes(16).toString('hex')}`,
    From: '+12025550143',
    ApiVersion: '2010-04-01',
    ...overrides,
  };
}

/** Body and headers of a Twilio webhook, signed with the official package. */
export function signTwilio(
  authToken: string,
  url: string,
  params: Record<string, string>,
): { body: string; headers: Record<string, string> } {
  return {
    body: new URLSearchParams(params).toString(),
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      'X-Twilio-Signature': twilioWebhooks.getExpectedTwilioSignature(authToken, url, params),
    },
  };
}

/** SMS Gateway for Android: `X-Signature` = hex HMAC-SHA256 of body + `X-Timestamp`. */
export function signAndroid(
  signingKey: string,
  body: string,
  timestamp = Math.floor(Date.now() / 1000),
): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    'X-Timestamp': String(timestamp),
    'X-Signature': createHmac('sha256', signingKey)
      .update(body + String(timestamp))
      .digest('hex'),
  };
}

/** textbee: `X-Signature` = hex HMAC-SHA256 of the body. */
export function signTextbee(secret: string, body: string): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    'X-Signature': createHmac('sha256', secret).update(body).digest('hex'),
  };
}

/** The fixture's `event` body with its payload changed: a fresh message each call. */
export function androidEvent(event: string, payload: Record<string, unknown> = {}): string {
  sequence += 1;
  const base = androidFixture[event];
  return JSON.stringify({
    ...base,
    id: randomBytes(10).toString('hex'),
    payload: {
      ...base.payload,
      ...(event === 'sms:received'
        ? { messageId: randomBytes(4).toString('hex'), message: `Android hello #${sequence}` }
        : {}),
      ...payload,
    },
  });
}

export function textbeeEvent(event: string, fields: Record<string, unknown> = {}): string {
  sequence += 1;
  return JSON.stringify({
    ...textbeeFixture[event],
    smsId: randomBytes(12).toString('hex'),
    ...(event === 'MESSAGE_RECEIVED' ? { message: `textbee hello #${sequence}` } : {}),
    ...fields,
  });
}
