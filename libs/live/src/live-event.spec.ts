import {
  decodeChanges,
  encodeChanges,
  type MessageChange,
  parseEventId,
  positionToTimestamp,
} from './live-event.js';

const change = (index: number, kind: MessageChange['kind'] = 'created'): MessageChange => ({
  kind,
  uuid: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
  senderPhone: '+12025550143',
  receiverPhone: index % 2 ? 'ACMEBANK' : '+447946095800',
});

describe('NOTIFY payloads', () => {
  it('round-trip every change, in order', () => {
    const changes = [change(1), change(2, 'updated'), change(3)];
    expect(encodeChanges(changes)).toHaveLength(1);
    expect(encodeChanges(changes).flatMap(decodeChanges)).toEqual(changes);
  });

  it('split a burst into payloads that each stay under the limit', () => {
    const changes = Array.from({ length: 1000 }, (_, index) => change(index));
    const payloads = encodeChanges(changes);
    expect(payloads.length).toBeGreaterThanOrEqual(9);
    for (const payload of payloads) expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(7_900);
    expect(payloads.flatMap(decodeChanges)).toEqual(changes);
  });

  it('fills each payload as far as the limit allows', () => {
    // Each change takes about 70 bytes, the envelope 14.
    const payloads = encodeChanges([change(1), change(2), change(3)], 200);
    expect(payloads.map((payload) => decodeChanges(payload).length)).toEqual([2, 1]);
  });

  it.each([
    ['not JSON', 'hello'],
    ['another version', '{"v":2,"m":[["c","u","a","b"]]}'],
    ['a list of something else', '{"v":1,"m":[[1,2,3,4],["x","u","a","b"],"c"]}'],
    ['null', 'null'],
  ])('ignore %s', (_, payload) => {
    expect(decodeChanges(payload)).toEqual([]);
  });
});

describe('event ids', () => {
  it('are microseconds on the database clock', () => {
    expect(parseEventId('1764072000123456')).toBe(1_764_072_000_123_456n);
    expect(parseEventId(' 42 ')).toBe(42n);
  });

  it.each(['', 'yesterday', '-1', '1.5', '1e6', '9'.repeat(19)])('refuse %j', (value) => {
    expect(parseEventId(value)).toBeUndefined();
  });

  it('become exact timestamps, microseconds included', () => {
    expect(positionToTimestamp(1_764_072_000_000_001n)).toBe('2025-11-25T12:00:00.000001Z');
    expect(positionToTimestamp(1_764_072_000_999_999n)).toBe('2025-11-25T12:00:00.999999Z');
    expect(positionToTimestamp(-5n)).toBe('1970-01-01T00:00:00.000000Z');
  });
});
