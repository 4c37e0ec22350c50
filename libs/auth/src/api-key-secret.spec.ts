import {
  generateApiKeySecret,
  hashApiKey,
  looksLikeIssuedKey,
  sameDigest,
  visiblePrefixOf,
} from './api-key-secret.js';

describe('API key secrets', () => {
  it('are sms_ plus 32 random bytes in base64url, different every time', () => {
    const secrets = Array.from({ length: 100 }, generateApiKeySecret);
    for (const secret of secrets) {
      expect(secret).toMatch(/^sms_[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(secret.slice(4), 'base64url')).toHaveLength(32);
      expect(looksLikeIssuedKey(secret)).toBe(true);
    }
    expect(new Set(secrets).size).toBe(100);
  });

  it('are stored as their SHA-256 only', () => {
    const secret = generateApiKeySecret();
    const digest = hashApiKey(secret);
    expect(digest).toHaveLength(32);
    expect(digest.toString('hex')).not.toContain(secret);
    expect(sameDigest(digest, hashApiKey(secret))).toBe(true);
    expect(sameDigest(digest, hashApiKey(`${secret}x`))).toBe(false);
    expect(sameDigest(digest, Buffer.alloc(16))).toBe(false);
  });

  it('show only a short prefix', () => {
    const secret = generateApiKeySecret();
    expect(visiblePrefixOf(secret)).toBe(secret.slice(0, 10));
  });

  it.each(['', 'sms_', 'sms_short', `ghp_${'a'.repeat(43)}`, `sms_${'a'.repeat(42)}!`])(
    'do not look like %j',
    (token) => expect(looksLikeIssuedKey(token)).toBe(false),
  );
});
