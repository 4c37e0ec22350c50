import { randomUUID } from 'node:crypto';
import { HttpStatus, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type EntityManager, Not, QueryFailedError, type Repository } from 'typeorm';
import { ApiException, PhoneNumbers } from '@app/common';
import type { CreateGatewayDto } from './dto/gateway.dto.js';
import { Gateway } from './gateway.entity.js';
import { hasWebhook } from './gateway-provider-name.js';
import { GatewaySender } from './outbound/gateway-sender.entity.js';
import { OutboundRateWindow } from './outbound/outbound-rate-window.entity.js';
import {
  type OutboundCredentials,
  type OutboundSettings,
  readOutboundSettings,
} from './outbound/outbound-settings.js';
import { type SealedSecret, SecretBox, UnknownSecretsKeyError } from './secrets/secret-box.js';

/** A connection with its signing secret opened, for verifying one webhook. */
export interface GatewayWithSecret {
  gateway: Gateway;
  secret: string;
}

/** A connection's outbound side with its credentials opened, for the delivery worker. */
export interface OutboundConnection {
  gateway: Gateway;
  settings: OutboundSettings;
  credentials: OutboundCredentials;
  /** The signing secret (Twilio's auth token sends too); null for SMPP. */
  secret: string | null;
}

/**
 * Gateway connections: created, listed and deleted by the admin, read by the
 * webhook and the delivery worker. Secrets and credentials are sealed before
 * they reach the database and opened only to check a signature or to send;
 * no answer and no log line ever carries one.
 */
