import { classifyParty, CursorCodec } from '@app/common';
import { isPseudonym, PartyPseudonyms, PSEUDONYM } from './pseudonyms.js';

const secret = (text: string) => Buffer.from(text.padEnd(32, '.'));

describe('PartyPseudonyms', () => {
  const pseudonyms = new PartyPseudonyms(secret('pseudonyms'), secret('hashes'));

  it('gives a number the same pseudonym every time, and another number another one', () => {
    const first = pseudonyms.pseudonymOf('+12025550143');

    expect(pseudonyms.pseudonymOf('+12025550143')).toBe(first);
    expect(first).toMatch(PSEUDONYM);
    expect(pseudonyms.pseudonymOf('+12025550178')).not.toBe(first);
    expect(
      new PartyPseudonyms(secret('other'), secret('hashes')).pseudonymOf('+12025550143'),
    ).not.toBe(first);
  });

  it('is a stored party every listing accepts: a sender ID, and a cursor key', () => {
    const pseudonym = pseudonyms.pseudonymOf('+12025550143');

    expect(classifyParty(pseudonym, 'US')).toEqual({
      phone: undefined,
      other: { kind: 'senderId', value: pseudonym },
    });
    const codec = new CursorCodec(secret('cursors'));
    const cursor = codec.encode('threads:x', { time: 1, key: pseudonym });
    expect(codec.decode(cursor, 'threads:x', 'before', 'party')).toEqual({
      time: 1,
      key: pseudonym,
    });
    expect(isPseudonym(pseudonym)).toBe(true);
    expect(isPseudonym('ACMEBANK')).toBe(false);
  });

  it('hashes a number for the audit as 64 hex digits, under its own secret', () => {
    const hash = pseudonyms.hashOf('+12025550143');

    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain('12025550143');
    expect(
      new PartyPseudonyms(secret('pseudonyms'), secret('other')).hashOf('+12025550143'),
    ).not.toBe(hash);
  });
});
