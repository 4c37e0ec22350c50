import { readTwilioStatusCallback } from '../senders/twilio-status.js';
import { IsDefined, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import twilioWebhooks from 'twilio/lib/webhooks/webhooks.js';
import { ApiException, HasCodePointLength, IsStorableText } from '@app/common';
import { MAX_MESSAGE_LENGTH } from '@app/messaging';
import {
  type GatewayProvider,
  validated,
  type WebhookReading,
  type WebhookReply,
  type WebhookRequest,
} from './gateway-provider.js';

const SIGNATURE_ALGORITHMS = new Set([twilioWebhooks.HMAC_SHA1, twilioWebhooks.HMAC_SHA256]);

/** Empty TwiML: Twilio sends no reply SMS. */
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

/**
 * The fields of Twilio's inbound-message webhook this service reads
 * (https://www.twilio.com/docs/messaging/guides/webhook-request). Twilio adds
 * others (AccountSid, FromCity, ...), which are signed and then ignored.
 */
export class TwilioInboundDto {
  /** `SM…` for an SMS, `MM…` for an MMS: 34 characters. */
  @IsDefined()
  @IsString()
  @Matches(/^[A-Z]{2}[0-9a-f]{32}$/, { message: 'MessageSid must be a Twilio message SID' })
  MessageSid: string;

  @IsDefined()
  @IsString()
  @MaxLength(32)
  From: string;

  @IsDefined()
  @IsString()
  @MaxLength(32)
  To: string;

  /** Empty for an MMS with only media. */
  @IsDefined()
  @IsString()
  @IsStorableText()
  @HasCodePointLength(0, MAX_MESSAGE_LENGTH)
  Body: string;

  /** `received` for an inbound message; a status callback posted here says `sent`, `delivered`, ... */
  @IsOptional()
  @IsString()
  SmsStatus?: string;

  @IsOptional()
  @IsString()
  NumMedia?: string;
}

/**
 * Twilio Programmable Messaging. The signature is Twilio's own scheme,
 * checked by the official `twilio` package: HMAC-SHA1, keyed by the auth
 * token, of the full URL followed by every POST parameter, sorted by name.
 */
export class TwilioProvider implements GatewayProvider {
  readonly name = 'twilio' as const;
  readonly mediaType = 'application/x-www-form-urlencoded' as const;

  verify(request: WebhookRequest, authToken: string): boolean {
    const signature = request.header('x-twilio-signature');
    if (!signature) return false;
    try {
      // HMAC-SHA1, unless Twilio says it signed with a SharedKey's algorithm.
      const algorithm = twilioWebhooks.getSignatureAlgorithm(
        request.header('x-twilio-webhooks-signature-settings'),
      );
      // The library warns on the console about any other name; a client must not fill the logs.
      if (!SIGNATURE_ALGORITHMS.has(algorithm)) return false;
      return twilioWebhooks.validateRequest(
        authToken,
        signature,
        request.url,
        formParams(request),
        algorithm,
      );
    } catch {
      // A body that is not a form, or a URL `new URL()` refuses: not something Twilio signed.
      return false;
    }
  }

  read(request: WebhookRequest): WebhookReading {
    const params = formParams(request);
    // A status callback of a message we sent (StatusCallback): MessageStatus, no Body.
    if (params.MessageStatus !== undefined) {
      const pairs = Object.entries(params).flatMap(([name, value]) =>
        (Array.isArray(value) ? value : [value]).map((item) => [name, item]),
      );
      const report = readTwilioStatusCallback(new URLSearchParams(pairs));
      return report
        ? { kind: 'status', report }
        : { kind: 'ignored', event: `status ${String(params.MessageStatus)}` };
    }
    const form = validated(TwilioInboundDto, params, '');
    if (form.SmsStatus !== undefined && form.SmsStatus !== 'received') {
      return { kind: 'ignored', event: `status ${form.SmsStatus}` };
    }
    // Nothing to record: a message is 1 to 1600 characters of text (media is not stored).
    if (form.Body === '') return { kind: 'ignored', event: 'message without text' };
    return {
      kind: 'message',
      // Twilio's inbound webhook carries no timestamp: the time of arrival is used.
      sms: { providerMessageId: form.MessageSid, from: form.From, to: form.To, text: form.Body },
    };
  }

  reply(): WebhookReply {
    return { contentType: 'text/xml; charset=utf-8', body: EMPTY_TWIML };
  }
}

/**
 * The form's parameters, decoded strictly: bytes that are not UTF-8 are
 * refused, not turned into U+FFFD (decodeURIComponent throws on them). A
 * repeated name keeps every value, as Twilio's signature counts them all.
 */
export function formParams(request: WebhookRequest): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = Object.create(null) as Record<string, string>;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(request.body);
  } catch {
    throw ApiException.field(400, 'body', 'is not valid UTF-8');
  }
  if (text === '') return params;
  for (const pair of text.split('&')) {
    const separator = pair.indexOf('=');
    const [rawName, rawValue] =
      separator === -1 ? [pair, ''] : [pair.slice(0, separator), pair.slice(separator + 1)];
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(rawName.replaceAll('+', ' '));
      value = decodeURIComponent(rawValue.replaceAll('+', ' '));
    } catch {
      throw ApiException.field(400, 'body', 'is not a valid URL-encoded form');
    }
    const previous = params[name];
    params[name] =
      previous === undefined
        ? value
        : Array.isArray(previous)
          ? [...previous, value]
          : [previous, value];
  }
  return params;
}
