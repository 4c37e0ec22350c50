import { randomBytes } from 'node:crypto';
import { parseSecretsKey, SecretBox, secretsKeyId, UnknownSecretsKeyError } from './secret-box.js';

describe('SecretBox', () => {
  const key = randomBytes(32);

  it('opens what it sealed, and the sealed bytes do not contain the secret', () => {
    const box = new SecretBox(key);
    const sealed = box.seal('twilio-auth-token-0123456789', 'gateway-1');
    expect(sealed.keyId).toBe(secretsKeyId(key));
    expect(sealed.sealed.includes(Buffer.from('twilio-auth-token'))).toBe(false);
    expect(box.open(sealed, 'gateway-1')).toBe('twilio-auth-token-0123456789');
  });

  it('seals the same secret differently each time (a fresh IV)', () => {
    const box = new SecretBox(key);
    expect(box.seal('same', 'c').sealed.equals(box.seal('same', 'c').sealed)).toBe(false);
  });

  it('refuses a secret moved to another connection, or tampered with', () => {
    const box = new SecretBox(key);
    const sealed = box.seal('secret', 'gateway-1');
    expect(() => box.open(sealed, 'gateway-2')).toThrow();
    const tampered = Buffer.from(sealed.sealed);
    tampered[tampered.length - 1] ^= 1;
    expect(() => box.open({ ...sealed, sealed: tampered }, 'gateway-1')).toThrow();
  });

  it('opens with a previous key during a rotation, and names a key it was not given', () => {
    const old = randomBytes(32);
    const sealed = new SecretBox(old).seal('secret', 'c');
    const rotated = new SecretBox(key, [old]);
    expect(rotated.knows(sealed.keyId)).toBe(true);
    expect(rotated.open(sealed, 'c')).toBe('secret');
    expect(() => new SecretBox(key).open(sealed, 'c')).toThrow(UnknownSecretsKeyError);
  });

  it('reads keys as base64, url-safe base64 or hex, and nothing else', () => {
    expect(parseSecretsKey(key.toString('base64'))?.equals(key)).toBe(true);
    expect(parseSecretsKey(key.toString('base64url'))?.equals(key)).toBe(true);
    expect(parseSecretsKey(key.toString('hex'))?.equals(key)).toBe(true);
    expect(parseSecretsKey(randomBytes(16).toString('base64'))).toBeUndefined();
    expect(parseSecretsKey('not a key')).toBeUndefined();
  });
});
