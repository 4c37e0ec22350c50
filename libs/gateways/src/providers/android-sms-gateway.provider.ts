import { readAndroidStatusEvent } from '../senders/android-sms-gateway.sender.js';
import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  IsDefined,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { ApiException, HasCodePointLength, IsStorableText } from '@app/common';
import { MAX_MESSAGE_LENGTH } from '@app/messaging';
import type { WebhookAnswerDto } from '../dto/webhook-answer.dto.js';
import {
  type GatewayProvider,
  isoToUnixSeconds,
  JSON_REPLY_TYPE,
  parseJsonBody,
  validated,
  type WebhookReading,
  type WebhookReply,
  type WebhookRequest,
} from './gateway-provider.js';

/** The app's clock and ours may differ this much; an older signed request is a replay. */
export const ANDROID_TIMESTAMP_TOLERANCE_MS = 5 * 60 * 1000;
const HEX_SHA256 = /^[0-9a-f]{64}$/i;

/** Every webhook of the app: `{event, deviceId, id, webhookId, payload}`. */
export class AndroidWebhookDto {
  /** `sms:received`, `sms:sent`, `sms:delivered`, `sms:failed`, `system:ping`, ... */
  @IsDefined()
  @IsString()
  @MaxLength(64)
  event: string;

  @IsOptional()
  @IsString()
  deviceId?: string;

  /** The delivery's id: new on a resend of the same message, so not what deduplicates. */
  @IsOptional()
  @IsString()
  id?: string;

  @IsOptional()
  @IsString()
  webhookId?: string;

  @IsDefined()
  @IsObject()
  payload: Record<string, unknown>;
}

/** The payload of `sms:received` (the app leaves out a field whose value is null). */
export class AndroidSmsReceivedDto {
  /**
   * A 32-bit hash of the message, in hex, made by the app: the same when it
   * resends the message, but, as the app's documentation warns, not unique.
   */
  @IsDefined()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  messageId: string;

  @IsDefined()
  @IsString()
  @IsStorableText()
  @HasCodePointLength(0, MAX_MESSAGE_LENGTH)
  message: string;

  /** ISO 8601 in the phone's time zone, e.g. `2025-03-14T09:26:53.000-04:00`. */
  @IsDefined()
  @IsString()
  @MaxLength(40)
  receivedAt: string;

  /** The sender (app 1.x and later). */
  @IsOptional()
  @IsString()
  @MaxLength(32)
  sender?: string;

  /** The sender, as older versions of the app name it (still sent, deprecated). */
  @IsOptional()
  @IsString()
  @MaxLength(32)
  phoneNumber?: string;

  /** The receiving number, when the phone knows it; the SIM slot decides instead (see simNumber). */
  @IsOptional()
  @IsString()
  recipient?: string;

  /** The 1-based SIM slot; absent on some phones. */
  @IsOptional()
  @IsInt()
  @Min(1)
  simNumber?: number | null;
}

/**
 * SMS Gateway for Android (capcom6/android-sms-gateway). The app signs each
 * webhook with the signing key from its settings: `X-Signature` is the hex
 * HMAC-SHA256 of the raw body followed by `X-Timestamp` (unix seconds).
 */
export class AndroidSmsGatewayProvider implements GatewayProvider {
  readonly name = 'android-sms-gateway' as const;
  readonly mediaType = 'application/json' as const;

  verify(request: WebhookRequest, signingKey: string, nowMs: number): boolean {
    const signature = request.header('x-signature');
    const timestamp = request.header('x-timestamp');
    if (!signature || !timestamp || !HEX_SHA256.test(signature) || !/^\d{1,12}$/.test(timestamp)) {
      return false;
    }
    if (Math.abs(nowMs - Number(timestamp) * 1000) > ANDROID_TIMESTAMP_TOLERANCE_MS) return false;
    const expected = createHmac('sha256', signingKey)
      .update(request.body)
      .update(timestamp, 'utf8')
      .digest();
    return timingSafeEqual(Buffer.from(signature, 'hex'), expected);
  }

  read(request: WebhookRequest): WebhookReading {
    const body = parseJsonBody(request.body);
    const webhook = validated(AndroidWebhookDto, body, '');
    if (webhook.event !== 'sms:received') {
      // sms:sent, sms:delivered and sms:failed report on a message we sent.
      const report = readAndroidStatusEvent(body);
      return report ? { kind: 'status', report } : { kind: 'ignored', event: webhook.event };
    }
    const payload = validated(AndroidSmsReceivedDto, webhook.payload, 'payload');
    const from = payload.sender ?? payload.phoneNumber;
    if (from === undefined) throw ApiException.field(400, 'payload.sender', 'must be a string');
    const timestamp = isoToUnixSeconds(payload.receivedAt, 'payload.receivedAt');
    if (payload.message === '') return { kind: 'ignored', event: 'message without text' };
    return {
      kind: 'message',
      sms: {
        // The app's id is a 32-bit hash, so two different messages can share it; a
        // resend repeats the sender and the time as well, so together they stay stable.
        providerMessageId: `${payload.messageId}/${from}/${payload.receivedAt}`,
        from,
        simNumber: payload.simNumber ?? undefined,
        text: payload.message,
        timestamp,
      },
    };
  }

  reply(answer: WebhookAnswerDto): WebhookReply {
    return { contentType: JSON_REPLY_TYPE, body: JSON.stringify(answer) };
  }
}
