import { ApiException } from '../errors/api.exception.js';
import { parsePartyAddress, type PartyKind } from './party-address.js';
import { PhoneNumbers } from './phone-numbers.js';

const ANY: PartyKind[] = ['phone', 'shortCode', 'senderId'];

describe('PhoneNumbers', () => {
  it('answers as parsePartyAddress does, for every kind of input and field', () => {
    const phones = new PhoneNumbers('US');
    const inputs = [
      '+12025550143',
      '(202) 555-0143',
      '2025550143',
      '12345',
      'ACMEBANK',
      'acme',
      '',
      '   ',
      'not a number!',
      '+1 202 555 0143 ext 12',
      '\u202e12025550143',
      'x'.repeat(40),
      `   +12025550143${' '.repeat(40)}`,
    ];
    const accepts: PartyKind[][] = [['phone'], ['phone', 'shortCode'], ANY, ['senderId']];
    for (const input of inputs) {
      for (const accept of accepts) {
        // Twice: the second answer comes from what was remembered.
        for (let round = 0; round < 2; round += 1) {
          expect(phones.parse(input, accept), `${input} / ${accept.join(',')}`).toEqual(
            parsePartyAddress(input, { defaultCountry: 'US', accept }),
          );
        }
      }
    }
    expect(phones.parse(42, ['phone'])).toEqual({ problem: 'must be a phone number' });
  });

  it('classifies a remembered input once, and forgets the oldest past its capacity', () => {
    const phones = new PhoneNumbers('US', 2);
    // The same object back means libphonenumber did not run again.
    const first = phones.classify('+12025550143');
    expect(phones.classify('+12025550143')).toBe(first);
    phones.classify('+12025550178');
    expect(phones.classify('+12025550143')).toBe(first);
    phones.classify('+12025550199'); // the third input: the oldest goes
    const again = phones.classify('+12025550143');
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });

  it('turns a bad party into a 400 naming the field, and takes an already classified one', () => {
    const phones = new PhoneNumbers('US');
    expect(phones.require('(202) 555-0143', 'phone', ['phone'])).toBe('+12025550143');
    expect(phones.require(phones.classify('acme'), 'sender', ANY)).toBe('ACME');
    const error = (() => {
      try {
        phones.require('garbage!', 'phone', ['phone']);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ApiException);
    expect((error as ApiException).getStatus()).toBe(400);
    expect((error as ApiException).details).toEqual([
      { field: 'phone', problem: 'must be a phone number' },
    ]);
  });

  it('refuses a country libphonenumber does not know', () => {
    expect(() => new PhoneNumbers('XX' as never)).toThrow(RangeError);
  });
});
