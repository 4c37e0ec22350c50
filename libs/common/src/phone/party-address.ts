// The package root uses the default ('min') metadata, which is enough: we only need isPossible(),
// which checks the number's length against the country's possible lengths, and those are in 'min'.
// The 'max' metadata (several hundred kB more) would only matter for isValid() or number types.
import {
  isSupportedCountry,
  parsePhoneNumberFromString,
  type CountryCode,
} from 'libphonenumber-js';

export type { CountryCode };

/** What an SMS party can be: someone's phone number, a short code, or an alphanumeric sender. */
export type PartyKind = 'phone' | 'shortCode' | 'senderId';

/**
 * A normalised SMS party.
 * - `phone`: E.164, e.g. `+12025550143`
 * - `shortCode`: 3–8 ASCII digits, as given, e.g. `72345`
 * - `senderId`: 2–11 ASCII letters/digits with at least one letter, upper-cased, e.g. `ACMEBANK`
 */
export interface PartyAddress {
  readonly kind: PartyKind;
  readonly value: string;
}

/**
 * Why an input was rejected, as the predicate of a sentence ('must be a phone number'), so a
 * caller can prefix the field name the way class-validator messages read.
 */
export type PartyProblem = string;

/** The failure branch of {@link parsePartyAddress}. */
export interface PartyParseFailure {
  readonly problem: PartyProblem;
}

export type PartyParseResult = PartyAddress | PartyParseFailure;

export interface ParsePartyOptions {
  /** Country used for numbers written without a leading `+` (national format). */
  readonly defaultCountry: CountryCode;
  /** Which kinds the field accepts; must not be empty. */
  readonly accept: readonly PartyKind[];
}

/** Longest input we look at; a formatted international number fits easily. */
export const MAX_PARTY_INPUT_LENGTH = 32;

// Cc: C0 controls incl. NUL, DEL, C1 controls. Cf: invisible format characters such as zero-width
// spaces and bidi overrides (U+202E), which can make an address display as something it is not.
// None of them belongs in any kind of address, and they deserve a clearer message than
// "must be a phone number".
const CONTROL_CHARACTERS = /[\p{Cc}\p{Cf}]/u;

// Digits plus the usual formatting characters, with `+` only in front. Anything else (letters as in
// 1-800-FLOWERS, `ext.`, `#`, `;`, Unicode digits) makes it "not a phone number" before
// libphonenumber-js gets to see it, because the library is lenient: it reads 1-800-FLOWERS as
// +11800, and splits off '… ext 12' as an extension, which an E.164 value cannot carry.
const PHONE_LIKE = /^\+?[0-9 ().-]*[0-9][0-9 ().-]*$/;
const SHORT_CODE = /^[0-9]{3,8}$/;
const SENDER_ID = /^(?=[0-9]*[A-Za-z])[A-Za-z0-9]{2,11}$/;

// Fixed order, so the message reads the same whatever order the caller listed the kinds in.
const KIND_ORDER: readonly PartyKind[] = ['phone', 'shortCode', 'senderId'];
const KIND_DESCRIPTIONS: Record<PartyKind, string> = {
  phone: 'a phone number',
  shortCode: 'a short code',
  senderId: 'an alphanumeric sender ID',
};

/** True if `code` is an ISO 3166-1 alpha-2 code libphonenumber-js has metadata for (e.g. 'US'). */
export function isValidCountryCode(code: string): code is CountryCode {
  return typeof code === 'string' && isSupportedCountry(code);
}

/** Type guard for the failure branch of {@link parsePartyAddress}. */
export function isPartyProblem(result: PartyParseResult): result is PartyParseFailure {
  return 'problem' in result;
}

/**
 * Parses what a user or a phone typed as an SMS party into its normalised form, or says why it is
 * not acceptable.
 *
 * Classification, after trimming:
 * 1. If 'phone' is accepted and the input looks like a phone number that libphonenumber-js considers
 *    possible (right length for its country; not necessarily assigned) → `phone`, E.164. National
 *    numbers are read in `defaultCountry`; with 'US', `12025550143` is +1 202 555 0143 because
 *    libphonenumber-js strips the national prefix 1.
 * 2. 3–8 ASCII digits → `shortCode`. Because step 1 runs first, a digit string that is a possible
 *    phone number (e.g. an 8-digit German number) is a phone when phones are accepted.
 * 3. 2–11 ASCII letters/digits with at least one letter → `senderId`, upper-cased.
 * 4. A possible phone number in a field that does not accept phones is still recognised as one,
 *    so the message can say what the field wants instead.
 *
 * Throws (programmer errors, not input errors) if `accept` is empty or `defaultCountry` is not a
 * supported country: the latter would otherwise make every national number silently invalid.
 */
