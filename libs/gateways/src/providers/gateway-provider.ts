import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { ApiException, decodeJsonBody, toErrorDetails, unixSecondsProblem } from '@app/common';
import type { WebhookAnswerDto } from '../dto/webhook-answer.dto.js';
import type { WebhookProviderName } from '../gateway-provider-name.js';
import type { DeliveryReport } from '../senders/sms-sender.js';

/** A webhook request as the providers see it: the exact bytes, for their signatures. */
export interface WebhookRequest {
  body: Buffer;
  contentType: string | undefined;
  /** A header by its lower-case name; undefined when absent or repeated. */
  header(name: string): string | undefined;
  /** The URL the gateway posted to, as the gateway wrote it: PUBLIC_BASE_URL or the request's origin, plus path and query. */
  url: string;
}

/** A received SMS as a provider reports it, before numbers are normalized. */
export interface InboundSms {
  /** The provider's own id of the message: the same on every retry. */
  providerMessageId: string;
  from: string;
  /** The number it was sent to; undefined when the connection's number is implied. */
  to?: string;
  /** SMS Gateway for Android: the 1-based SIM slot that received it, when the phone says. */
  simNumber?: number;
  text: string;
  /** Unix seconds from the provider's own timestamp; undefined means "now". */
  timestamp?: number;
}

export type WebhookReading =
  | { kind: 'message'; sms: InboundSms }
  /** Where a message we sent through this connection stands. */
  | { kind: 'status'; report: DeliveryReport }
  /** A valid event that records nothing (a ping, a status report); `event` names it for the logs. */
  | { kind: 'ignored'; event: string };

export interface WebhookReply {
  contentType: string;
  body: string;
}

/**
 * One SMS gateway's webhook format and signature scheme, each exactly as the
 * provider documents it. The webhook service runs every provider through the
 * same steps: media type, signature, payload, then the same recording rules.
 */
export interface GatewayProvider {
  readonly name: WebhookProviderName;
  /** The media type the provider posts; anything else is refused with 415. */
  readonly mediaType: 'application/json' | 'application/x-www-form-urlencoded';
  /** True when the request carries a valid signature made with `secret`. */
  verify(request: WebhookRequest, secret: string, nowMs: number): boolean;
  /** What the request reports; an ApiException (400) when it is malformed. */
  read(request: WebhookRequest): WebhookReading;
  /** The 200 answer the provider expects. */
  reply(answer: WebhookAnswerDto): WebhookReply;
}

/** The JSON of a webhook body, decoded as strictly as every other JSON body; 400 otherwise. */
export function parseJsonBody(body: Buffer): unknown {
  try {
    return JSON.parse(decodeJsonBody(body)) as unknown;
  } catch (error) {
    const problem = (error as { problem?: string }).problem ?? 'must be valid JSON';
    throw ApiException.field(400, 'body', problem);
  }
}

/** `value` as an instance of `dto`, or a 400 naming each bad field under `path` ('' for the body itself). */
export function validated<T extends object>(dto: new () => T, value: unknown, path: string): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw ApiException.field(400, path || 'body', 'must be a JSON object');
  }
  const instance = plainToInstance(dto, value);
  const errors = validateSync(instance, { stopAtFirstError: true, forbidUnknownValues: true });
  if (errors.length > 0) throw ApiException.invalid(toErrorDetails(errors, path));
  return instance;
}

/** Unix seconds of an ISO 8601 instant, held to the API's timestamp rules; a 400 naming `field` otherwise. */
export function isoToUnixSeconds(value: string, field: string): number {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw ApiException.field(400, field, 'must be an ISO 8601 date-time');
  const seconds = Math.floor(ms / 1000);
  const problem = unixSecondsProblem(seconds);
  if (problem !== undefined) throw ApiException.field(400, field, problem);
  return seconds;
}

export const JSON_REPLY_TYPE = 'application/json; charset=utf-8';
