import { ConfigModule } from '@nestjs/config';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { configureHttpPipeline } from '@app/common';
import { buildSmsEvent } from '../../../test/factories/sms-event.factory.js';
import { MessagesController } from './messages.controller.js';
import { ConversationsService } from './conversations.service.js';
import { MessageRecorder } from './message-recorder.service.js';

/**
 * The HTTP layer alone: the real validation pipe, guard and error filter,
 * with the service mocked. Storage rules are covered by the e2e suites.
 */
describe('MessagesController', () => {
  let app: NestExpressApplication;
  const service = { record: vi.fn(), getConversation: vi.fn() };

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ConfigModule.forRoot({ ignoreEnvFile: true })],
      controllers: [MessagesController],
      providers: [
        { provide: MessageRecorder, useValue: service },
        { provide: ConversationsService, useValue: service },
      ],
    }).compile();
    app = moduleRef.createNestApplication<NestExpressApplication>(new ExpressAdapter(), {
      bodyParser: false,
      logger: false,
    });
    app.useBodyParser('json', { limit: '64kb' });
    configureHttpPipeline(app);
    await app.init();
  });

  afterAll(() => app.close());
  beforeEach(() => {
    vi.resetAllMocks();
    service.record.mockResolvedValue('created');
    service.getConversation.mockResolvedValue({ messages: [] });
  });

  const post = (path: string) => request(app.getHttpServer()).post(`/api/${path}`);

  it.each([
    ['send-sms', 'sent', 'SMS sent successfully'],
    ['receive-sms', 'received', 'SMS received successfully'],
  ])('POST /api/%s answers 201 with the contract body', async (path, kind, message) => {
    const event = buildSmsEvent();
    const response = await post(path).send(event).expect(201);
    expect(response.text).toBe(JSON.stringify({ message }));
    // No auth guard here, so no number read by it (@ActingParty) comes along.
    expect(service.record).toHaveBeenCalledWith(kind, expect.objectContaining(event), undefined);
  });

  it('answers 200 with the same body when the event is a replay', async () => {
    service.record.mockResolvedValue('replayed');
    const response = await post('send-sms').send(buildSmsEvent()).expect(200);
    expect(response.body).toEqual({ message: 'SMS sent successfully' });
  });

  it('strips unknown fields before the service sees them', async () => {
    await post('send-sms')
      .send({ ...buildSmsEvent(), admin: true })
      .expect(201);
    expect(service.record.mock.calls[0][1]).not.toHaveProperty('admin');
  });

  it.each([
    ['a missing field', { senderPhone: undefined }, 'senderPhone'],
    ['a null field', { receiverPhone: null }, 'receiverPhone'],
    ['a number as phone', { senderPhone: 12025550143 }, 'senderPhone'],
    ['an invalid uuid', { uuid: 'not-a-uuid' }, 'uuid'],
    ['a fractional timestamp', { timestamp: 1764000000.5 }, 'timestamp'],
    ['a negative timestamp', { timestamp: -1 }, 'timestamp'],
    ['a string timestamp', { timestamp: '1764000000' }, 'timestamp'],
    ['a timestamp far in the future', { timestamp: 4_000_000_000 }, 'timestamp'],
    ['an empty text', { messageText: '' }, 'messageText'],
    ['a text over 1600 characters', { messageText: 'x'.repeat(1601) }, 'messageText'],
    ['a 33-character phone', { senderPhone: '1'.repeat(33) }, 'senderPhone'],
  ])('rejects %s with 400 naming the field', async (_, override, field) => {
    const response = await post('send-sms')
      .send(buildSmsEvent(override as object))
      .expect(400);
    expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(response.body.details).toEqual(
      expect.arrayContaining([expect.objectContaining({ field })]),
    );
    expect(response.body.message).toContain(field);
    expect(service.record).not.toHaveBeenCalled();
  });

  it('says when a timestamp looks like milliseconds', async () => {
    const response = await post('send-sms')
      .send(buildSmsEvent({ timestamp: Date.now() }))
      .expect(400);
    expect(response.body.message).toMatch(/milliseconds/);
  });

  it('accepts 1600 characters of emoji (counted as characters, not UTF-16 units)', async () => {
    await post('send-sms')
      .send(buildSmsEvent({ messageText: '😀'.repeat(1600) }))
      .expect(201);
  });

  it.each([
    [
      'malformed JSON',
      (r: request.Test) => r.set('Content-Type', 'application/json').send('{"uuid": '),
      400,
    ],
    ['a JSON array', (r: request.Test) => r.send([buildSmsEvent()]), 400],
    [
      'a JSON string',
      (r: request.Test) => r.set('Content-Type', 'application/json').send('"hello"'),
      400,
    ],
    [
      'a text/plain body',
      (r: request.Test) => r.set('Content-Type', 'text/plain').send('hello'),
      415,
    ],
    ['a form body', (r: request.Test) => r.type('form').send({ uuid: 'x' }), 415],
    [
      'a body over 64 KB',
      (r: request.Test) => r.send({ ...buildSmsEvent(), padding: 'x'.repeat(70_000) }),
      413,
    ],
  ])('rejects %s in the common error shape', async (_, send, status) => {
    const response = await send(post('send-sms')).expect(status);
    expect(response.headers['content-type']).toMatch(/application\/json/);
    expect(Object.keys(response.body).sort()).toEqual([
      'details',
      'error',
      'message',
      'statusCode',
    ]);
    expect(response.body.statusCode).toBe(status);
    expect(JSON.stringify(response.body)).not.toMatch(/at .*\.js:\d+/);
    expect(service.record).not.toHaveBeenCalled();
  });

  it('passes the path number and the limit to the service', async () => {
    service.getConversation.mockResolvedValue({
      messages: [
        { phone_number: '+12025550178', message_text: 'hi', timestamp: 1, direction: 'sent' },
      ],
    });
    const response = await request(app.getHttpServer())
      .get('/api/get-conversation/+12025550143?limit=5')
      .expect(200);
    expect(response.body).toEqual({
      messages: [
        { phone_number: '+12025550178', message_text: 'hi', timestamp: 1, direction: 'sent' },
      ],
    });
    expect(service.getConversation).toHaveBeenCalledWith('+12025550143', { limit: 5 });
  });

  it('defaults the limit to 100', async () => {
    await request(app.getHttpServer()).get('/api/get-conversation/+12025550143').expect(200);
    expect(service.getConversation).toHaveBeenCalledWith('+12025550143', { limit: 100 });
  });

  it.each(['0', '1001', 'abc', '2.5'])('rejects limit=%s with 400', async (limit) => {
    const response = await request(app.getHttpServer())
      .get(`/api/get-conversation/+12025550143?limit=${limit}`)
      .expect(400);
    expect(response.body.details[0].field).toBe('limit');
  });

  it('answers an unknown route with 404 in the common shape', async () => {
    const response = await request(app.getHttpServer()).get('/api/nothing-here').expect(404);
    expect(response.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
  });
});
