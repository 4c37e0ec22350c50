import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { clientOf } from '@app/auth';
import type { IncomingWebhook } from './gateway-webhooks.service.js';

/** What both platforms' requests have; Fastify's and Express's fields differ only in name. */
interface PlatformRequest {
  body?: unknown;
  headers: Record<string, string | string[] | undefined>;
  ip?: string;
  protocol?: string;
  /** Express 5 and Fastify 5: the Host (X-Forwarded-Host only behind a TRUST_PROXY), port included. */
  host?: string;
  /** Express: the path as requested; `url` was rewritten by routing. */
  originalUrl?: string;
  url?: string;
}

/** The origin a request came to, as the platform reads it (trust-proxy aware). */
export function requestOrigin(request: PlatformRequest): string {
  const host = request.host ?? request.headers.host;
  return `${request.protocol ?? 'http'}://${typeof host === 'string' ? host : 'localhost'}`;
}

/** The origin a request came to; PublicUrls prefers PUBLIC_BASE_URL. */
export const RequestOrigin = createParamDecorator((_: unknown, context: ExecutionContext) =>
  requestOrigin(context.switchToHttp().getRequest<PlatformRequest>()),
);

/**
 * A webhook request, body as the exact bytes the sender signed. The route
 * must be @AcceptsRawBody(), which both platforms' body parsers honour.
 */
export const InboundWebhook = createParamDecorator(
  (_: unknown, context: ExecutionContext): IncomingWebhook => {
    const request = context.switchToHttp().getRequest<PlatformRequest>();
    const contentType = request.headers['content-type'];
    return {
      body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
      contentType: typeof contentType === 'string' ? contentType : undefined,
      headers: request.headers,
      pathAndQuery: request.originalUrl ?? request.url ?? '/',
      origin: requestOrigin(request),
      clientAddress: clientOf(request),
    };
  },
);
