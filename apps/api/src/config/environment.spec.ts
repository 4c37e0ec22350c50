import type { ConfigType } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { authConfig } from '@app/auth';
import type { Environment } from '@app/common';
import { configModule, validateEnvironment } from './environment.js';
import { httpConfig } from './http.config.js';

const SECRETS_KEY = Buffer.alloc(32, 7).toString('base64');
const DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/sms';

/** Validated as at start-up, then read as the app reads it: through its namespace. */
const swaggerEnabled = (env: Environment): boolean => {
  validateEnvironment(env);
  return httpConfig.read(env).swaggerEnabled;
};

describe('validateEnvironment', () => {
  it('fills in the defaults and converts types', () => {
    const env = validateEnvironment({ PORT: '8080' });
    expect(env).toMatchObject({
      PORT: 8080,
      NODE_ENV: 'development',
      DEFAULT_COUNTRY: 'US',
      DB_POOL_SIZE: 4,
    });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(swaggerEnabled({ PORT: '8080' })).toBe(true);
  });

  it('turns Swagger off by default in production only', () => {
    expect(
      swaggerEnabled({
        NODE_ENV: 'production',
        ADMIN_API_KEY: 'x'.repeat(40),
        SECRETS_KEY: SECRETS_KEY,
        DATABASE_URL,
      }),
    ).toBe(false);
    expect(
      swaggerEnabled({
        NODE_ENV: 'production',
        ADMIN_API_KEY: 'x'.repeat(40),
        SECRETS_KEY: SECRETS_KEY,
        DATABASE_URL,
        SWAGGER_ENABLED: 'true',
      }),
    ).toBe(true);
  });

  it('never starts the embedded PostgreSQL in production: DATABASE_URL is required there', () => {
    const production = { NODE_ENV: 'production', ADMIN_API_KEY: 'x'.repeat(40), SECRETS_KEY };
    expect(() => validateEnvironment(production)).toThrow(
      /Invalid configuration: .*DATABASE_URL must be set in production/,
    );
    expect(validateEnvironment({ ...production, DATABASE_URL }).DATABASE_URL).toBe(DATABASE_URL);
    expect(validateEnvironment({ NODE_ENV: 'development' }).DATABASE_URL).toBeUndefined();
    expect(validateEnvironment({ NODE_ENV: 'test' }).DATABASE_URL).toBeUndefined();
  });

  it.each([
    ['REQUEST_TIMEOUT_MS', { REQUEST_TIMEOUT_MS: '10000', DB_STATEMENT_TIMEOUT_MS: '10000' }],
    [
      'HTTP_HEADERS_TIMEOUT_MS',
      { HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '15000' },
    ],
  ])('stops start-up when %s breaks a rule between variables', (name, env) => {
    expect(() => validateEnvironment(env)).toThrow(new RegExp(`Invalid configuration: .*${name}`));
  });

  it('reports a variable several namespaces read once', () => {
    expect(() => validateEnvironment({ NODE_ENV: 'staging' })).toThrow(
      /^Invalid configuration: NODE_ENV must be one of the following values: [\w, ]+$/,
    );
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

describe('configModule', () => {
  const processEnv = { ...process.env };
  afterEach(() => {
    // ConfigModule copies the validated variables into process.env.
    for (const name of Object.keys(process.env)) {
      if (!(name in processEnv)) delete process.env[name];
    }
  });

  it('gives each app its own variables, however many run in one process', async () => {
    const limits = await Promise.all(
      ['5', '7'].map(async (limit) => {
        const moduleRef = await Test.createTestingModule({
          imports: [configModule({ THROTTLE_LIMIT: limit })],
        }).compile();
        return moduleRef.get<ConfigType<typeof authConfig>>(authConfig.KEY).throttleLimit;
      }),
    );
    expect(limits).toEqual([5, 7]);
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
