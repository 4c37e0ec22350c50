import { createHash, timingSafeEqual } from 'node:crypto';
import {
  type CanActivate,
  type ExecutionContext,
  HttpStatus,
  Inject,
  Injectable,
} from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { HttpAdapterHost } from '@nestjs/core';
import { ApiException } from '@app/common';
import { observabilityConfig } from '../observability.config.js';

const BEARER = /^Bearer +(\S+) *$/i;

/** With METRICS_TOKEN set, a scrape must send `Authorization: Bearer <METRICS_TOKEN>`. */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  private readonly expected?: Buffer;

  constructor(
    @Inject(observabilityConfig.KEY) config: ConfigType<typeof observabilityConfig>,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    const token = config.metricsToken;
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