export function parsePartyAddress(input: string, options: ParsePartyOptions): PartyParseResult {
  if (options.accept.length === 0) {
    throw new RangeError('parsePartyAddress: options.accept must list at least one kind');
  }
  if (!isValidCountryCode(options.defaultCountry)) {
    throw new RangeError(
      `parsePartyAddress: unsupported default country ${JSON.stringify(options.defaultCountry)}`,
    );
  }
  return resolveParty(classifyParty(input, options.defaultCountry), options.accept);
}

/**
 * What an input is, whatever a field accepts: the accept-independent half of
 * {@link parsePartyAddress}, and the expensive one (libphonenumber), so it is
 * the half worth remembering (see PhoneNumbers).
 */
export type PartyClassification =
  | PartyParseFailure
  | {
      /** E.164 when the text is a possible phone number. */
      readonly phone: string | undefined;
      /** What else the text could be, with its normalised value. */
      readonly other:
        { readonly kind: 'shortCode' | 'senderId'; readonly value: string } | undefined;
    };

/** Classifies a raw input; see {@link parsePartyAddress} for the rules. */
export function classifyParty(input: unknown, defaultCountry: CountryCode): PartyClassification {
  if (typeof input !== 'string') return NOT_A_STRING;
  const text = input.trim();
  if (text === '') return { problem: 'must not be empty' };
  // Checked before anything else looks at the text, so huge inputs cost nothing more.
  if (text.length > MAX_PARTY_INPUT_LENGTH) {
    return { problem: `must be at most ${MAX_PARTY_INPUT_LENGTH} characters long` };
  }
  if (CONTROL_CHARACTERS.test(text)) return { problem: 'must not contain control characters' };
  const phone = PHONE_LIKE.test(text) ? toE164(text, defaultCountry) : undefined;
  const other = SHORT_CODE.test(text)
    ? ({ kind: 'shortCode', value: text } as const)
    : SENDER_ID.test(text)
      ? ({ kind: 'senderId', value: text.toUpperCase() } as const)
      : undefined;
  return { phone, other };
}

/** Applies what a field accepts to a classification. */
export function resolveParty(
  classification: PartyClassification,
  accept: readonly PartyKind[],
): PartyParseResult {
  if ('problem' in classification) {
    return classification === NOT_A_STRING ? { problem: mustBe(accept) } : classification;
  }
  const { phone, other } = classification;
  if (phone !== undefined && accept.includes('phone')) return { kind: 'phone', value: phone };
  if (other !== undefined && accept.includes(other.kind)) return other;
  return { problem: mustBe(accept) };
}

/** Stands for "not a string", whose message depends on what the field accepts. */
const NOT_A_STRING: PartyParseFailure = Object.freeze({ problem: 'must be a string' });

/**
 * How to show a stored party to a person: E.164 numbers in international format
 * ('+12025550143' → '+1 202 555 0143'); short codes, sender IDs and anything unparseable unchanged.
 */
export function formatPartyForDisplay(value: string): string {
  if (!/^\+[1-9][0-9]{1,14}$/.test(value)) return value;
  return parsePhoneNumberFromString(value)?.formatInternational() ?? value;
}

/** E.164 form of a possible phone number, or undefined. */
function toE164(text: string, defaultCountry: CountryCode): string | undefined {
  // parsePhoneNumberFromString returns undefined rather than throwing for unparseable input.
  const parsed = parsePhoneNumberFromString(text, defaultCountry);
  // PHONE_LIKE already excludes extensions, but an E.164 value cannot carry one, so make sure.
  if (parsed === undefined || parsed.ext !== undefined || !parsed.isPossible()) return undefined;
  return parsed.number;
}

/** 'must be a phone number' / 'must be a phone number, short code or alphanumeric sender ID'. */
function mustBe(accept: readonly PartyKind[]): PartyProblem {
  const descriptions = KIND_ORDER.filter((kind) => accept.includes(kind)).map((kind, index) =>
    // Only the first item keeps its article: "a phone number, short code or …".
    index === 0 ? KIND_DESCRIPTIONS[kind] : KIND_DESCRIPTIONS[kind].replace(/^an? /, ''),
  );
  const list =
    descriptions.length === 1
      ? descriptions[0]
      : `${descriptions.slice(0, -1).join(', ')} or ${descriptions[descriptions.length - 1]}`;
  return `must be ${list}`;
}
