import { randomBytes, randomUUID } from 'node:crypto';
import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import type { Principal } from '@app/auth';
import { ApiException, PhoneNumbers } from '@app/common';
import { SecretBox } from '@app/gateways';
import { DestinationPolicy } from './delivery/destinations.js';
import { KEPT_DELIVERIES, WebhookDispatcher } from './delivery/webhook-dispatcher.js';
import { type DeliveryListDto, type RedeliveryDto, toDeliveryDto } from './dto/delivery.dto.js';
import {
  type CreatedWebhookDto,
  type CreateWebhookDto,
  toWebhookDto,
  type WebhookListDto,
} from './dto/webhook.dto.js';
import { type WebhookRow, WebhooksRepository } from './webhooks.repository.js';

/** Webhooks one phone key may have; the admin key has no limit. */
export const MAX_WEBHOOKS_PER_KEY = 25;
const SECRET_BYTES = 32;

/**
 * The rules of webhooks. The admin key manages every webhook; a phone key
 * manages those whose numbers are all its own, and creates them only for its
 * own numbers (every number needs the admin key).
 */
@Injectable()
export class WebhooksService {
  private readonly logger = new Logger('Webhooks');

  constructor(
    private readonly repository: WebhooksRepository,
    private readonly destinations: DestinationPolicy,
    private readonly phoneNumbers: PhoneNumbers,
    private readonly secrets: SecretBox,
    private readonly dispatcher: WebhookDispatcher,
  ) {}

  async create(input: CreateWebhookDto, principal: Principal): Promise<CreatedWebhookDto> {
    const phones = this.phonesFor(input.phones, principal);
    const problem = await this.destinations.problemWith(input.url);
    if (problem) throw ApiException.field(HttpStatus.BAD_REQUEST, 'url', problem);
    if (
      !principal.isAdmin &&
      (await this.repository.countCreatedBy(principal.keyId)) >= MAX_WEBHOOKS_PER_KEY
    ) {
      throw new ApiException(
        HttpStatus.CONFLICT,
        `A phone key may have at most ${MAX_WEBHOOKS_PER_KEY} webhooks; delete one first`,
      );
    }
    const id = randomUUID();
    // Standard Webhooks' secret format; the signer (its own library) reads it as is.
    const secret = `whsec_${randomBytes(SECRET_BYTES).toString('base64')}`;
    const sealed = this.secrets.seal(secret, id);
    const row = await this.repository.insert({
      id,
      url: input.url,
      events: input.events,
      phones,
      secretKeyId: sealed.keyId,
      secretSealed: sealed.sealed,
      createdBy: principal.keyId,
    });
    this.logger.log(
      `Webhook ${id} created by ${principal.keyId} for ${phones ? `${phones.length} number(s)` : 'every number'}`,
    );
    this.dispatcher.notifyWork();
    return { ...toWebhookDto(row), secret };
  }

  async list(principal: Principal): Promise<WebhookListDto> {
    const rows = await this.repository.find(principal.isAdmin ? undefined : [...principal.phones]);
    return { webhooks: rows.map(toWebhookDto) };
  }

  async remove(id: string, principal: Principal): Promise<void> {
    await this.require(id, principal);
    await this.repository.delete(id);
    this.dispatcher.forget(id);
    this.logger.log(`Webhook ${id} deleted by ${principal.keyId}`);
  }

  async deliveries(id: string, principal: Principal): Promise<DeliveryListDto> {
    await this.require(id, principal);
    const rows = await this.repository.findDeliveries(id, KEPT_DELIVERIES);
    return { deliveries: rows.map(toDeliveryDto) };
  }

  async redeliver(id: string, deliveryId: string, principal: Principal): Promise<RedeliveryDto> {
    const webhook = await this.require(id, principal);
    if (!webhook.enabled) {
      throw new ApiException(
        HttpStatus.CONFLICT,
        `The webhook is disabled (${webhook.disabledReason}); create a new one to receive events again`,
      );
    }
    const { found, eventId, state } = await this.repository.redeliver(id, deliveryId);
    if (!found) throw new ApiException(HttpStatus.NOT_FOUND, 'This webhook has no such delivery');
    if (!eventId || !state) {
      throw new ApiException(
        HttpStatus.GONE,
        "The delivery's event is no longer kept (events are kept 7 days after they finish)",
      );
    }
    this.dispatcher.notifyWork();
    return { eventId, state: state as RedeliveryDto['state'] };
  }

  /** The webhook, if the principal may manage it; else 404, as if it did not exist. */
  private async require(id: string, principal: Principal): Promise<WebhookRow> {
    const webhook = await this.repository.findOne(id);
    if (!webhook || !this.manages(principal, webhook)) {
      throw new ApiException(HttpStatus.NOT_FOUND, 'No webhook has this id');
    }
    return webhook;
  }

  private manages(principal: Principal, webhook: WebhookRow): boolean {
    if (principal.isAdmin) return true;
    return webhook.phones !== null && webhook.phones.every((phone) => principal.phones.has(phone));
  }

  /** The numbers a new webhook hears of: null for every number (admin only). */
  private phonesFor(inputs: string[] | undefined, principal: Principal): string[] | null {
    if (inputs === undefined) return principal.isAdmin ? null : [...principal.phones];
    const phones = this.phoneNumbers.requireNumbers(inputs, 'phones');
    const foreign = phones.filter((phone) => !principal.isAdmin && !principal.phones.has(phone));
    if (foreign.length > 0) {
      throw new ApiException(
        HttpStatus.FORBIDDEN,
        `The key does not act for ${foreign.join(', ')}`,
      );
    }
    return phones;
  }
}
