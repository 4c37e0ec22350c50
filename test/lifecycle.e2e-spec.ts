import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { createApp } from '../apps/api/src/app.setup.js';
import { buildSmsEvent, randomPhone } from './factories/sms-event.factory.js';
import { startTestApp } from './setup/test-app.js';

/** Start, stop and start again: what is acknowledged stays; the docs are served. */
describe('App lifecycle (e2e)', () => {
  it('keeps every message across a restart on the same database', async () => {
    const first = await startTestApp();
    const admin = `Bearer ${first.adminKey}`;
    const me = randomPhone();
    const events = Array.from({ length: 5 }, () => buildSmsEvent({ senderPhone: me }));
    for (const event of events) {
      await request(first.baseUrl)
        .post('/api/send-sms')
        .set('Authorization', admin)
        .send(event)
        .expect(201);
    }
    await first.close({ keepDatabase: true });

    const second = await startTestApp({
      DATABASE_URL: first.databaseUrl,
      ADMIN_API_KEY: first.adminKey,
    });
    try {
      const response = await request(second.baseUrl)
        .get(`/api/get-conversation/${encodeURIComponent(me)}`)
        .set('Authorization', admin)
        .expect(200);
      expect(response.body.messages.map((m: { message_text: string }) => m.message_text)).toEqual(
        events.map((event) => event.messageText),
      );
      // A replay after the restart is still recognized as one.
      await request(second.baseUrl)
        .post('/api/send-sms')
        .set('Authorization', admin)
        .send(events[0])
        .expect(200);
    } finally {
      await second.close();
    }
  });

  it('starts the embedded PostgreSQL when DATABASE_URL is unset, and keeps its data under DATA_DIR', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sms-lifecycle-'));
    // mkdtemp makes it 0700; the embedded server's `postgres` user must be able to enter it.
    await chmod(dataDir, 0o755);
    const adminKey = randomBytes(24).toString('hex');
    const env = {
      NODE_ENV: 'test',
      DATABASE_URL: undefined,
      DATA_DIR: dataDir,
      ADMIN_API_KEY: adminKey,
    };
    const start = async (): Promise<INestApplication> => {
      const app = await createApp({ env, logger: false });
      await app.listen(0, '127.0.0.1');
      return app;
    };
    const event = buildSmsEvent();
    try {
      let app = await start();
      await request(app.getHttpServer())
        .post('/api/send-sms')
        .set('Authorization', `Bearer ${adminKey}`)
        .send(event)
        .expect(201);
      await app.close();

      app = await start();
      const response = await request(app.getHttpServer())
        .get(`/api/get-conversation/${encodeURIComponent(event.senderPhone)}`)
        .set('Authorization', `Bearer ${adminKey}`)
        .expect(200);
      await app.close();
      expect(response.body.messages).toContainEqual(
        expect.objectContaining({ message_text: event.messageText }),
      );
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('serves the Swagger UI and the OpenAPI document', async () => {
    const testApp = await startTestApp();
    try {
      const ui = await request(testApp.baseUrl).get('/api/docs').redirects(1).expect(200);
      expect(ui.text).toMatch(/swagger-ui/i);
      const document = await request(testApp.baseUrl).get('/api/docs-json').expect(200);
      expect(Object.keys(document.body.paths)).toEqual(
        expect.arrayContaining([
          '/api/send-sms',
          '/api/receive-sms',
          '/api/get-conversation/{phone_number}',
        ]),
      );
    } finally {
      await testApp.close();
    }
  });

  it('does not serve the Swagger UI when SWAGGER_ENABLED=false', async () => {
    const testApp = await startTestApp({ SWAGGER_ENABLED: 'false' });
    try {
      await request(testApp.baseUrl).get('/api/docs-json').expect(404);
    } finally {
      await testApp.close();
    }
  });
});
