import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import twilioWebhooks from 'twilio/lib/webhooks/webhooks.js';
import { AndroidSmsGatewayProvider } from './android-sms-gateway.provider.js';
import type { WebhookRequest } from './gateway-provider.js';
import { TextbeeProvider } from './textbee.provider.js';
import { TwilioProvider } from './twilio.provider.js';

const fixture = (name: string) =>
  JSON.parse(readFileSync(`test/fixtures/gateways/${name}.json`, 'utf8')) as Record<
    string,
    unknown
  >;

function request(
  body: string,
  headers: Record<string, string>,
  url = 'https://sms.example.com/hook',
): WebhookRequest {
  return {
    body: Buffer.from(body),
    contentType: headers['content-type'],
    header: (name) => headers[name],
    url,
  };
}

describe('TwilioProvider', () => {
  const provider = new TwilioProvider();
  const params = {
    MessageSid: `SM${'a'.repeat(32)}`,
    From: '+12025550143',
    To: '+12025550100',
    Body: 'Hello & welcome = 100%',
    SmsStatus: 'received',
  };
  const body = new URLSearchParams(params).toString();
  const url = 'https://sms.example.com/api/gateways/x/webhook?source=twilio';
  const signature = twilioWebhooks.getExpectedTwilioSignature('token', url, params);

  it("accepts Twilio's signature of the URL and the sorted parameters", () => {
    expect(provider.verify(request(body, { 'x-twilio-signature': signature }, url), 'token')).toBe(
      true,
    );
  });

  it('refuses another token, another URL, a changed parameter', () => {
    expect(provider.verify(request(body, { 'x-twilio-signature': signature }, url), 'other')).toBe(
      false,
    );
    expect(provider.verify(request(body, { 'x-twilio-signature': signature }), 'token')).toBe(
      false,
    );
    const changed = body.replace('Hello', 'Howdy');
    expect(
      provider.verify(request(changed, { 'x-twilio-signature': signature }, url), 'token'),
    ).toBe(false);
  });

  it('reads the message, decoding the form strictly', () => {
    expect(provider.read(request(body, {}, url))).toEqual({
      kind: 'message',
      sms: {
        providerMessageId: params.MessageSid,
        from: params.From,
        to: params.To,
        text: params.Body,
      },
    });
    expect(() => provider.read(request(`${body}&Extra=%FF`, {}, url))).toThrow(/form/);
  });

  it("reads a status callback of a message sent through it, with Twilio's error code", () => {
    const callback = (fields: Record<string, string>) =>
      new URLSearchParams({
        MessageSid: params.MessageSid,
        From: params.To,
        To: params.From,
        ...fields,
      }).toString();
    expect(
      provider.read(request(callback({ MessageStatus: 'delivered', SmsStatus: 'delivered' }), {})),
    ).toEqual({
      kind: 'status',
      report: { providerMessageId: params.MessageSid, status: 'delivered' },
    });
    expect(
      provider.read(request(callback({ MessageStatus: 'undelivered', ErrorCode: '30003' }), {})),
    ).toMatchObject({ kind: 'status', report: { status: 'failed', errorCode: '30003' } });
    expect(provider.read(request(callback({ MessageStatus: 'sending' }), {}))).toEqual({
      kind: 'ignored',
      event: 'status sending',
    });
  });
});

describe('AndroidSmsGatewayProvider', () => {
  const provider = new AndroidSmsGatewayProvider();
  const body = JSON.stringify(fixture('android-sms-gateway')['sms:received']);
  const now = 1_741_958_900_000;
  const timestamp = String(now / 1000);
  const signature = createHmac('sha256', 'key')
    .update(body + timestamp)
    .digest('hex');

  it('accepts HMAC-SHA256 of body + X-Timestamp within 5 minutes of the clock', () => {
    const headers = { 'x-signature': signature, 'x-timestamp': timestamp };
    expect(provider.verify(request(body, headers), 'key', now)).toBe(true);
    expect(provider.verify(request(body, headers), 'key', now + 4 * 60_000)).toBe(true);
    expect(provider.verify(request(body, headers), 'key', now + 6 * 60_000)).toBe(false);
    expect(provider.verify(request(body, headers), 'other', now)).toBe(false);
    expect(provider.verify(request(body, { 'x-signature': signature }), 'key', now)).toBe(false);
  });

  it("reads the fixture's sms:received and status events, and acknowledges the others", () => {
    expect(provider.read(request(body, {}))).toMatchObject({
      kind: 'message',
      sms: { from: '+12025550143', simNumber: 1, timestamp: 1741958813 },
    });
    const events = fixture('android-sms-gateway');
    const statuses = { 'sms:sent': 'sent', 'sms:delivered': 'delivered', 'sms:failed': 'failed' };
    for (const [event, status] of Object.entries(statuses)) {
      const report = provider.read(request(JSON.stringify(events[event]), {}));
      expect(report).toMatchObject({ kind: 'status', report: { status } });
    }
    const ping = JSON.stringify(events['system:ping']);
    expect(provider.read(request(ping, {}))).toEqual({ kind: 'ignored', event: 'system:ping' });
  });
});

describe('TextbeeProvider', () => {
  const provider = new TextbeeProvider();
  const body = JSON.stringify(fixture('textbee').MESSAGE_RECEIVED);
  const signature = createHmac('sha256', 'secret').update(body).digest('hex');

  it('accepts hex HMAC-SHA256 of the body, and nothing else', () => {
    expect(provider.verify(request(body, { 'x-signature': signature }), 'secret')).toBe(true);
    expect(provider.verify(request(body, { 'x-signature': `sha256=${signature}` }), 'secret')).toBe(
      false,
    );
    expect(provider.verify(request(`${body} `, { 'x-signature': signature }), 'secret')).toBe(
      false,
    );
  });

  it("reads the fixture's MESSAGE_RECEIVED", () => {
    expect(provider.read(request(body, {}))).toEqual({
      kind: 'message',
      sms: {
        providerMessageId: '67d4451d2b8e4f0012a3c9e1',
        from: '+12025550143',
        text: 'Your verification code is 482913',
        timestamp: 1741958813,
      },
    });
  });
});
