import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import request from 'supertest';
import { generateApiKeySecret } from '@app/auth';
import { issuePhoneKey } from '../factories/api-key.factory.js';
import { randomPhone } from '../factories/sms-event.factory.js';
import { startTestApp, type TestApp } from '../setup/test-app.js';

/**
 * This machine's Redis (CI has one; so does `.ci/run`'s machine). Part of the
 * `services` project (`npm run test:services`), because `npm test` must pass
 * with nothing but Node.js.
 */
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Per run, so runs (and other users of this Redis) never share a counter. */
const KEY_PREFIX = `sms-service-test:${randomBytes(6).toString('hex')}:`;

describe('Rate limits shared by two instances through Redis (e2e)', () => {
  let first: TestApp;
  let second: TestApp;
  let redis: Redis;

  beforeAll(async () => {
    const env = {
      REDIS_URL,
      REDIS_KEY_PREFIX: KEY_PREFIX,
      THROTTLE_LIMIT: '6',
      AUTH_FAILURE_LIMIT: '3',
    };
    first = await startTestApp(env);
    second = await startTestApp({
      ...env,
      DATABASE_URL: first.databaseUrl,
      ADMIN_API_KEY: first.adminKey,
    });
    redis = new Redis(REDIS_URL);
  });

  afterAll(async () => {
    await second?.close();
    await first?.close();
    const keys = await redis.keys(`${KEY_PREFIX}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('counts a key against one limit whichever instance it calls', async () => {
    const me = randomPhone();
    const key = await issuePhoneKey(first, [me]);
    const call = (app: TestApp) =>
      request(app.baseUrl)
        .get(`/api/get-conversation/${encodeURIComponent(me)}`)
        .set('Authorization', key.authorization);

    for (let i = 0; i < 6; i += 1) await call(i % 2 ? second : first).expect(200);
    for (const app of [first, second]) {
      const refused = await call(app).expect(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(refused.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    }
    // The counters are in Redis, under this run's prefix.
    expect(await redis.keys(`${KEY_PREFIX}*`)).not.toEqual([]);
  });

  it('counts failed authentications of one address on every instance', async () => {
    const guess = (app: TestApp) =>
      request(app.baseUrl)
        .get('/api/keys')
        .set('Authorization', `Bearer ${generateApiKeySecret()}`);
    await guess(first).expect(401);
    await guess(second).expect(401);
    await guess(first).expect(401);
    await guess(second).expect(429);
    // Blocked on the other instance too, right key or not.
    await request(first.baseUrl)
      .get('/api/keys')
      .set('Authorization', `Bearer ${first.adminKey}`)
      .expect(429);
  });
});
