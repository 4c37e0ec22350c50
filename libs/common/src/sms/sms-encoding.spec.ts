import {
  analyzeSms,
  GSM7_BASIC_CHARSET,
  GSM7_EXTENSION_CHARSET,
  type SmsEncodingInfo,
} from './sms-encoding.js';

const a = (n: number) => 'a'.repeat(n);
const zhe = (n: number) => 'ж'.repeat(n); // U+0436 CYRILLIC SMALL LETTER ZHE, not in GSM-7
const gsm = (units: number, segments: number, perSegment = segments > 1 ? 153 : 160) =>
  ({ encoding: 'GSM-7', units, segments, perSegment }) satisfies SmsEncodingInfo;
const ucs2 = (units: number, segments: number, perSegment = segments > 1 ? 67 : 70) =>
  ({ encoding: 'UCS-2', units, segments, perSegment }) satisfies SmsEncodingInfo;

describe('GSM 03.38 tables', () => {
  it('has the 3GPP TS 23.038 basic character set at the right septet values', () => {
    // Independent statement of the table: ASCII identity, then every position where the
    // default alphabet differs from ASCII, written as Unicode code points.
    const expected = Array.from({ length: 128 }, (_, i) => i);
    const differences: Record<number, number> = {
      0x00: 0x40, // @
      0x01: 0xa3, // £
      0x02: 0x24, // $
      0x03: 0xa5, // ¥
      0x04: 0xe8, // è
      0x05: 0xe9, // é
      0x06: 0xf9, // ù
      0x07: 0xec, // ì
      0x08: 0xf2, // ò
      0x09: 0xc7, // Ç (capital)
      0x0b: 0xd8, // Ø
      0x0c: 0xf8, // ø
      0x0e: 0xc5, // Å
      0x0f: 0xe5, // å
      0x10: 0x394, // Δ GREEK CAPITAL LETTER DELTA
      0x11: 0x5f, // _
      0x12: 0x3a6, // Φ
      0x13: 0x393, // Γ
      0x14: 0x39b, // Λ
      0x15: 0x3a9, // Ω GREEK CAPITAL LETTER OMEGA (not U+2126 OHM SIGN)
      0x16: 0x3a0, // Π
      0x17: 0x3a8, // Ψ
      0x18: 0x3a3, // Σ
      0x19: 0x398, // Θ
      0x1a: 0x39e, // Ξ
      0x1c: 0xc6, // Æ
      0x1d: 0xe6, // æ
      0x1e: 0xdf, // ß
      0x1f: 0xc9, // É
      0x24: 0xa4, // ¤
      0x40: 0xa1, // ¡
      0x5b: 0xc4, // Ä
      0x5c: 0xd6, // Ö
      0x5d: 0xd1, // Ñ
      0x5e: 0xdc, // Ü
      0x5f: 0xa7, // §
      0x60: 0xbf, // ¿
      0x7b: 0xe4, // ä
      0x7c: 0xf6, // ö
      0x7d: 0xf1, // ñ
      0x7e: 0xfc, // ü
      0x7f: 0xe0, // à
    };
    for (const [septet, codePoint] of Object.entries(differences)) {
      expected[Number(septet)] = codePoint;
    }

    expect(GSM7_BASIC_CHARSET).toHaveLength(128);
    expect([...GSM7_BASIC_CHARSET].map((char) => char.codePointAt(0))).toEqual(expected);
    // Positions that stay as in ASCII include the controls LF (0x0A), CR (0x0D), ESC (0x1B).
    expect(GSM7_BASIC_CHARSET[0x0a]).toBe('\n');
    expect(GSM7_BASIC_CHARSET[0x0d]).toBe('\r');
    expect(GSM7_BASIC_CHARSET[0x1b]).toBe('\u001b');
  });

  it('has the extension table characters', () => {
    expect([...GSM7_EXTENSION_CHARSET].sort()).toEqual(
      ['\f', '^', '{', '}', '\\', '[', '~', ']', '|', '€'].sort(),
    );
  });

  it('counts every basic character (except ESC) as 1 septet', () => {
    const usable = GSM7_BASIC_CHARSET.replace('\u001b', '');
    expect(usable).toHaveLength(127);
    for (const char of usable) expect(analyzeSms(char)).toEqual(gsm(1, 1));
    expect(analyzeSms(usable)).toEqual(gsm(127, 1));
  });

  it('counts every extension character as 2 septets', () => {
    for (const char of GSM7_EXTENSION_CHARSET) expect(analyzeSms(char)).toEqual(gsm(2, 1));
    expect(analyzeSms(GSM7_EXTENSION_CHARSET)).toEqual(gsm(20, 1));
  });
});

