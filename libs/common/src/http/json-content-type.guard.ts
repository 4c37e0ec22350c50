import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { ApiException } from '../errors/api.exception.js';
import { acceptsRawBody } from './raw-body.js';

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);
const JSON_MEDIA_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;

interface RequestLike {
  method?: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * A body sent as form data or plain text would otherwise be parsed as empty
 * and answered with a confusing "field missing"; say 415 instead. A request
 * with no body at all (an action such as a redelivery) has nothing to
 * misread, and passes.
 */
@Injectable()
export class JsonContentTypeGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<RequestLike>();
    if (!METHODS_WITH_BODY.has(request.method ?? '')) return true;
    const contentType = request.headers['content-type'];
    if (typeof contentType === 'string' && JSON_MEDIA_TYPE.test(contentType)) return true;
    if (acceptsRawBody(context.getHandler())) return true;
    if (!hasBody(request)) return true;
    throw ApiException.field(415, 'content-type', 'must be application/json');
  }
}

/** Whether the request carries a body: a non-zero length, or a chunked one. */
function hasBody(request: RequestLike): boolean {
  const length = request.headers['content-length'];
  return (
    request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
  );
}
