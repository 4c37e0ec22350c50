import {
  formatPartyForDisplay,
  isPartyProblem,
  isValidCountryCode,
  MAX_PARTY_INPUT_LENGTH,
  parsePartyAddress,
  type CountryCode,
  type PartyKind,
} from './party-address.js';

const ALL: readonly PartyKind[] = ['phone', 'shortCode', 'senderId'];
const ALL_PROBLEM = 'must be a phone number, short code or alphanumeric sender ID';

const parse = (
  input: string,
  accept: readonly PartyKind[] = ALL,
  defaultCountry: CountryCode = 'US',
) => parsePartyAddress(input, { defaultCountry, accept });

describe('parsePartyAddress', () => {
  describe('phone numbers', () => {
    it.each([
      '+1 (202) 555-0143',
      '12025550143', // national prefix 1 without '+': libphonenumber-js strips it for US
      '202-555-0143',
      '+12025550143',
      '2025550143',
      '1 202 555 0143',
      '(202) 555-0143',
      '202.555.0143',
      '+1-202-555-0143',
      '  +1 202 555 0143\n', // trimmed
    ])('normalises %j to E.164', (input) => {
      expect(parse(input)).toEqual({ kind: 'phone', value: '+12025550143' });
      expect(parse(input, ['phone'])).toEqual({ kind: 'phone', value: '+12025550143' });
    });

    it('reads international numbers regardless of the default country', () => {
      expect(parse('+44 20 7946 0958')).toEqual({ kind: 'phone', value: '+442079460958' });
      expect(parse('+49 30 123456', ALL, 'GB')).toEqual({ kind: 'phone', value: '+4930123456' });
    });

    it('reads national numbers in the default country', () => {
      expect(parse('020 7946 0958', ALL, 'GB')).toEqual({ kind: 'phone', value: '+442079460958' });
      // The same digits are not a possible US number.
      expect(parse('020 7946 0958', ALL, 'US')).toEqual({ problem: ALL_PROBLEM });
    });

    it("understands the default country's international dialling prefix", () => {
      expect(parse('011 44 20 7946 0958')).toEqual({ kind: 'phone', value: '+442079460958' });
    });

    it('accepts a possible but unassigned number', () => {
      // Right length for +1, but no such area code: possible, not valid.
      expect(parse('+1 123 456 7890')).toEqual({ kind: 'phone', value: '+11234567890' });
    });

    it.each([
      ['too short', '+1 555 0143'],
      ['too long', '+1 202 555 01430'],
      ['unknown country calling code', '+999 123 456'],
      ['US local number without area code', '555-0143'],
    ])('rejects a number that is not possible (%s)', (_why, input) => {
      expect(parse(input, ['phone'])).toEqual({ problem: 'must be a phone number' });
    });

    it.each([
      ['letters (vanity number)', '1-800-FLOWERS'],
      ['an extension', '+1 202 555 0143 ext 12'],
      ['an RFC 3966 extension', '+1-202-555-0143;ext=12'],
      ['a hash', '+1 202 555 0143#'],
      ['a plus that is not in front', '1+2025550143'],
      ['two pluses', '++12025550143'],
      ['a slash', '202/555/0143'],
      ['a tel: URI', 'tel:+12025550143'],
      ['full-width digits', '＋１２０２５５５０１４３'],
      ['Arabic-Indic digits', '٢٠٢٥٥٥٠١٤٣'],
      ['a non-breaking space inside', '202\u00a0555\u00a00143'],
    ])('rejects a phone-looking string with %s', (_why, input) => {
      expect(parse(input)).toEqual({ problem: ALL_PROBLEM });
    });

    it('always produces strict E.164', () => {
      for (const input of ['+1 (202) 555-0143', '+44 20 7946 0958', '+800 1234 5678']) {
        const result = parse(input);
        expect(result).toMatchObject({
          kind: 'phone',
          value: expect.stringMatching(/^\+[1-9]\d{1,14}$/),
        });
      }
    });
  });

  describe('short codes', () => {
    it.each(['911', '72345', '123456', '1234567', '12345678', '00123'])(
      'accepts %j as given',
      (input) => {
        expect(parse(input)).toEqual({ kind: 'shortCode', value: input });
        expect(parse(` ${input} `, ['shortCode'])).toEqual({ kind: 'shortCode', value: input });
      },
    );

    it.each(['12', '123456789', '723 45', '723-45', '+72345'])('rejects %j', (input) => {
      expect(parse(input, ['shortCode'])).toEqual({ problem: 'must be a short code' });
    });

    it('treats digits that are a possible phone number as a phone when phones are accepted', () => {
      // 8 digits are a possible German number.
      expect(parse('12345678', ALL, 'DE')).toEqual({ kind: 'phone', value: '+4912345678' });
      expect(parse('12345678', ['shortCode'], 'DE')).toEqual({
        kind: 'shortCode',
        value: '12345678',
      });
    });
  });

  describe('alphanumeric sender IDs', () => {
    it.each([
      ['AcmeBank', 'ACMEBANK'],
      ['ab', 'AB'],
      ['ABCDEFGHIJK', 'ABCDEFGHIJK'], // 11, the maximum
      ['1A', '1A'],
      ['Shop24', 'SHOP24'],
      ['1800FLOWERS', '1800FLOWERS'],
      ['  uber  ', 'UBER'],
    ])('accepts %j as %j', (input, value) => {
      expect(parse(input)).toEqual({ kind: 'senderId', value });
      expect(parse(input, ['senderId'])).toEqual({ kind: 'senderId', value });
    });

    it.each([
      ['one character', 'A'],
      ['12 characters', 'ABCDEFGHIJKL'],
      ['a space', 'ACME BANK'],
      ['a dash', 'ACME-BANK'],
      ['an underscore', 'ACME_BANK'],
      ['a dot', 'acme.com'],
      ['a non-ASCII letter', 'Ünicode'],
      ['a Cyrillic look-alike', 'АСМЕ'], // U+0410 etc.
      ['no letter (9 digits)', '123456789'],
    ])('rejects %s', (_why, input) => {
      expect(parse(input, ['senderId'])).toEqual({ problem: 'must be an alphanumeric sender ID' });
    });
  });

  describe('accepted kinds', () => {
    it('rejects a valid party of a kind the field does not accept, saying what it accepts', () => {
      expect(parse('+12025550143', ['shortCode', 'senderId'])).toEqual({
        problem: 'must be a short code or alphanumeric sender ID',
      });
      expect(parse('ACMEBANK', ['phone'])).toEqual({ problem: 'must be a phone number' });
      expect(parse('72345', ['phone'])).toEqual({ problem: 'must be a phone number' });
      expect(parse('72345', ['senderId'])).toEqual({
        problem: 'must be an alphanumeric sender ID',
      });
      expect(parse('ACMEBANK', ['phone', 'shortCode'])).toEqual({
        problem: 'must be a phone number or short code',
      });
    });

    it('lists the kinds in a fixed order, once each', () => {
      expect(parse('?', ['senderId', 'phone'])).toEqual({
        problem: 'must be a phone number or alphanumeric sender ID',
      });
      expect(parse('?', ['senderId', 'shortCode', 'phone', 'phone'])).toEqual({
        problem: ALL_PROBLEM,
      });
    });

    it('throws for a programming error: no accepted kinds', () => {
      expect(() => parse('+12025550143', [])).toThrow(RangeError);
    });

    it('throws for a programming error: unsupported default country', () => {
      expect(() => parse('202-555-0143', ALL, 'XX' as CountryCode)).toThrow(/default country/);
    });
  });

  describe('input hygiene', () => {
    it.each(['', '   ', '\t\n'])('rejects empty input %j', (input) => {
      expect(parse(input)).toEqual({ problem: 'must not be empty' });
    });

    it(`accepts up to ${MAX_PARTY_INPUT_LENGTH} characters after trimming`, () => {
      const padded = (length: number) => `+1${' '.repeat(length - 12)}2025550143`;
      expect(padded(32)).toHaveLength(32);
      expect(parse(`  ${padded(32)}  `)).toEqual({ kind: 'phone', value: '+12025550143' });
      expect(parse(padded(33))).toEqual({ problem: 'must be at most 32 characters long' });
    });

    it('rejects very long input without parsing it', () => {
      expect(parse('1'.repeat(5000))).toEqual({ problem: 'must be at most 32 characters long' });
      expect(parse('A'.repeat(5000))).toEqual({ problem: 'must be at most 32 characters long' });
    });

    it.each([
      ['NUL', 'ACME\u0000'],
      ['NUL inside a number', '+1202\u00005550143'],
      ['a line break inside', '202\n555 0143'],
      ['DEL', 'ACME\u007f'],
      ['a C1 control', 'ACME\u0085BANK'],
      ['a right-to-left override', '\u202eACMEBANK'],
      ['a zero-width space', 'ACME\u200bBANK'],
    ])('rejects %s', (_why, input) => {
      expect(parse(input)).toEqual({ problem: 'must not contain control characters' });
    });

    it.each([
      "'; DROP TABLE messages;--",
      '../../etc/passwd',
      '<script>alert(1)</script>',
      '+',
      '0',
      '+0',
      '123456789012345678',
      '()',
      '-',
      '. . .',
    ])('rejects garbage %j', (input) => {
      expect(parse(input)).toEqual({ problem: ALL_PROBLEM });
    });

    it("treats 'abc' as a sender ID only where sender IDs are accepted", () => {
      // Three letters satisfy the sender ID rule (2–11 letters/digits, at least one letter).
      expect(parse('abc')).toEqual({ kind: 'senderId', value: 'ABC' });
      expect(parse('abc', ['phone'])).toEqual({ problem: 'must be a phone number' });
      expect(parse('abc', ['phone', 'shortCode'])).toEqual({
        problem: 'must be a phone number or short code',
      });
    });
  });

  it('returns results that isPartyProblem tells apart', () => {
    const ok = parse('+12025550143');
    const bad = parse('nope!');
    expect(isPartyProblem(ok)).toBe(false);
    expect(isPartyProblem(bad)).toBe(true);
    if (!isPartyProblem(ok)) expect(ok.value).toBe('+12025550143');
  });
});

