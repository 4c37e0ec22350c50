import {
  type CallHandler,
  type ExecutionContext,
  HttpStatus,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { SSE_METADATA } from '@nestjs/common/constants.js';
import type { HttpAdapterHost } from '@nestjs/core';
import { type Observable, throwError, timeout } from 'rxjs';
import { ApiException } from '../errors/api.exception.js';

const RETRY_AFTER_SECONDS = 5;

/**
 * Answers 503 when a handler has not answered within `timeoutMs`, so a client
 * is never left hanging on a stuck dependency. 503, not 408: the server was
 * slow, not the client. The database's own timeouts are shorter, so this is
 * the backstop; whether a write went through is then unknown, and resending
 * it is safe because every event is idempotent by uuid. Event streams stay
 * open on purpose and are left alone.
 */
@Injectable()
export class RequestTimeoutInterceptor implements NestInterceptor {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly timeoutMs: number,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (Reflect.getMetadata(SSE_METADATA, context.getHandler())) return next.handle();
    return next.handle().pipe(
      timeout({
        first: this.timeoutMs,
        with: () => {
          const response: unknown = context.switchToHttp().getResponse();
          this.adapterHost.httpAdapter.setHeader(
            response,
            'Retry-After',
            String(RETRY_AFTER_SECONDS),
          );
          return throwError(
            () =>
              new ApiException(
                HttpStatus.SERVICE_UNAVAILABLE,
                `No answer within ${this.timeoutMs} ms; retry later (resending an event is safe)`,
              ),
          );
        },
      }),
    );
  }
}
