/**
 * Which data coding an SMS needs and how many segments (separately billed parts) it takes.
 *
 * Only the GSM 7-bit default alphabet and UCS-2 are considered. National language shift tables
 * (3GPP TS 23.038 §6.2.1.2, e.g. Turkish or Portuguese) are left out: support for them depends on
 * the carrier and handset, so the worst case (UCS-2) is what a sender can rely on.
 *
 * The text is analysed exactly as given, without Unicode normalisation: an 'é' written as 'e' plus
 * U+0301 COMBINING ACUTE ACCENT is not in the GSM alphabet and makes the message UCS-2, which is
 * what happens when the handset sends it as is.
 */

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SmsEncodingInfo {
  encoding: SmsEncoding;
  /** Number of SMS parts; 0 for the empty string (nothing would be sent). */
  segments: number;
  /** Septets for GSM-7 (extension characters count 2), UTF-16 code units for UCS-2. */
  units: number;
  /** Capacity of each part for this message: 160/153 (GSM-7) or 70/67 (UCS-2). */
  perSegment: number;
}

const ESC = '\u001b';

/**
 * GSM 7-bit default alphabet, basic character set: 3GPP TS 23.038 §6.2.1, "GSM 7 bit Default
 * Alphabet" table. The character at index i has septet value i; each row below is 16 values.
 * 0x1B is the escape to the extension table, not a character of its own, so it is excluded when
 * building the lookup. 0x09 is 'Ç' (capital C cedilla) per the spec; lower-case 'ç' is not in the
 * alphabet (some old handsets showed 0x09 as 'ç', which is why the spec notes it).
 */
export const GSM7_BASIC_CHARSET = [
  '@£$¥èéùìòÇ\nØø\rÅå', // 0x00–0x0F (0x0A LF, 0x0D CR)
  'Δ_ΦΓΛΩΠΨΣΘΞ' + ESC + 'ÆæßÉ', // 0x10–0x1F (Greek capitals U+0394…; 0x1B escape)
  ' !"#¤%&\'()*+,-./', // 0x20–0x2F (0x24 is the currency sign ¤, not $)
  '0123456789:;<=>?', // 0x30–0x3F
  '¡ABCDEFGHIJKLMNO', // 0x40–0x4F
  'PQRSTUVWXYZÄÖÑÜ§', // 0x50–0x5F
  '¿abcdefghijklmno', // 0x60–0x6F
  'pqrstuvwxyzäöñüà', // 0x70–0x7F
].join('');

/**
 * GSM 7-bit default alphabet extension table: 3GPP TS 23.038 §6.2.1.1. Each is sent as ESC (0x1B)
 * followed by its code, so it costs 2 septets. Codes: 0x0A form feed, 0x14 ^, 0x28 {, 0x29 },
 * 0x2F \, 0x3C [, 0x3D ~, 0x3E ], 0x40 |, 0x65 €. (0x0D and 0x1B are reserved, not characters.)
 */
export const GSM7_EXTENSION_CHARSET = '\f^{}\\[~]|€';

/** Septets per character of the default alphabet; anything missing forces UCS-2. */
const GSM7_SEPTETS: ReadonlyMap<string, number> = new Map([
  ...[...GSM7_BASIC_CHARSET].filter((char) => char !== ESC).map((char) => [char, 1] as const),
  ...[...GSM7_EXTENSION_CHARSET].map((char) => [char, 2] as const),
]);

// A single SMS carries 140 octets: 160 septets or 70 UCS-2 code units. A concatenated one spends
// 6 octets on the user data header (8-bit reference), leaving 153 septets (134 octets minus the
// fill bit) or 67 code units per part.
const GSM7_SINGLE = 160;
const GSM7_MULTI = 153;
const UCS2_SINGLE = 70;
const UCS2_MULTI = 67;

/**
 * Encoding, size and segment count of `text` as an SMS.
 *
 * Segments are counted by walking the text and starting a new one when the next character does
 * not fit, rather than ceil(units / perSegment): an extension character's ESC + code pair and a
 * UTF-16 surrogate pair (e.g. an emoji) must stay within one part, so a part may end a unit short.
 */
export function analyzeSms(text: string): SmsEncodingInfo {
  // Cost of each code point, in septets while everything is GSM-7. Iterating by code point keeps
  // surrogate pairs together.
  const costs: number[] = [];
  let encoding: SmsEncoding = 'GSM-7';
  for (const char of text) {
    const septets = GSM7_SEPTETS.get(char);
    if (septets === undefined) {
      encoding = 'UCS-2';
      break;
    }
    costs.push(septets);
  }

  if (encoding === 'GSM-7') return layout('GSM-7', costs, GSM7_SINGLE, GSM7_MULTI);
  // UCS-2 (in practice UTF-16, which is what handsets send): a code point costs its code units,
  // 2 for anything outside the BMP; a lone surrogate counts as the 1 unit it occupies.
  return layout(
    'UCS-2',
    Array.from(text, (char) => char.length),
    UCS2_SINGLE,
    UCS2_MULTI,
  );
}

function layout(
  encoding: SmsEncoding,
  costs: readonly number[],
  single: number,
  multi: number,
): SmsEncodingInfo {
  const units = costs.reduce((sum, cost) => sum + cost, 0);
  // The service never stores an empty message; call it 0 segments since nothing would be sent.
  if (units === 0) return { encoding, segments: 0, units, perSegment: single };
  if (units <= single) return { encoding, segments: 1, units, perSegment: single };

  let segments = 1;
  let used = 0;
  for (const cost of costs) {
    if (used + cost > multi) {
      segments += 1;
      used = 0;
    }
    used += cost;
  }
  return { encoding, segments, units, perSegment: multi };
}
