import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, type Repository } from 'typeorm';
import { ApiException, type MaybePromise, PhoneNumbers } from '@app/common';
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
/** Keys remembered at once; past it the oldest entry goes (it is read again when used). */
const KEY_CACHE_CAPACITY = 10_000;

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
  /**
   * By the presented secret, so a cached key costs no hashing. Only keys that
   * exist are cached, so guesses cannot grow it; a lookup hashes the string,
   * so its timing says nothing about how close a guess came.
   */
  private readonly cache = new Map<string, CachedLookup>();

  constructor(
    @InjectRepository(ApiKey) private readonly keys: Repository<ApiKey>,
    private readonly phones: PhoneNumbers,
  ) {}

  /** Issues a key; the answer is the only place its secret ever appears. */
  async create(input: NewApiKey): Promise<CreatedApiKeyDto> {
    const phones = this.phones.requireNumbers(input.phones, 'phones');
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
    for (const [secret, entry] of this.cache) {
      if (entry.principal?.keyId === id) this.cache.delete(secret);
    }
    if (affected) this.logger.log(`API key ${id} revoked`);
  }

  /**
   * The principal of an active issued key, or undefined for anything else;
   * at once when this instance read the key within KEY_CACHE_TTL_MS.
   */
  findPrincipal(secret: string): MaybePromise<Principal | undefined> {
    if (!looksLikeIssuedKey(secret)) return undefined;
    const cached = this.cache.get(secret);
    if (cached && cached.expiresAt > Date.now()) return cached.principal;
    return this.readPrincipal(secret);
  }

  private async readPrincipal(secret: string): Promise<Principal | undefined> {
    const digest = hashApiKey(secret);
    const key = await this.keys
      .createQueryBuilder('key')
      .where('key.key_hash = :digest', { digest })
      .getOne();
    // The index found the row by its digest; comparing again in constant time
    // keeps every comparison of secret material out of short-circuiting code.
    if (!key || !sameDigest(key.keyHash, digest)) {
      this.cache.delete(secret);
      return undefined;
    }
    const principal: Principal | undefined = key.revokedAt
      ? undefined
      : { keyId: key.id, isAdmin: false, phones: new Set(key.phones) };
    this.cache.delete(secret);
    if (this.cache.size >= KEY_CACHE_CAPACITY) {
      // A Map iterates in insertion order: the first key is the oldest.
      this.cache.delete(this.cache.keys().next().value as string);
    }
    this.cache.set(secret, { principal, expiresAt: Date.now() + KEY_CACHE_TTL_MS });
    return principal;
  }
}
