import { ApiException } from '../errors/api.exception.js';
import { decodeCursor, encodeCursor } from './cursor.js';

describe('cursor', () => {
  const position = { time: 1_764_000_000, key: '5f0c6f1e-8d2b-4c7e-9a51-3c1d2b8e7f40' };

  it('round-trips a position within its scope', () => {
    expect(decodeCursor(encodeCursor('thread:+1:+2', position), 'thread:+1:+2', 'before')).toEqual(
      position,
    );
  });

  it('refuses a cursor of another listing', () => {
    const cursor = encodeCursor('thread:+1:+2', position);
    expect(() => decodeCursor(cursor, 'thread:+1:+3', 'before')).toThrow(/another listing/);
  });

  it.each([
    ['garbage', 'not a cursor!'],
    ['valid base64 of non-JSON', Buffer.from('hello').toString('base64url')],
    ['JSON of the wrong shape', Buffer.from('{"a":1}').toString('base64url')],
    ['a wrong version', Buffer.from(JSON.stringify([9, 's', 1, 'k'])).toString('base64url')],
    ['a string time', Buffer.from(JSON.stringify([1, 's', '1', 'k'])).toString('base64url')],
    ['an overlong value', 'A'.repeat(600)],
  ])('answers %s with a 400 ApiException', (_, cursor) => {
    let error: unknown;
    try {
      decodeCursor(cursor, 's', 'before');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ApiException);
    expect((error as ApiException).getStatus()).toBe(400);
    expect((error as ApiException).details?.[0].field).toBe('before');
  });
});