describe('isValidCountryCode', () => {
  it.each(['US', 'GB', 'DE', 'FR', 'IN', 'BR'])('accepts %s', (code) => {
    expect(isValidCountryCode(code)).toBe(true);
  });

  it.each(['us', 'XX', '', 'USA', ' US', '001', '__proto__', 'constructor'])(
    'rejects %j',
    (code) => {
      expect(isValidCountryCode(code)).toBe(false);
    },
  );

  it('narrows to CountryCode', () => {
    const code: string = 'GB';
    if (!isValidCountryCode(code)) throw new Error('GB should be supported');
    expect(parsePartyAddress('020 7946 0958', { defaultCountry: code, accept: ['phone'] })).toEqual(
      { kind: 'phone', value: '+442079460958' },
    );
  });
});

describe('formatPartyForDisplay', () => {
  it.each([
    ['+12025550143', '+1 202 555 0143'],
    ['+442079460958', '+44 20 7946 0958'],
    ['+4930123456', '+49 30 123456'],
  ])('formats %s as %s', (value, display) => {
    expect(formatPartyForDisplay(value)).toBe(display);
  });

  it.each(['ACMEBANK', '72345', '911', '', '+', '+999', 'not a number', '+1 202 555 0143'])(
    'leaves %j unchanged',
    (value) => {
      expect(formatPartyForDisplay(value)).toBe(value);
    },
  );

  it('round-trips: the display form parses back to the stored value', () => {
    for (const input of ['+12025550143', '+442079460958', '+11234567890', '+80012345678']) {
      const stored = parse(input);
      if (isPartyProblem(stored)) throw new Error(`${input}: ${stored.problem}`);
      expect(parse(formatPartyForDisplay(stored.value))).toEqual(stored);
    }
  });
});
