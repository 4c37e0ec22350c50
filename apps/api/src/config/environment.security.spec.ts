import { validateEnvironment } from './environment.js';

/** The variables of authentication, rate limits and HTTP hardening. */
describe('validateEnvironment: security settings', () => {
  const adminApiKey = 'k'.repeat(32);

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

  it('requires an admin key in production only', () => {
    expect(() => validateEnvironment({ NODE_ENV: 'production' })).toThrow(
      /ADMIN_API_KEY must be set in production/,
    );
    expect(
      validateEnvironment({ NODE_ENV: 'production', ADMIN_API_KEY: adminApiKey }).ADMIN_API_KEY,
    ).toBe(adminApiKey);
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
