import { HttpException, HttpStatus, Injectable, Logger } from '@nestjs/common';
import { v5 as uuidV5 } from 'uuid';
import { AuthFailureLimiter } from '@app/auth';
import { ApiException, PhoneNumbers } from '@app/common';
import { MessageRecorder } from '@app/messaging';
import { DeliveryReports } from '@app/outbound';
import type { WebhookOutcome } from './dto/webhook-answer.dto.js';
import type { Gateway } from './gateway.entity.js';
import type { GatewayProviderName, WebhookProviderName } from './gateway-provider-name.js';
import { GatewaysService } from './gateways.service.js';
import { AndroidSmsGatewayProvider } from './providers/android-sms-gateway.provider.js';
import type {
  GatewayProvider,
  InboundSms,
  WebhookReply,
  WebhookRequest,
} from './providers/gateway-provider.js';
import { TextbeeProvider } from './providers/textbee.provider.js';
import { TwilioProvider } from './providers/twilio.provider.js';
import { PublicUrls } from './public-urls.js';
import { WebhookEvents, type WebhookResult } from './webhook-events.js';

/** A webhook request as the HTTP layer hands it over. */
export interface IncomingWebhook {
  body: Buffer;
  contentType: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  /** Path and query, as requested: `/api/gateways/<id>/webhook?...` */
  pathAndQuery: string;
  /** The origin the request came to, e.g. `https://sms.example.com`. */
  origin: string;
  /** The client's address, for counting failed signatures. */
  clientAddress: string;
}

const PROVIDERS: Record<WebhookProviderName, GatewayProvider> = {
  twilio: new TwilioProvider(),
  'android-sms-gateway': new AndroidSmsGatewayProvider(),
  textbee: new TextbeeProvider(),
};

/** `type/subtype` of a Content-Type header, lower-cased, without parameters. */
function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';', 1)[0].trim().toLowerCase();
}

/**
 * Turns a gateway's webhook into the same message record as `receive-sms`.
 * Every provider goes through the same steps, each refusal storing nothing:
 * a blocked address (429), an unknown connection (404), a wrong media type
 * (415), a bad signature (401, counted like a failed API key), a malformed
 * payload (400), a number the connection does not receive for (403). The
 * message's uuid comes from the connection and the provider's message id,
 * so a gateway's retry or duplicate delivery is a replay.
 */
@Injectable()
export class GatewayWebhooks {
  private readonly logger = new Logger('Gateways');

  constructor(
    private readonly gateways: GatewaysService,
    private readonly recorder: MessageRecorder,
    private readonly phones: PhoneNumbers,
    private readonly failures: AuthFailureLimiter,
    private readonly urls: PublicUrls,
    private readonly events: WebhookEvents,
    private readonly deliveryReports: DeliveryReports,
  ) {}

  async receive(gatewayId: string, incoming: IncomingWebhook): Promise<WebhookReply> {
    let provider: GatewayProviderName | 'unknown' = 'unknown';
    try {
      const blockedFor = await this.failures.blockedFor(incoming.clientAddress);
      if (blockedFor > 0) throw tooManyFailures(blockedFor);
      const { gateway, secret } = await this.gateways.findWithSecret(gatewayId);
      provider = gateway.provider;
      // findWithSecret only finds connections with a webhook.
      const webhookProvider = PROVIDERS[gateway.provider as WebhookProviderName];
      return await this.handle(gateway, secret, webhookProvider, incoming);
    } catch (error) {
      this.events.publish({ provider, result: resultOfError(error) });
      throw error;
    }
  }

