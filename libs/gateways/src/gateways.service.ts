import { randomUUID } from 'node:crypto';
import { HttpStatus, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Not, type Repository } from 'typeorm';
import { ApiException, PhoneNumbers } from '@app/common';
import type { CreateGatewayDto } from './dto/gateway.dto.js';
import { Gateway } from './gateway.entity.js';
import { SecretBox, UnknownSecretsKeyError } from './secrets/secret-box.js';

/** A connection with its signing secret opened, for verifying one webhook. */
export interface GatewayWithSecret {
  gateway: Gateway;
  secret: string;
}

/**
 * Gateway connections: created, listed and deleted by the admin, read by the
 * webhook. Secrets are sealed before they reach the database and opened only
 * to check a signature; no answer and no log line ever carries one.
 */
@Injectable()
export class GatewaysService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Gateways');

  constructor(
    @InjectRepository(Gateway) private readonly gateways: Repository<Gateway>,
    private readonly secrets: SecretBox,
    private readonly phones: PhoneNumbers,
  ) {}

  async create(input: CreateGatewayDto): Promise<Gateway> {
    const phones = this.phones.requireNumbers(input.phones, 'phones');
    const id = randomUUID();
    const { keyId, sealed } = this.secrets.seal(input.secret, id);
    const gateway = await this.gateways.save(
      this.gateways.create({
        id,
        provider: input.provider,
        label: input.label,
        phones,
        secretKeyId: keyId,
        secretSealed: sealed,
      }),
    );
    this.logger.log(`Gateway ${id} (${input.provider}) connected for ${phones.length} number(s)`);
    return gateway;
  }

  /** Every connection, oldest first. */
  list(): Promise<Gateway[]> {
    return this.gateways.find({ order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** Deletes a connection; its webhook answers 404 from then on. 404 when there is none. */
  async remove(id: string): Promise<void> {
    const { affected } = await this.gateways.delete({ id });
    if (!affected) throw notFound(id);
    this.logger.log(`Gateway ${id} deleted`);
  }

  /** The connection and its secret; a 404 when there is no such connection. */
  async findWithSecret(id: string): Promise<GatewayWithSecret> {
    const gateway = await this.gateways.findOneBy({ id });
    if (!gateway) throw notFound(id);
    const secret = this.secrets.open(
      { keyId: gateway.secretKeyId, sealed: gateway.secretSealed },
      gateway.id,
    );
    return { gateway, secret };
  }

  /**
   * Runs at start-up. After a rotation (SECRETS_KEY new, the old one in
   * SECRETS_KEY_PREVIOUS) it reseals every secret under the new key; a
   * secret no given key opens stops the start, before a webhook would fail.
   * Instances starting together are harmless: a row is only rewritten while
   * it still carries the old key's id.
   */
  async onApplicationBootstrap(): Promise<void> {
    const stale = await this.gateways.findBy({ secretKeyId: Not(this.secrets.currentKeyId) });
    const unknown = stale.find((gateway) => !this.secrets.knows(gateway.secretKeyId));
    if (unknown) throw new UnknownSecretsKeyError(unknown.secretKeyId);
    let resealed = 0;
    for (const gateway of stale) {
      const secret = this.secrets.open(
        { keyId: gateway.secretKeyId, sealed: gateway.secretSealed },
        gateway.id,
      );
      const { keyId, sealed } = this.secrets.seal(secret, gateway.id);
      const { affected } = await this.gateways.update(
        { id: gateway.id, secretKeyId: gateway.secretKeyId },
        { secretKeyId: keyId, secretSealed: sealed },
      );
      resealed += affected ?? 0;
    }
    if (resealed > 0) {
      this.logger.log(
        `Resealed ${resealed} gateway secret(s) under the current SECRETS_KEY; SECRETS_KEY_PREVIOUS can go once every instance runs with it`,
      );
    }
  }
}

function notFound(id: string): ApiException {
  return ApiException.field(HttpStatus.NOT_FOUND, 'id', `matches no gateway connection (${id})`);
}
