import { validateEnvironment } from './environment.js';

const SECRETS_KEY = Buffer.alloc(32, 7).toString('base64');

describe('validateEnvironment', () => {
  it('fills in the defaults and converts types', () => {
    const env = validateEnvironment({ PORT: '8080' });
    expect(env).toMatchObject({
      PORT: 8080,
      NODE_ENV: 'development',
      DEFAULT_COUNTRY: 'US',
      DB_POOL_SIZE: 4,
      SWAGGER_ENABLED: true,
    });
    expect(env.DATABASE_URL).toBeUndefined();
  });

  it('turns Swagger off by default in production only', () => {
    expect(
      validateEnvironment({
        NODE_ENV: 'production',
        ADMIN_API_KEY: 'x'.repeat(40),
        SECRETS_KEY: SECRETS_KEY,
      }).SWAGGER_ENABLED,
    ).toBe(false);
    expect(
      validateEnvironment({
        NODE_ENV: 'production',
        ADMIN_API_KEY: 'x'.repeat(40),
        SECRETS_KEY: SECRETS_KEY,
        SWAGGER_ENABLED: 'true',
      }).SWAGGER_ENABLED,
    ).toBe(true);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['NODE_ENV', 'staging'],
    ['DATABASE_URL', 'mysql://localhost/sms'],
    ['DEFAULT_COUNTRY', 'USA'],
    ['DEFAULT_COUNTRY', 'ZZ'],
    ['DB_POOL_SIZE', '0'],
    ['SWAGGER_ENABLED', 'maybe'],
    ['HTTP_ADAPTER', 'koa'],
  ])('stops start-up on %s=%s with a message naming it', (name, value) => {
    expect(() => validateEnvironment({ [name]: value })).toThrow(
      new RegExp(`Invalid configuration: .*${name}`),
    );
  });
});

describe('boolean variables', () => {
  it.each([
    ['true', true],
    ['false', false],
  ])('reads SWAGGER_ENABLED=%s as %s', (raw, expected) => {
    expect(validateEnvironment({ SWAGGER_ENABLED: raw }).SWAGGER_ENABLED).toBe(expected);
  });
});