  private async handle(
    gateway: Gateway,
    secret: string,
    provider: GatewayProvider,
    incoming: IncomingWebhook,
  ): Promise<WebhookReply> {
    if (mediaTypeOf(incoming.contentType) !== provider.mediaType) {
      throw ApiException.field(
        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
        'content-type',
        `must be ${provider.mediaType} for ${provider.name}`,
      );
    }
    const request = this.toProviderRequest(incoming);
    if (!provider.verify(request, secret, Date.now())) {
      const blockedFor = await this.failures.recordFailure(incoming.clientAddress);
      if (blockedFor > 0) throw tooManyFailures(blockedFor);
      throw new ApiException(
        HttpStatus.UNAUTHORIZED,
        `The request does not carry a valid ${provider.name} signature`,
      );
    }
    const reading = provider.read(request);
    if (reading.kind === 'ignored') {
      this.logger.debug(`Gateway ${gateway.id}: ${reading.event} acknowledged, nothing recorded`);
      return this.answer(gateway.provider, provider, 'ignored');
    }
    if (reading.kind === 'status') {
      // Matched by the provider's id; one for a message not sent here is kept a while, then dropped.
      if (!gateway.outbound) return this.answer(gateway.provider, provider, 'ignored');
      await this.deliveryReports.apply(gateway.id, reading.report);
      return this.answer(gateway.provider, provider, 'status');
    }
    const { sms } = reading;
    const uuid = uuidV5(sms.providerMessageId, gateway.id);
    const outcome = await this.recorder.record(
      'received',
      {
        senderPhone: sms.from,
        receiverPhone: this.receiverOf(gateway, sms),
        messageText: sms.text,
        timestamp: sms.timestamp ?? Math.floor(Date.now() / 1000),
        uuid,
      },
      undefined,
      { timeIsArrival: sms.timestamp === undefined },
    );
    return this.answer(
      gateway.provider,
      provider,
      outcome === 'replayed' ? 'replayed' : 'recorded',
      uuid,
    );
  }

  private answer(
    name: GatewayProviderName,
    provider: GatewayProvider,
    outcome: WebhookOutcome,
    uuid?: string,
  ): WebhookReply {
    this.events.publish({ provider: name, result: outcome });
    return provider.reply(uuid === undefined ? { outcome } : { outcome, uuid });
  }

  /**
   * The connection's number that received the SMS: the one the provider
   * names (403 when it is not the connection's), else the one on the SIM
   * slot it names, else the first. A SIM slot beyond the list falls back to
   * the first number, with a warning, rather than losing the message.
   */
  private receiverOf(gateway: Gateway, sms: InboundSms): string {
    if (sms.to !== undefined) {
      const to = this.phones.parse(sms.to, ['phone']);
      if ('problem' in to || !gateway.phones.includes(to.value)) {
        throw ApiException.field(
          HttpStatus.FORBIDDEN,
          'To',
          'is not one of the numbers this gateway connection receives for',
        );
      }
      return to.value;
    }
    if (sms.simNumber !== undefined) {
      const number = gateway.phones[sms.simNumber - 1];
      if (number !== undefined) return number;
      this.logger.warn(
        `Gateway ${gateway.id}: SIM ${sms.simNumber} has no number in the connection; recorded for ${gateway.phones[0]}`,
      );
    }
    return gateway.phones[0];
  }

  private toProviderRequest(incoming: IncomingWebhook): WebhookRequest {
    return {
      body: incoming.body,
      contentType: incoming.contentType,
      header: (name) => {
        const value = incoming.headers[name];
        return typeof value === 'string' ? value : undefined;
      },
      url: `${this.urls.baseUrl(incoming.origin)}${incoming.pathAndQuery}`,
    };
  }
}

function tooManyFailures(seconds: number): ApiException {
  return new ApiException(
    HttpStatus.TOO_MANY_REQUESTS,
    `Too many failed authentications from this address; retry in ${seconds} s`,
    undefined,
    { 'Retry-After': String(seconds) },
  );
}

function resultOfError(error: unknown): WebhookResult {
  const status = error instanceof HttpException ? error.getStatus() : 500;
  switch (status) {
    case 400:
      return 'invalid';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 409:
      return 'conflict';
    case 415:
      return 'unsupported_media_type';
    case 429:
      return 'rate_limited';
    default:
      return status >= 500 ? 'failed' : 'invalid';
  }
}
