import { applyDecorators, type CustomDecorator, SetMetadata } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ErrorBody } from '@app/common';

/** Where a route carries the number a phone key must act for. */
export type PhoneSource = { body: string } | { param: string };

/**
 * Who may call a route. Every route declares one (the app refuses to start
 * otherwise), so forgetting it cannot silently open a route.
 */
export type AuthRule =
  /** No key needed: health checks. */
  | { kind: 'public' }
  /**
   * No API key: the handler authenticates each request by the sender's own
   * signature (a gateway's webhook) and counts failures like bad keys.
   */
  | { kind: 'signedBySender' }
  /** Only the admin key. */
  | { kind: 'admin' }
  /** The admin key, or a phone key holding the number found at `source`. */
  | { kind: 'actsFor'; source: PhoneSource }
  /** Any valid key; the service checks each object against the principal. */
  | { kind: 'perObject' };

export const AUTH_RULE = 'sms:auth-rule';

const setRule = (rule: AuthRule): CustomDecorator<string> => SetMetadata(AUTH_RULE, rule);

/** The 401/403/429 answers and the bearer scheme, for the OpenAPI document. */
export function ApiAuthResponses(options: { forbidden?: string } = {}) {
  return applyDecorators(
    ApiBearerAuth(),
    ApiUnauthorizedResponse({
      type: ErrorBody,
      description: 'No key, a malformed Authorization header, or an unknown or revoked key',
    }),
    ...(options.forbidden
      ? [ApiForbiddenResponse({ type: ErrorBody, description: options.forbidden })]
      : []),
    ApiTooManyRequestsResponse({
      type: ErrorBody,
      description:
        "The key's rate limit, or too many failed authentications from this address; see Retry-After",
    }),
  );
}

/** No key needed. For health checks and the like; never for personal data. */
export const Public = () => setRule({ kind: 'public' });

/** No API key: the handler verifies the sender's signature itself (gateway webhooks). */
export const SignedBySender = () => setRule({ kind: 'signedBySender' });

/** Only the admin key. */
export const AdminOnly = () =>
  applyDecorators(
    setRule({ kind: 'admin' }),
    ApiAuthResponses({ forbidden: 'Only the admin key may do this' }),
  );

/**
 * The admin key, or a phone key that holds the number in the body field or
 * path parameter named by `source`, e.g. `@ActsFor({ body: 'senderPhone' })`.
 * The guard compares normalized numbers, so any format the API accepts works.
 */
export const ActsFor = (source: PhoneSource) =>
  applyDecorators(
    setRule({ kind: 'actsFor', source }),
    ApiAuthResponses({ forbidden: 'The key does not act for this number' }),
  );

/**
 * Any valid key. The handler must pass `@CurrentPrincipal()` to the service,
 * which decides per object (a stranger's message is 404, a foreign event in a
 * batch gets its own `forbidden` result).
 */
export const PerObjectAccess = () =>
  applyDecorators(setRule({ kind: 'perObject' }), ApiAuthResponses());
