import { randomBytes } from 'node:crypto';
import { ApiException } from '../errors/api.exception.js';
import { CursorCodec } from './cursor.js';

describe('CursorCodec', () => {
  const cursors = new CursorCodec(randomBytes(32));
  const position = { time: 1_764_000_000, key: '5f0c6f1e-8d2b-4c7e-9a51-3c1d2b8e7f40' };
  const decodeError = (cursor: string, key: 'uuid' | 'party' | 'ranked' = 'uuid') => {
    try {
      cursors.decode(cursor, 's', 'before', key);
    } catch (caught) {
      return caught;
    }
    return undefined;
  };

  it('round-trips a position within its scope', () => {
    expect(
      cursors.decode(cursors.encode('thread:+1:+2', position), 'thread:+1:+2', 'before', 'uuid'),
    ).toEqual(position);
    const party = { time: 1_764_000_000.25, key: '+12025550178' };
    expect(cursors.decode(cursors.encode('s', party), 's', 'before', 'party')).toEqual(party);
    const ranked = { time: 1_764_000_000, key: `60792:${position.key}` };
    expect(cursors.decode(cursors.encode('s', ranked), 's', 'before', 'ranked')).toEqual(ranked);
  });

  it('refuses a cursor of another listing', () => {
    const cursor = cursors.encode('thread:+1:+2', position);
    expect(() => cursors.decode(cursor, 'thread:+1:+3', 'before', 'uuid')).toThrow(
      /another listing/,
    );
  });

  it('refuses a cursor signed with another secret, or with its payload changed', () => {
    const foreign = new CursorCodec(randomBytes(32)).encode('s', position);
    expect(decodeError(foreign)).toBeInstanceOf(ApiException);
    const [, mac] = cursors.encode('s', position).split('.');
    const tampered = `${Buffer.from(JSON.stringify([2, 's', 1e300, 'x'])).toString('base64url')}.${mac}`;
    expect(decodeError(tampered)).toBeInstanceOf(ApiException);
  });

  it.each([
    ['garbage', 'not a cursor!'],
    ['valid base64 of non-JSON, unsigned', Buffer.from('hello').toString('base64url')],
    [
      'an unsigned cursor of the old format',
      Buffer.from(JSON.stringify([1, 's', 1, 'k'])).toString('base64url'),
    ],
    ['an overlong value', 'A'.repeat(600)],
    ['a signature of the wrong length', `${Buffer.from('[]').toString('base64url')}.AAAA`],
  ])('answers %s with a 400 ApiException naming the field', (_, cursor) => {
    const error = decodeError(cursor);
    expect(error).toBeInstanceOf(ApiException);
    expect((error as ApiException).getStatus()).toBe(400);
    expect((error as ApiException).details?.[0].field).toBe('before');
  });

  it.each<[string, 'uuid' | 'party' | 'ranked', string, number?]>([
    ['a key that is not a uuid', 'uuid', 'not-a-uuid'],
    ['a party key with control characters', 'party', '+1\u0000'],
    ['a ranked key with a negative rank', 'ranked', `-1:${position.key}`],
    ['a ranked key without its uuid', 'ranked', '42'],
    ['a time of 1e300', 'uuid', position.key, 1e300],
    ['a negative time', 'uuid', position.key, -1],
  ])('refuses a well-signed cursor holding %s', (_, key, value, time = position.time) => {
    // Signed by the codec itself: what a leaked secret, or a bug, could produce.
    const cursor = cursors.encode('s', { time, key: value });
    expect(decodeError(cursor, key)).toBeInstanceOf(ApiException);
  });
});
