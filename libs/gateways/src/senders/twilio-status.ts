import type { MessageStatus } from 'twilio/lib/rest/api/v2010/account/message.js';
import type { DeliveryReport, ReportedStatus } from './sms-sender.js';

/**
 * Every status of Twilio's Message resource, as the SDK types it
 * (https://www.twilio.com/docs/messaging/api/message-resource#message-status-values).
 */
export const TWILIO_MESSAGE_STATUSES = [
  'queued',
  'accepted',
  'scheduled',
  'sending',
  'sent',
  'delivered',
  'undelivered',
  'failed',
  'canceled',
  'read',
  'partially_delivered',
  'receiving',
  'received',
] as const satisfies readonly MessageStatus[];

/** What a Twilio status means for us; null means "no change" (not yet, or not a send of ours). */
export function mapTwilioStatus(status: string): ReportedStatus | null {
  if (!isTwilioStatus(status)) return null;
  switch (status) {
    case 'queued':
    case 'accepted':
    case 'scheduled':
    case 'sending':
    case 'partially_delivered':
    case 'receiving':
    case 'received':
      return null;
    case 'sent':
      return 'sent';
    case 'delivered':
    case 'read':
      return 'delivered';
    case 'undelivered':
    case 'failed':
    case 'canceled':
      return 'failed';
  }
}

/**
 * The report in a status callback (https://www.twilio.com/docs/messaging/guides/track-outbound-message-status):
 * MessageSid, MessageStatus and, when it failed, ErrorCode. Null for a status
 * that changes nothing or a form without a SID. Check its signature first.
 */
export function readTwilioStatusCallback(params: URLSearchParams): DeliveryReport | null {
  const providerMessageId = params.get('MessageSid');
  // SmsStatus is the same value under its older name.
  const twilioStatus = params.get('MessageStatus') ?? params.get('SmsStatus');
  if (!providerMessageId || twilioStatus === null) return null;
  const status = mapTwilioStatus(twilioStatus);
  if (status === null) return null;
  if (status !== 'failed') return { providerMessageId, status };
  const errorCode = params.get('ErrorCode') || undefined;
  return {
    providerMessageId,
    status,
    errorCode,
    reason: errorCode
      ? `Twilio error ${errorCode} (https://www.twilio.com/docs/api/errors/${errorCode})`
      : `Twilio reports the message ${twilioStatus}`,
  };
}

function isTwilioStatus(value: string): value is MessageStatus {
  return (TWILIO_MESSAGE_STATUSES as readonly string[]).includes(value);
}
