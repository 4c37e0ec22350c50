import { BadRequestException, HttpStatus } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import { ApiException } from './api.exception.js';
import { GlobalExceptionFilter } from './global-exception.filter.js';

describe('GlobalExceptionFilter', () => {
  const filter = new GlobalExceptionFilter({} as HttpAdapterHost);
  const render = (exception: unknown) => filter.toErrorResponse(exception);

  it('keeps the details of an ApiException', () => {
    const { body } = render(ApiException.field(HttpStatus.BAD_REQUEST, 'uuid', 'must be a UUID'));
    expect(body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'uuid must be a UUID',
      details: [{ field: 'uuid', problem: 'must be a UUID' }],
    });
  });

  it("joins Nest's message arrays into one sentence", () => {
    const { body } = render(new BadRequestException(['a is wrong', 'b is wrong']));
    expect(body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'a is wrong; b is wrong',
    });
  });

  it('maps a unique violation to 409', () => {
    const error = Object.assign(new Error('duplicate key'), { driverError: { code: '23505' } });
    expect(render(error).body.statusCode).toBe(409);
  });

  it.each([
    [
      'a refused connection',
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    ],
    ['an admin shutdown', Object.assign(new Error('terminating connection'), { code: '57P01' })],
    ['a terminated connection', new Error('Connection terminated unexpectedly')],
    ['a pool timeout', new Error('timeout exceeded when trying to connect')],
    ['a connection exception class 08', Object.assign(new Error('x'), { code: '08006' })],
  ])('maps %s to 503 with Retry-After', (_, error) => {
    const { body, headers } = render(error);
    expect(body.statusCode).toBe(503);
    expect(headers['Retry-After']).toMatch(/^\d+$/);
  });

  it.each([
    [{ status: 400, type: 'entity.parse.failed', message: 'Unexpected token' }, 400],
    [{ status: 413, type: 'entity.too.large' }, 413],
    [{ statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }, 415],
    [{ statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' }, 413],
  ])('maps the platform body error %o to %i', (error, status) => {
    expect(render(Object.assign(new Error('platform'), error)).body.statusCode).toBe(status);
  });

  it('hides the cause of a 500 behind an error id', () => {
    const { body } = render(new Error('secret table name in here'));
    expect(body.statusCode).toBe(500);
    expect(body.message).not.toContain('secret');
    expect(body.message).toMatch(/error id [0-9a-f-]{36}/);
  });
});
