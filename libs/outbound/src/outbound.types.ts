import type { SmsEncoding } from '@app/common';
import type { DeliveryStatus } from '@app/messaging';

/** The providers a connection can send through. */
export const OUTBOUND_PROVIDERS = ['smpp', 'android-sms-gateway', 'twilio'] as const;
export type OutboundProviderName = (typeof OUTBOUND_PROVIDERS)[number];

/** Where a provider says a message stands, mapped from its own vocabulary. */
export type ReportedStatus = 'sent' | 'delivered' | 'failed';

/** A status report about a message we handed over, named by the provider's id. */
export interface DeliveryReport {
  providerMessageId: string;
  status: ReportedStatus;
  /** The provider's own error code (Twilio ErrorCode, SMPP `err:`, the app's state), when it failed. */
  errorCode?: string;
  /** A readable reason, when it failed. */
  reason?: string;
  /**
   * What an SMPP receipt says of the message it reports on, so that a report
   * whose id we never stored (the submit's answer was lost to a crash) can
   * still find its message: the addresses as the SMSC writes them (no '+')
   * and the receipt's `text:`, the message's first characters.
   */
  recognition?: { senderAddress: string; receiverAddress: string; textStart: string };
}

/** A job a worker claimed: the message as accepted, and how many hand-overs it has had. */
export interface ClaimedJob {
  uuid: string;
  gatewayId: string;
  from: string;
  to: string;
  text: string;
  encoding: SmsEncoding;
  segments: number;
  attempts: number;
  /** Unix ms of its acceptance, for the queue-latency metrics. */
  queuedAtMs: number;
}

/** A delivery's change, as observers hear of it (metrics, the live stream). */
export interface DeliveryChanged {
  uuid: string;
  gatewayId: string;
  senderPhone: string;
  receiverPhone: string;
  status: DeliveryStatus;
  /** Unix ms of its acceptance. */
  queuedAtMs: number;
}

/** What became of one hand-over, for the metrics. */
export type SendOutcome = 'accepted' | 'retried' | 'failed' | 'unknown';
