import { SetMetadata } from '@nestjs/common';

export const RAW_BODY_ROUTE = 'http:raw-body';

/**
 * The route takes its body as the exact bytes, in the media types it checks
 * itself (a webhook, whose signature covers those bytes). Both platforms
 * hand it a Buffer, and the JSON-only rule of JsonContentTypeGuard does not
 * apply to it.
 */
export const AcceptsRawBody = () => SetMetadata(RAW_BODY_ROUTE, true);

export function acceptsRawBody(handler: object): boolean {
  return Reflect.getMetadata(RAW_BODY_ROUTE, handler) === true;
}
