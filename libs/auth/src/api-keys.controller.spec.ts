import type { INestApplication } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { ApiException, configureHttpPipeline } from '@app/common';
import { ApiKeysController } from './api-keys.controller.js';
import { ApiKeysService } from './api-keys.service.js';

/** The key endpoints' HTTP layer: real validation pipe and error filter, service mocked. */
describe('ApiKeysController', () => {
  let app: INestApplication;
  const service = { create: vi.fn(), list: vi.fn(), revoke: vi.fn() };

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      controllers: [ApiKeysController],
      providers: [{ provide: ApiKeysService, useValue: service }],
    }).compile();
    app = moduleRef.createNestApplication(new ExpressAdapter(), { logger: false });
    configureHttpPipeline(app);
    await app.init();
  });

  afterAll(() => app.close());
  beforeEach(() => vi.resetAllMocks());

  const http = () => request(app.getHttpServer());

  it('passes a valid key request to the service and answers 201', async () => {
    const created = {
      id: '0b7d6f0e-3c2a-4f57-9a3e-2f1d9c8b7a65',
      key: 'sms_secret',
      label: 'phone',
      phones: ['+12025550143'],
      createdAt: '2025-11-25T12:00:00.000Z',
    };
    service.create.mockResolvedValue(created);
    const response = await http()
      .post('/api/keys')
      .send({ label: 'phone', phones: ['+1 202 555 0143'], isAdmin: true })
      .expect(201);
    expect(response.body).toEqual(created);
    // Unknown fields (isAdmin!) never reach the service.
    expect(service.create).toHaveBeenCalledWith({ label: 'phone', phones: ['+1 202 555 0143'] });
  });

  it.each([
    ['no label', { phones: ['+12025550143'] }, 'label'],
    ['a blank label', { label: '   ', phones: ['+12025550143'] }, 'label'],
    ['a label over 100 characters', { label: 'x'.repeat(101), phones: ['+1'] }, 'label'],
    ['no phones', { label: 'x' }, 'phones'],
    ['an empty phone list', { label: 'x', phones: [] }, 'phones'],
    ['101 phones', { label: 'x', phones: Array(101).fill('+12025550143') }, 'phones'],
    ['a phone that is not a string', { label: 'x', phones: [12025550143] }, 'phones'],
    ['phones as a string', { label: 'x', phones: '+12025550143' }, 'phones'],
  ])('refuses %s with 400 naming the field', async (_, body, field) => {
    const response = await http().post('/api/keys').send(body).expect(400);
    expect(response.body.details).toContainEqual(expect.objectContaining({ field }));
    expect(service.create).not.toHaveBeenCalled();
  });

  it('lists keys under "keys"', async () => {
    service.list.mockResolvedValue([]);
    const response = await http().get('/api/keys').expect(200);
    expect(response.body).toEqual({ keys: [] });
  });

  it('revokes with 204 and no body', async () => {
    service.revoke.mockResolvedValue(undefined);
    const id = '0b7d6f0e-3c2a-4f57-9a3e-2f1d9c8b7a65';
    const response = await http().delete(`/api/keys/${id}`).expect(204);
    expect(response.text).toBe('');
    expect(service.revoke).toHaveBeenCalledWith(id);
  });

  it('answers an id that is not a uuid with 400, and an unknown one with 404', async () => {
    await http().delete('/api/keys/not-a-uuid').expect(400);
    expect(service.revoke).not.toHaveBeenCalled();
    service.revoke.mockRejectedValue(ApiException.field(404, 'id', 'matches no API key'));
    const response = await http().delete('/api/keys/0b7d6f0e-3c2a-4f57-9a3e-2f1d9c8b7a65');
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
  });
});