@Injectable()
export class GatewaysService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Gateways');

  constructor(
    @InjectRepository(Gateway) private readonly gateways: Repository<Gateway>,
    private readonly secrets: SecretBox,
    private readonly phones: PhoneNumbers,
  ) {}

  /** `webhookUrl` is where the provider reports (Twilio's StatusCallback is set to it). */
  async create(input: CreateGatewayDto, webhookUrlOf: (id: string) => string): Promise<Gateway> {
    this.checkSecretRule(input);
    const phones = this.phones.requireNumbers(input.phones, 'phones');
    const id = randomUUID();
    const outbound =
      input.outbound && readOutboundSettings(input.provider, input.outbound, webhookUrlOf(id));
    if (input.provider === 'smpp' && !outbound) {
      throw ApiException.field(HttpStatus.BAD_REQUEST, 'outbound', 'is required for smpp');
    }
    const secret = input.secret === undefined ? undefined : this.secrets.seal(input.secret, id);
    const credentials =
      outbound && outbound.credentials.password !== undefined
        ? this.secrets.seal(JSON.stringify(outbound.credentials), outboundScope(id))
        : undefined;
    const gateway = this.gateways.create({
      id,
      provider: input.provider,
      label: input.label,
      phones,
      secretKeyId: secret?.keyId ?? null,
      secretSealed: secret?.sealed ?? null,
      outbound: outbound?.settings ?? null,
      outboundKeyId: credentials?.keyId ?? null,
      outboundSealed: credentials?.sealed ?? null,
    });
    try {
      await this.gateways.manager.transaction(async (manager) => {
        await manager.save(gateway);
        if (outbound) await this.claimSenders(manager, id, phones);
      });
    } catch (error) {
      throw senderConflict(error) ?? error;
    }
    this.logger.log(
      `Gateway ${id} (${input.provider}) connected for ${phones.length} number(s)${outbound ? ', sending' : ''}`,
    );
    return gateway;
  }

  /** Every connection, oldest first. */
  list(): Promise<Gateway[]> {
    return this.gateways.find({ order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /**
   * Deletes a connection; its webhook answers 404 from then on, its numbers
   * stop sending, and messages still queued for it fail with a reason.
   */
  async remove(id: string): Promise<void> {
    const { affected } = await this.gateways.delete({ id });
    if (!affected) throw notFound(id);
    this.logger.log(`Gateway ${id} deleted`);
  }

  /** The connection and its signing secret; a 404 when there is no such connection or it has no webhook. */
  async findWithSecret(id: string): Promise<GatewayWithSecret> {
    const gateway = await this.gateways.findOneBy({ id });
    if (
      !gateway ||
      !hasWebhook(gateway.provider) ||
      !gateway.secretSealed ||
      !gateway.secretKeyId
    ) {
      throw notFound(id);
    }
    const secret = this.secrets.open(
      { keyId: gateway.secretKeyId, sealed: gateway.secretSealed },
      gateway.id,
    );
    return { gateway, secret };
  }

  /** The connection's outbound side, opened; undefined when it is gone or only receives. */
  async findOutbound(id: string): Promise<OutboundConnection | undefined> {
    const gateway = await this.gateways.findOneBy({ id });
    if (!gateway?.outbound) return undefined;
    const credentials: OutboundCredentials =
      gateway.outboundSealed && gateway.outboundKeyId
        ? (JSON.parse(
            this.secrets.open(
              { keyId: gateway.outboundKeyId, sealed: gateway.outboundSealed },
              outboundScope(gateway.id),
            ),
          ) as OutboundCredentials)
        : {};
    const secret =
      gateway.secretSealed && gateway.secretKeyId
        ? this.secrets.open(
            { keyId: gateway.secretKeyId, sealed: gateway.secretSealed },
            gateway.id,
          )
        : null;
    return { gateway, settings: gateway.outbound, credentials, secret };
  }

  /**
   * Runs at start-up. After a rotation (SECRETS_KEY new, the old one in
   * SECRETS_KEY_PREVIOUS) it reseals every secret and every set of outbound
   * credentials under the new key; one that no given key opens stops the
   * start, before a webhook or a send would fail. Instances starting
   * together are harmless: a row is only rewritten while it still carries
   * the old key's id.
   */
  async onApplicationBootstrap(): Promise<void> {
    const current = this.secrets.currentKeyId;
    const stale = await this.gateways.find({
      where: [{ secretKeyId: Not(current) }, { outboundKeyId: Not(current) }],
    });
    for (const gateway of stale) {
      for (const keyId of [gateway.secretKeyId, gateway.outboundKeyId]) {
        if (keyId !== null && !this.secrets.knows(keyId)) throw new UnknownSecretsKeyError(keyId);
      }
    }
    let resealed = 0;
    for (const gateway of stale) {
      resealed += await this.reseal(gateway, 'secretKeyId', 'secretSealed', gateway.id);
      resealed += await this.reseal(
        gateway,
        'outboundKeyId',
        'outboundSealed',
        outboundScope(gateway.id),
      );
    }
    if (resealed > 0) {
      this.logger.log(
        `Resealed ${resealed} gateway secret(s) under the current SECRETS_KEY; SECRETS_KEY_PREVIOUS can go once every instance runs with it`,
      );
    }
  }

  private async reseal(
    gateway: Gateway,
    keyColumn: 'secretKeyId' | 'outboundKeyId',
    sealedColumn: 'secretSealed' | 'outboundSealed',
    scope: string,
  ): Promise<number> {
    const keyId = gateway[keyColumn];
    const sealed = gateway[sealedColumn];
    if (keyId === null || sealed === null || keyId === this.secrets.currentKeyId) return 0;
    const stored: SealedSecret = { keyId, sealed };
    const fresh = this.secrets.seal(this.secrets.open(stored, scope), scope);
    const { affected } = await this.gateways.update(
      { id: gateway.id, [keyColumn]: keyId },
      { [keyColumn]: fresh.keyId, [sealedColumn]: fresh.sealed },
    );
    return affected ?? 0;
  }

  /** A signing secret for every provider with a webhook, none for SMPP. */
  private checkSecretRule(input: CreateGatewayDto): void {
    if (input.provider === 'smpp' && input.secret !== undefined) {
      throw ApiException.field(
        HttpStatus.BAD_REQUEST,
        'secret',
        'must be absent for smpp, which has no webhook (the password goes in outbound.url)',
      );
    }
    if (input.provider !== 'smpp' && input.secret === undefined) {
      throw ApiException.field(
        HttpStatus.BAD_REQUEST,
        'secret',
        `is required for ${input.provider}`,
      );
    }
  }

  /** The numbers send through this connection from now on, paced by its own rate window. */
  private async claimSenders(manager: EntityManager, gatewayId: string, phones: string[]) {
    await manager.insert(
      GatewaySender,
      phones.map((phone) => ({ phone, gatewayId })),
    );
    // Made here, so that concurrent claims always find a row to lock.
    await manager.insert(OutboundRateWindow, { gatewayId, windowStart: new Date(0), used: 0 });
  }
}

/** The associated data that binds outbound credentials to their row (and apart from its signing secret). */
function outboundScope(gatewayId: string): string {
  return `${gatewayId}/outbound`;
}

function notFound(id: string): ApiException {
  return ApiException.field(HttpStatus.NOT_FOUND, 'id', `matches no gateway connection (${id})`);
}

/** A 409 when a number already sends through another connection. */
function senderConflict(error: unknown): ApiException | undefined {
  if (!(error instanceof QueryFailedError)) return undefined;
  const { code, detail } = error.driverError as { code?: string; detail?: string };
  if (code !== '23505' || !detail?.includes('(phone)')) return undefined;
  const phone = /\(phone\)=\(([^)]+)\)/.exec(detail)?.[1];
  return ApiException.field(
    HttpStatus.CONFLICT,
    'phones',
    `${phone ?? 'a number'} already sends through another connection; delete that one first`,
  );
}
