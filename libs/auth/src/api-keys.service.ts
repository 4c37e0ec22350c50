import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, type Repository } from 'typeorm';
import { ApiException, type CountryCode, type ErrorDetail, parsePartyAddress } from '@app/common';
import {
  generateApiKeySecret,
  hashApiKey,
  looksLikeIssuedKey,
  sameDigest,
  visiblePrefixOf,
} from './api-key-secret.js';
import { ApiKey } from './api-key.entity.js';
import {
  type ApiKeyDto,
  type CreatedApiKeyDto,
  toApiKeyDto,
  toCreatedApiKeyDto,
} from './dto/api-key.dto.js';
import type { Principal } from './principal.js';

/**
 * How long an instance trusts what it last read about a key. Revocation has
 * to reach every instance within 5 s; with this, one that just cached a key
 * sees its revocation at most 2 s later, and a busy key costs one indexed
 * query per 2 s per instance.
 */
export const KEY_CACHE_TTL_MS = 2_000;

interface CachedLookup {
  /** Undefined for a revoked key. */
  principal: Principal | undefined;
  expiresAt: number;
}

export interface NewApiKey {
  label: string;
  phones: readonly string[];
}

@Injectable()
export class ApiKeysService {
  private readonly logger = new Logger('ApiKeys');
  private readonly defaultCountry: CountryCode;
  /** By digest (hex). Only keys that exist are cached, so guesses cannot grow it. */
  private readonly cache = new Map<string, CachedLookup>();

  constructor(
    @InjectRepository(ApiKey) private readonly keys: Repository<ApiKey>,
    config: ConfigService,
  ) {
    this.defaultCountry = config.get<CountryCode>('DEFAULT_COUNTRY') ?? 'US';
  }

  /** Issues a key; the answer is the only place its secret ever appears. */
  async create(input: NewApiKey): Promise<CreatedApiKeyDto> {
    const phones = this.normalizePhones(input.phones);
    const secret = generateApiKeySecret();
    const key = await this.keys.save(
      this.keys.create({
        label: input.label,
        keyHash: hashApiKey(secret),
        keyPrefix: visiblePrefixOf(secret),
        phones,
      }),
    );
    this.logger.log(`API key ${key.id} (${key.keyPrefix}…) created for ${phones.length} number(s)`);
    return toCreatedApiKeyDto(key, secret);
  }

  /** Every key, oldest first, revoked ones included; never a secret. */
  async list(): Promise<ApiKeyDto[]> {
    const keys = await this.keys.find({ order: { createdAt: 'ASC', id: 'ASC' } });
    return keys.map(toApiKeyDto);
  }

  /** Revokes a key; revoking it again changes nothing. 404 when there is no such key. */
  async revoke(id: string): Promise<void> {
    const { affected } = await this.keys.update(
      { id, revokedAt: IsNull() },
      { revokedAt: () => 'now()' },
    );
    if (!affected && !(await this.keys.existsBy({ id }))) {
      throw ApiException.field(HttpStatus.NOT_FOUND, 'id', `matches no API key (${id})`);
    }
    // This instance stops trusting it at once; the others within KEY_CACHE_TTL_MS.
    for (const [digest, entry] of this.cache) {
      if (entry.principal?.keyId === id) this.cache.delete(digest);
    }
    if (affected) this.logger.log(`API key ${id} revoked`);
  }

  /** The principal of an active issued key, or undefined for anything else. */
  async findPrincipal(secret: string): Promise<Principal | undefined> {
    if (!looksLikeIssuedKey(secret)) return undefined;
    const digest = hashApiKey(secret);
    const cacheKey = digest.toString('hex');
    const cached = this.cache.get(cacheKey);
    if (cached && cached.expiresAt > Date.now()) return cached.principal;

    const key = await this.keys
      .createQueryBuilder('key')
      .where('key.key_hash = :digest', { digest })
      .getOne();
    // The index found the row by its digest; comparing again in constant time
    // keeps every comparison of secret material out of short-circuiting code.
    if (!key || !sameDigest(key.keyHash, digest)) {
      this.cache.delete(cacheKey);
      return undefined;
    }
    const principal: Principal | undefined = key.revokedAt
      ? undefined
      : { keyId: key.id, isAdmin: false, phones: new Set(key.phones) };
    this.cache.set(cacheKey, { principal, expiresAt: Date.now() + KEY_CACHE_TTL_MS });
    return principal;
  }

  /** E.164, deduplicated, in the given order; 400 naming each bad entry. */
  private normalizePhones(inputs: readonly string[]): string[] {
    const problems: ErrorDetail[] = [];
    const phones = new Set<string>();
    inputs.forEach((input, index) => {
      const parsed = parsePartyAddress(input, {
        defaultCountry: this.defaultCountry,
        accept: ['phone'],
      });
      if ('problem' in parsed)
        problems.push({ field: `phones[${index}]`, problem: parsed.problem });
      else phones.add(parsed.value);
    });
    if (problems.length > 0) throw ApiException.invalid(problems);
    return [...phones];
  }
}
