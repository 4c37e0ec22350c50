import { parsePartyAddress } from '@app/common/phone/party-address.js';
import { readParty } from './format.js';

const ANY = ['phone', 'shortCode', 'senderId'] as const;

describe('readParty', () => {
  it("accepts and refuses exactly what the server's parser does, in its words", () => {
    for (const input of ['+44 20 7946 0958', '(202) 555-0143', '72345', 'AcmeBank', 'hello?', '']) {
      const server = parsePartyAddress(input, { defaultCountry: 'US', accept: ANY });
      expect(readParty(input, ANY, 'US')).toEqual(
        'problem' in server ? { problem: server.problem } : { value: server.value },
      );
    }
    expect(readParty('hello?', ANY, 'US')).toEqual({
      problem: 'must be a phone number, short code or alphanumeric sender ID',
    });
  });

  it("reads a national number in the viewer's own country", () => {
    expect(readParty('020 7946 0958', ANY, 'GB')).toEqual({ value: '+442079460958' });
    expect(readParty('(202) 555-0143', ANY, 'US')).toEqual({ value: '+12025550143' });
  });

  it('leaves the text to the server when there is no country to read it in', () => {
    expect(readParty(' 2025550143 ', ANY, undefined)).toEqual({ value: '2025550143' });
    expect(readParty('  ', ANY, undefined)).toEqual({ problem: 'must not be empty' });
  });
});
