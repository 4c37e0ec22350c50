import { createHmac, timingSafeEqual } from 'node:crypto';
import { IsDefined, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
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

const HEX_SHA256 = /^[0-9a-f]{64}$/i;

/**
 * textbee's webhook body: one flat object per event (api/src/webhook/webhook.service.ts
 * in textbee's repository), `MESSAGE_RECEIVED` adding `sender` and `receivedAt`.
 */
export class TextbeeWebhookDto {
  /** `MESSAGE_RECEIVED`, `MESSAGE_SENT`, `MESSAGE_DELIVERED`, `MESSAGE_FAILED`, `UNKNOWN_STATE` */
  @IsDefined()
  @IsString()
  @MaxLength(64)
  webhookEvent: string;

  /** The message's id in textbee (a MongoDB ObjectId): the same on every retry. */
  @IsDefined()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  smsId: string;

  @IsOptional()
  @IsString()
  @IsStorableText()
  @HasCodePointLength(0, MAX_MESSAGE_LENGTH)
  message?: string;

  @IsOptional()
  @IsString()
  @MaxLength(32)
  sender?: string;

  /** ISO 8601, UTC. */
  @IsOptional()
  @IsString()
  @MaxLength(40)
  receivedAt?: string;

  @IsOptional()
  @IsString()
  deviceId?: string;

  /** A uuid per notification; retries of one notification repeat it. */
  @IsOptional()
  @IsString()
  idempotencyKey?: string;
}

/**
 * textbee (an Android phone as an SMS gateway, textbee.dev). `X-Signature`
 * is the hex HMAC-SHA256 of the body, keyed by the webhook's signing secret.
 * The connection's (first) number is the receiver: textbee does not say which.
 */
export class TextbeeProvider implements GatewayProvider {
  readonly name = 'textbee' as const;
  readonly mediaType = 'application/json' as const;

  verify(request: WebhookRequest, secret: string): boolean {
    const signature = request.header('x-signature');
    if (!signature || !HEX_SHA256.test(signature)) return false;
    const expected = createHmac('sha256', secret).update(request.body).digest();
    return timingSafeEqual(Buffer.from(signature, 'hex'), expected);
  }

  read(request: WebhookRequest): WebhookReading {
    const webhook = validated(TextbeeWebhookDto, parseJsonBody(request.body), '');
    if (webhook.webhookEvent !== 'MESSAGE_RECEIVED') {
      return { kind: 'ignored', event: webhook.webhookEvent };
    }
    const problems = (['sender', 'message', 'receivedAt'] as const)
      .filter((field) => webhook[field] === undefined)
      .map((field) => ({ field, problem: 'must be a string' }));
    if (problems.length > 0) throw ApiException.invalid(problems);
    const timestamp = isoToUnixSeconds(webhook.receivedAt!, 'receivedAt');
    if (webhook.message === '') return { kind: 'ignored', event: 'message without text' };
    return {
      kind: 'message',
      sms: {
        providerMessageId: webhook.smsId,
        from: webhook.sender!,
        text: webhook.message!,
        timestamp,
      },
    };
  }

  reply(answer: WebhookAnswerDto): WebhookReply {
    return { contentType: JSON_REPLY_TYPE, body: JSON.stringify(answer) };
  }
}
