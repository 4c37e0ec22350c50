import type { CallHandler, ExecutionContext } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import { SSE_METADATA } from '@nestjs/common/constants.js';
import { lastValueFrom, map, NEVER, of, timer } from 'rxjs';
import { ApiException } from '../errors/api.exception.js';
import { RequestTimeoutInterceptor } from './request-timeout.interceptor.js';

describe('RequestTimeoutInterceptor', () => {
  const setHeader = vi.fn();
  const adapterHost = { httpAdapter: { setHeader } } as unknown as HttpAdapterHost;
  const response = {};
  const contextOf = (handler: () => void) =>
    ({
      getHandler: () => handler,
      switchToHttp: () => ({ getResponse: () => response }),
    }) as unknown as ExecutionContext;
  const context = contextOf(() => undefined);
  const interceptor = new RequestTimeoutInterceptor(adapterHost, 50);
  const handler = (handle: CallHandler['handle']): CallHandler => ({ handle });

  it('passes a timely answer through', async () => {
    await expect(
      lastValueFrom(
        interceptor.intercept(
          context,
          handler(() => of('ok')),
        ),
      ),
    ).resolves.toBe('ok');
    expect(setHeader).not.toHaveBeenCalled();
  });

  it('answers 503 with Retry-After when the handler hangs', async () => {
    const error = await lastValueFrom(
      interceptor.intercept(
        context,
        handler(() => NEVER),
      ),
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiException);
    expect((error as ApiException).getStatus()).toBe(503);
    expect(setHeader).toHaveBeenCalledWith(response, 'Retry-After', '5');
  });

  it('leaves event streams open', async () => {
    const stream = () => undefined;
    Reflect.defineMetadata(SSE_METADATA, true, stream);
    const events = interceptor.intercept(
      contextOf(stream),
      handler(() => timer(100).pipe(map(() => 'event'))),
    );
    await expect(lastValueFrom(events)).resolves.toBe('event');
  });
});
