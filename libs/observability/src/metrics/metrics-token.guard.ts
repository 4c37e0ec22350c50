import { createHash, timingSafeEqual } from 'node:crypto';
import { type CanActivate, type ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { HttpAdapterHost } from '@nestjs/core';
import { ApiException } from '@app/common';

const BEARER = /^Bearer +(\S+) *$/i;

/** With METRICS_TOKEN set, a scrape must send `Authorization: Bearer <METRICS_TOKEN>`. */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  private readonly expected?: Buffer;

  constructor(
    config: ConfigService,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    const token = config.get<string>('METRICS_TOKEN');
    this.expected = token ? digest(token) : undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) return true;
    const http = context.switchToHttp();
    const header = http.getRequest<{ headers: Record<string, unknown> }>().headers.authorization;
    const token = typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
    // Digests have one length, so the comparison takes the same time for any guess.
    if (token !== undefined && timingSafeEqual(digest(token), this.expected)) return true;
    this.adapterHost.httpAdapter.setHeader(
      http.getResponse<unknown>(),
      'WWW-Authenticate',
      'Bearer realm="metrics"',
    );
    throw new ApiException(
      HttpStatus.UNAUTHORIZED,
      'Metrics require Authorization: Bearer <METRICS_TOKEN>',
    );
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
