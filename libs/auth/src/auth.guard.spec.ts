import { Body, Controller, Get, type INestApplication, Post } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_GUARD } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { configureHttpPipeline, phoneConfig, PhoneNumbersModule } from '@app/common';
import { AdminKey } from './admin-key.js';
import { generateApiKeySecret } from './api-key-secret.js';
import { ApiKeysService } from './api-keys.service.js';
import { AuthFailureLimiter } from './auth-failure-limiter.js';
import { authConfig } from './auth.config.js';
import { ActsFor, AdminOnly, PerObjectAccess, Public } from './auth.decorators.js';
import { AuthGuard } from './auth.guard.js';
import { CurrentPrincipal } from './current-principal.decorator.js';
import { KeyRateLimit } from './key-rate-limit.js';
import type { Principal } from './principal.js';
import { RateLimitStorage } from './rate-limit.storage.js';

const ADMIN = generateApiKeySecret();
const ALICE = generateApiKeySecret();
const alice: Principal = { keyId: 'alice', isAdmin: false, phones: new Set(['+12025550143']) };

@Controller('probe')
class ProbeController {
  @Get('open')
  @Public()
  open() {
    return { ok: true };
  }

  @Get('admin')
  @AdminOnly()
  admin() {
    return { ok: true };
  }

  @Post('send')
  @ActsFor({ body: 'senderPhone' })
  send(@Body() body: object) {
    return body;
  }

  @Get('numbers/:phone')
  @ActsFor({ param: 'phone' })
  number() {
    return { ok: true };
  }

  @Get('mine')
  @PerObjectAccess()
  mine(@CurrentPrincipal() principal: Principal) {
    return { keyId: principal.keyId, isAdmin: principal.isAdmin };
  }
}

/**
 * The guard alone, on a probe controller: the real guard, pipeline and
 * throttler, with the key store mocked. The routes of the app are covered
 * by test/security.e2e-spec.ts.
 */
describe('AuthGuard', () => {
  let app: INestApplication;
  const keys = { findPrincipal: vi.fn() };

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          load: [
            phoneConfig.from(() => ({ DEFAULT_COUNTRY: 'US' })),
            authConfig.from(() => ({
              THROTTLE_TTL_MS: 60_000,
              THROTTLE_LIMIT: 1_000,
              AUTH_FAILURE_LIMIT: 1_000,
            })),
          ],
        }),
        PhoneNumbersModule,
      ],
      controllers: [ProbeController],
      providers: [
        { provide: AdminKey, useValue: new AdminKey(ADMIN) },
        { provide: ApiKeysService, useValue: keys },
        { provide: RateLimitStorage, useValue: new RateLimitStorage() },
        AuthFailureLimiter,
        KeyRateLimit,
        { provide: APP_GUARD, useClass: AuthGuard },
      ],
    }).compile();
    app = moduleRef.createNestApplication(new ExpressAdapter(), { logger: false });
    configureHttpPipeline(app);
    await app.init();
  });

  afterAll(() => app.close());

  beforeEach(() => {
    keys.findPrincipal.mockReset();
    keys.findPrincipal.mockImplementation((token: string) =>
      Promise.resolve(token === ALICE ? alice : undefined),
    );
  });

  const get = (path: string, key?: string) => {
    const test = request(app.getHttpServer()).get(`/api/probe/${path}`);
    return key ? test.set('Authorization', `Bearer ${key}`) : test;
  };
  const send = (body: object, key: string) =>
    request(app.getHttpServer())
      .post('/api/probe/send')
      .set('Authorization', `Bearer ${key}`)
      .send(body);

  it('lets anyone through to a public route, without looking for a key', async () => {
    await get('open').expect(200);
    expect(keys.findPrincipal).not.toHaveBeenCalled();
  });

  it('answers a missing key with 401, a Bearer challenge and the common body', async () => {
    const response = await get('admin').expect(401);
    expect(response.headers['www-authenticate']).toBe('Bearer realm="sms-service"');
    expect(response.body).toMatchObject({
      statusCode: 401,
      error: 'Unauthorized',
      message: 'Authentication required: send Authorization: Bearer <API key>',
    });
  });

  it('recognises the admin key without asking the key store', async () => {
    await get('admin', ADMIN).expect(200);
    expect(keys.findPrincipal).not.toHaveBeenCalled();
  });

  it('refuses a phone key on an admin route with 403', async () => {
    const response = await get('admin', ALICE).expect(403);
    expect(response.body).toMatchObject({ statusCode: 403, error: 'Forbidden' });
  });

  it.each([
    ['its number', '+12025550143', 200],
    ['its number, formatted', '(202) 555-0143', 200],
    ['its number, national digits', '2025550143', 200],
    ['another number', '+12025550178', 403],
    ['something unreadable', 'garbage!', 403],
  ])('lets a phone key read %s → %i', async (_, phone, status) => {
    await get(`numbers/${encodeURIComponent(phone)}`, ALICE).expect(status);
  });

  it('lets the admin key through an unreadable number, for validation to answer', async () => {
    await get(`numbers/${encodeURIComponent('garbage!')}`, ADMIN).expect(200);
  });

  it.each([
    ['its number', { senderPhone: '+1 202 555 0143' }, 201],
    ['another number', { senderPhone: '+12025550178' }, 403],
    ['no number', {}, 403],
    ['a number that is not a string', { senderPhone: 12025550143 }, 403],
    ['a JSON array', [{ senderPhone: '+12025550143' }], 403],
  ])('judges a body with %s → %i', async (_, body, status) => {
    await send(body, ALICE).expect(status);
  });

  it('hands the principal to per-object routes', async () => {
    const response = await get('mine', ALICE).expect(200);
    expect(response.body).toEqual({ keyId: 'alice', isAdmin: false });
    const admin = await get('mine', ADMIN).expect(200);
    expect(admin.body).toEqual({ keyId: 'admin', isAdmin: true });
  });

  it('answers a failing key store with 503, not 401 (the key may be fine)', async () => {
    keys.findPrincipal.mockRejectedValue(
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    );
    const response = await get('mine', ALICE).expect(503);
    expect(response.headers['retry-after']).toBeDefined();
  });
});
