import { Global, HttpStatus, Injectable, Module } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { ApiException } from '../errors/api.exception.js';
import {
  classifyParty,
  type CountryCode,
  isValidCountryCode,
  MAX_PARTY_INPUT_LENGTH,
  type PartyClassification,
  type PartyKind,
  type PartyParseResult,
  resolveParty,
} from './party-address.js';
import { phoneConfig } from './phone.config.js';

/** Inputs remembered; a phone's contacts and a gateway's numbers fit many times over. */
const DEFAULT_CAPACITY = 10_000;

/**
 * The one party-address parser of the app, built once for DEFAULT_COUNTRY.
 * libphonenumber costs tens of microseconds per number (it tries every
 * country sharing +1 for each NANP number), and the same few numbers come
 * back again and again, so recent classifications are remembered. The
 * memory is bounded: past `capacity` inputs the oldest is forgotten, so an
 * attacker sending fresh numbers only makes parsing as slow as without it.
 */
@Injectable()
export class PhoneNumbers {
  private readonly recent = new Map<string, PartyClassification>();

  constructor(
    readonly defaultCountry: CountryCode,
    private readonly capacity = DEFAULT_CAPACITY,
  ) {
    if (!isValidCountryCode(defaultCountry)) {
      throw new RangeError(`PhoneNumbers: unsupported default country ${String(defaultCountry)}`);
    }
  }

  /** The normalised party, or why `input` is not one of the `accept`ed kinds. */
  parse(input: unknown, accept: readonly PartyKind[]): PartyParseResult {
    return resolveParty(this.classify(input), accept);
  }

  /**
   * The normalised value of a party in a path or a field, or a 400 naming
   * `field`. `input` may be what the auth guard already classified.
   */
  require(
    input: string | PartyClassification,
    field: string,
    accept: readonly PartyKind[],
  ): string {
    const parsed = resolveParty(typeof input === 'string' ? this.classify(input) : input, accept);
    if ('problem' in parsed)
      throw ApiException.field(HttpStatus.BAD_REQUEST, field, parsed.problem);
    return parsed.value;
  }

  /**
   * A list of phone numbers (a key's, a gateway's) as E.164, deduplicated, in
   * the given order; a 400 naming each bad entry as `field[index]`.
   */
  requireNumbers(inputs: readonly string[], field: string): string[] {
    const problems: Array<{ field: string; problem: string }> = [];
    const numbers = new Set<string>();
    inputs.forEach((input, index) => {
      const parsed = this.parse(input, ['phone']);
      if ('problem' in parsed)
        problems.push({ field: `${field}[${index}]`, problem: parsed.problem });
      else numbers.add(parsed.value);
    });
    if (problems.length > 0) throw ApiException.invalid(problems);
    return [...numbers];
  }

  /** What `input` is, whatever a field accepts; `resolveParty` applies a field's rule to it. */
  classify(input: unknown): PartyClassification {
    // Longer inputs are refused before any work, and never fill the memory.
    if (typeof input !== 'string' || input.length > MAX_PARTY_INPUT_LENGTH * 2) {
      return classifyParty(input, this.defaultCountry);
    }
    let classification = this.recent.get(input);
    if (classification === undefined) {
      classification = classifyParty(input, this.defaultCountry);
      if (this.recent.size >= this.capacity) {
        // A Map iterates in insertion order: the first key is the oldest.
        this.recent.delete(this.recent.keys().next().value as string);
      }
      this.recent.set(input, classification);
    }
    return classification;
  }
}

/** Provides PhoneNumbers for DEFAULT_COUNTRY to every module. Import it once, in the app module. */
@Global()
@Module({
  providers: [
    {
      provide: PhoneNumbers,
      inject: [phoneConfig.KEY],
      useFactory: (config: ConfigType<typeof phoneConfig>) =>
        new PhoneNumbers(config.defaultCountry),
    },
  ],
  exports: [PhoneNumbers],
})
export class PhoneNumbersModule {}