describe('analyzeSms', () => {
  it('reports the empty string as GSM-7 with 0 units and 0 segments', () => {
    expect(analyzeSms('')).toEqual(gsm(0, 0, 160));
  });

  it('handles a plain message', () => {
    expect(analyzeSms('Hello, world! Meet @ 5pm?')).toEqual(gsm(25, 1));
  });

  describe('GSM-7 segment boundaries', () => {
    it.each([
      [1, 1, 160],
      [160, 1, 160],
      [161, 2, 153],
      [306, 2, 153],
      [307, 3, 153],
      [459, 3, 153],
      [460, 4, 153],
    ])('%i septets → %i segment(s) of %i', (length, segments, perSegment) => {
      expect(analyzeSms(a(length))).toEqual(gsm(length, segments, perSegment));
    });

    it('handles the longest message the service stores (1600 characters)', () => {
      // 10 × 153 = 1530 < 1600 ≤ 11 × 153.
      expect(analyzeSms(a(1600))).toEqual(gsm(1600, 11));
      // 76 € (152 septets) per part, never 76½: 22 parts, where ceil(3200 / 153) would say 21.
      expect(analyzeSms('€'.repeat(1600))).toEqual(gsm(3200, 22));
    });
  });

  describe('GSM-7 character repertoire', () => {
    it.each(['é', 'è', 'Ç', 'ñ', 'ß', 'Δ', 'Ω', '¤', '§', '¿', '¡', '@', '$', '£', '¥', '_'])(
      '%s is GSM-7',
      (char) => {
        expect(analyzeSms(char)).toEqual(gsm(1, 1));
      },
    );

    it.each([
      ['ç (lower-case c cedilla; only Ç is in the table)', 'ç'],
      ['backtick', '`'],
      ['tab', '\t'],
      ['ESC itself', '\u001b'],
      ['NUL', '\u0000'],
      ['OHM SIGN (looks like Ω)', '\u2126'],
      ['á', 'á'],
      ['ê', 'ê'],
      ['curly apostrophe', '\u2019'],
      ['non-breaking space', '\u00a0'],
    ])('%s forces UCS-2', (_name, char) => {
      expect(analyzeSms(char).encoding).toBe('UCS-2');
    });

    it('switches the whole message to UCS-2 for a single non-GSM character', () => {
      expect(analyzeSms(`${a(100)}ç`)).toEqual(ucs2(101, 2));
      expect(analyzeSms(`ç${a(69)}`)).toEqual(ucs2(70, 1));
    });

    it('does not normalise: a decomposed é (e + U+0301) is UCS-2', () => {
      expect(analyzeSms('e\u0301')).toEqual(ucs2(2, 1));
      expect(analyzeSms('\u00e9')).toEqual(gsm(1, 1));
    });

    it('counts CR and LF as one septet each', () => {
      expect(analyzeSms('a\r\nb\nc')).toEqual(gsm(6, 1));
    });
  });

  describe('extension characters', () => {
    it('counts € as 2 septets', () => {
      expect(analyzeSms('€')).toEqual(gsm(2, 1));
      expect(analyzeSms('Price: 5€')).toEqual(gsm(10, 1));
    });

    it('fits 80 € (160 septets) in one segment, 81 in two', () => {
      expect(analyzeSms('€'.repeat(80))).toEqual(gsm(160, 1));
      expect(analyzeSms('€'.repeat(81))).toEqual(gsm(162, 2));
    });

    it('counts single-part messages by septets, not characters', () => {
      expect(analyzeSms(`${a(152)}€`)).toEqual(gsm(154, 1));
      expect(analyzeSms(`${a(158)}€`)).toEqual(gsm(160, 1));
      expect(analyzeSms(`${a(159)}€`)).toEqual(gsm(161, 2));
      expect(analyzeSms(`${a(150)}{}[]`)).toEqual(gsm(158, 1));
    });

    it('moves an escape pair that would straddle a part boundary to the next part', () => {
      // Part 1 holds 152 'a'; the € (ESC + 0x65) would occupy septets 153–154, so it starts part 2.
      expect(analyzeSms(`${a(152)}€${a(10)}`)).toEqual(gsm(164, 2));
      // 306 septets would fit in 2 × 153 if the pair could be split; it cannot, so 3 parts.
      expect(analyzeSms(`${a(152)}€${a(152)}`)).toEqual(gsm(306, 3));
      // With the € on septets 152–153 it fits exactly, and 2 parts are enough.
      expect(analyzeSms(`${a(151)}€${a(153)}`)).toEqual(gsm(306, 2));
    });
  });

  describe('UCS-2', () => {
    it.each([
      [1, 1, 70],
      [70, 1, 70],
      [71, 2, 67],
      [134, 2, 67],
      [135, 3, 67],
    ])('%i code units → %i segment(s) of %i', (length, segments, perSegment) => {
      expect(analyzeSms(zhe(length))).toEqual(ucs2(length, segments, perSegment));
    });

    it('handles the longest message the service stores (1600 characters)', () => {
      // 23 × 67 = 1541 < 1600 ≤ 24 × 67.
      expect(analyzeSms(zhe(1600))).toEqual(ucs2(1600, 24));
    });

    it('counts an emoji outside the BMP as 2 code units', () => {
      expect(analyzeSms('😀')).toEqual(ucs2(2, 1));
      expect(analyzeSms('😀'.repeat(35))).toEqual(ucs2(70, 1));
      expect(analyzeSms('😀'.repeat(36))).toEqual(ucs2(72, 2));
    });

    it('counts each code point of a ZWJ sequence', () => {
      // 👨‍👩‍👧 = 3 emoji (2 units each) joined by 2 ZERO WIDTH JOINERs (1 unit each).
      expect(analyzeSms('👨\u200d👩\u200d👧')).toEqual(ucs2(8, 1));
    });

    it('does not split a surrogate pair across parts', () => {
      expect(analyzeSms(`${zhe(68)}😀`)).toEqual(ucs2(70, 1));
      // 69 + 2 = 71 units: multipart; part 1 takes 67 'ж', part 2 the rest.
      expect(analyzeSms(`${zhe(69)}😀`)).toEqual(ucs2(71, 2));
      // The emoji would occupy units 67–68 of part 1, so it starts part 2, which then overflows.
      expect(analyzeSms(`${zhe(66)}😀${zhe(66)}`)).toEqual(ucs2(134, 3));
      // On units 66–67 it fits exactly, and 2 parts are enough.
      expect(analyzeSms(`${zhe(65)}😀${zhe(67)}`)).toEqual(ucs2(134, 2));
    });

    it('counts a lone surrogate as the 1 code unit it occupies', () => {
      expect(analyzeSms('\ud83d')).toEqual(ucs2(1, 1));
      expect(analyzeSms(`${zhe(70)}\ude00`)).toEqual(ucs2(71, 2));
    });

    it('counts extension characters as 1 unit once the message is UCS-2', () => {
      expect(analyzeSms('€ж')).toEqual(ucs2(2, 1));
      expect(analyzeSms(`${'€'.repeat(69)}ж`)).toEqual(ucs2(70, 1));
    });
  });
});
