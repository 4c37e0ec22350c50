import { validateEnvironment } from './environment.js';

/** The variables of authentication, rate limits and HTTP hardening. */
describe('validateEnvironment: security settings', () => {
  const adminApiKey = 'k'.repeat(32);
  const secretsKey = Buffer.alloc(32, 1).toString('base64');

  it('has safe defaults', () => {
    expect(validateEnvironment({})).toMatchObject({
      THROTTLE_TTL_MS: 60_000,
      THROTTLE_LIMIT: 600,
      AUTH_FAILURE_LIMIT: 10,
      REDIS_KEY_PREFIX: 'sms-service:',
      CORS_ORIGINS: '',
      REQUEST_TIMEOUT_MS: 15_000,
    });
    expect(validateEnvironment({}).ADMIN_API_KEY).toBeUndefined();
    expect(validateEnvironment({}).REDIS_URL).toBeUndefined();
  });

  it('requires an admin key and a secrets key in production only', () => {
    expect(() => validateEnvironment({ NODE_ENV: 'production', SECRETS_KEY: secretsKey })).toThrow(
      /ADMIN_API_KEY must be set in production/,
    );
    expect(() =>
      validateEnvironment({ NODE_ENV: 'production', ADMIN_API_KEY: adminApiKey }),
    ).toThrow(/SECRETS_KEY must be set in production/);
    expect(
      validateEnvironment({
        NODE_ENV: 'production',
        ADMIN_API_KEY: adminApiKey,
        SECRETS_KEY: secretsKey,
        DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/sms',
      }).ADMIN_API_KEY,
    ).toBe(adminApiKey);
    expect(validateEnvironment({}).SECRETS_KEY).toBeUndefined();
  });

  it('reads a secrets key as base64 or hex, and previous keys as a list', () => {
    const hex = 'ab'.repeat(32);
    expect(
      validateEnvironment({ SECRETS_KEY: hex, SECRETS_KEY_PREVIOUS: `${secretsKey},${hex}` }),
    ).toMatchObject({ SECRETS_KEY: hex, SECRETS_KEY_PREVIOUS: `${secretsKey},${hex}` });
  });

  it.each([
    ['SECRETS_KEY', 'too-short'],
    ['SECRETS_KEY', 'ab'.repeat(31)],
    ['SECRETS_KEY_PREVIOUS', 'ab'.repeat(32) + ',nope'],
    ['PUBLIC_BASE_URL', 'sms.example.com'],
    ['PUBLIC_BASE_URL', 'https://sms.example.com/?x=1'],
    ['TRUST_PROXY', 'yes please'],
  ])('refuses %s=%s', (name, value) => {
    expect(() => validateEnvironment({ [name]: value })).toThrow(new RegExp(name));
  });

  it('reads PUBLIC_BASE_URL and TRUST_PROXY', () => {
    expect(
      validateEnvironment({
        PUBLIC_BASE_URL: 'https://sms.example.com/base',
        TRUST_PROXY: 'loopback, 10.0.0.0/8',
      }),
    ).toMatchObject({
      PUBLIC_BASE_URL: 'https://sms.example.com/base',
      TRUST_PROXY: 'loopback, 10.0.0.0/8',
    });
    expect(validateEnvironment({}).TRUST_PROXY).toBe('false');
  });

  it('reads comma-separated CORS origins', () => {
    const origins = 'https://app.example.com, http://localhost:5173';
    expect(validateEnvironment({ CORS_ORIGINS: origins }).CORS_ORIGINS).toBe(origins);
  });

  it.each([
    ['ADMIN_API_KEY', 'k'.repeat(31)],
    ['ADMIN_API_KEY', `${'k'.repeat(32)} with spaces`],
    ['THROTTLE_LIMIT', '0'],
    ['THROTTLE_TTL_MS', '10'],
    ['AUTH_FAILURE_LIMIT', 'many'],
    ['REDIS_URL', 'http://127.0.0.1:6379'],
    ['REDIS_KEY_PREFIX', 'has space'],
    ['CORS_ORIGINS', '*'],
    ['CORS_ORIGINS', 'https://app.example.com/'],
    ['REQUEST_TIMEOUT_MS', '5000'],
  ])('stops start-up on %s=%s with a message naming it', (name, value) => {
    expect(() => validateEnvironment({ [name]: value })).toThrow(
      new RegExp(`Invalid configuration: .*${name}`),
    );
  });
});
