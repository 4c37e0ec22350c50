import type { SmsEncoding } from '@app/common';
import type { OutboundProviderName } from '@app/outbound';

export type { DeliveryReport, OutboundProviderName, ReportedStatus } from '@app/outbound';

/** One message to hand to a provider, exactly as it was accepted. */
export interface OutgoingSms {
  /** Our id of the message; passed to providers that accept a client reference. */
  uuid: string;
  /** E.164 numbers. */
  from: string;
  to: string;
  text: string;
  encoding: SmsEncoding;
  segments: number;
  /** Where the provider posts status changes (the connection's signed webhook URL). */
  statusCallbackUrl: string;
}

/** The provider took the message: its own id, by which its status reports name it. */
export interface SendAccepted {
  providerMessageId: string;
}

/**
 * Why a send did not go through. `transient` failures (network errors,
 * timeouts, 5xx, 429, SMPP throttling) are retried with backoff; permanent
 * ones (a refused number, bad credentials) fail the message at once. The
 * code UNKNOWN_OUTCOME means the request went out and no answer came: the
 * provider may have the message, so it is not sent again by itself.
 */
export class SendFailure extends Error {
  constructor(
    readonly transient: boolean,
    /** The provider's error code, or ours for failures without one (`timeout`, `network`). */
    readonly code: string,
    /** Readable, for the sender: shown with the failed message. Never carries a credential. */
    readonly reason: string,
    /** The provider asked for this pause (429 Retry-After, throttling); ms. */
    readonly retryAfterMs?: number,
  ) {
    super(reason);
    this.name = 'SendFailure';
  }

  static transient(code: string, reason: string, retryAfterMs?: number): SendFailure {
    return new SendFailure(true, code, reason, retryAfterMs);
  }

  static permanent(code: string, reason: string): SendFailure {
    return new SendFailure(false, code, reason);
  }
}

/**
 * One provider's outbound side, for one connection, shaped like novu's
 * provider adapters: `send` hands a message over and answers with the
 * provider's id, or throws a SendFailure. Status reports that arrive on the
 * sender's own channel (SMPP delivery receipts) go to the `onReport` given at
 * creation; webhook-borne ones (Twilio, SMS Gateway for Android) come through
 * the connection's webhook instead.
 */
export interface SmsSender {
  readonly provider: OutboundProviderName;
  /**
   * True when the provider deduplicates by our uuid, so a resend after a crash
   * between its accept and our commit cannot make a second SMS.
   */
  readonly deduplicatesByReference: boolean;
  /** How many sends may be outstanding at once on this connection. */
  readonly window: number;
  send(sms: OutgoingSms): Promise<SendAccepted>;
  /** Stops the connection; sends not yet written fail as transient, written ones as UNKNOWN_OUTCOME. */
  close(): Promise<void>;
}
