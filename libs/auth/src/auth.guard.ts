import { type CanActivate, type ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { normalizeIp, ThrottlerGuard } from '@nestjs/throttler';
import { ApiException, type CountryCode, parsePartyAddress } from '@app/common';
import { AdminKey } from './admin-key.js';
import { ApiKeysService } from './api-keys.service.js';
import { AUTH_RULE, type AuthRule, type PhoneSource } from './auth.decorators.js';
import { AuthFailureLimiter } from './auth-failure-limiter.js';
import { ADMIN_PRINCIPAL, attachPrincipal, canActFor, type Principal } from './principal.js';

interface HttpRequest {
  ip?: string;
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
  params?: Record<string, string | undefined>;
}

/** RFC 6750: the scheme is case-insensitive; b64token characters only. */
const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;
const REALM = 'realm="sms-service"';

/** The rule of a handler, else of its controller. */
export function authRuleOf(
  reflector: Reflector,
  context: Pick<ExecutionContext, 'getHandler' | 'getClass'>,
): AuthRule | undefined {
  return reflector.getAllAndOverride<AuthRule | undefined>(AUTH_RULE, [
    context.getHandler(),
    context.getClass(),
  ]);
}

/**
 * Every request to a route that is not @Public() goes through, in order:
 * 1. authentication: `Authorization: Bearer <key>`, the admin key or an active
 *    phone key, else 401 with WWW-Authenticate (failures are counted per
 *    client address; past AUTH_FAILURE_LIMIT the address gets 429);
 * 2. the key's rate limit (429 with Retry-After);
 * 3. the route's rule: @AdminOnly(), @ActsFor(...) or @PerObjectAccess(), else 403.
 * Everything happens before the body is validated, so a refused request
 * writes nothing and a phone key learns nothing about input it may not send.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly defaultCountry: CountryCode;

  constructor(
    private readonly reflector: Reflector,
    private readonly adminKey: AdminKey,
    private readonly keys: ApiKeysService,
    private readonly failures: AuthFailureLimiter,
    private readonly keyThrottler: ThrottlerGuard,
    private readonly adapterHost: HttpAdapterHost,
    config: ConfigService,
  ) {
    this.defaultCountry = config.get<CountryCode>('DEFAULT_COUNTRY') ?? 'US';
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const rule = authRuleOf(this.reflector, context);
    if (!rule) {
      // AuthModule refuses to start with such a route; refuse the request if one slips through.
      throw new Error(`${context.getClass().name}.${context.getHandler().name} has no auth rule`);
    }
    if (rule.kind === 'public') return true;

    const http = context.switchToHttp();
    const request = http.getRequest<HttpRequest>();
    const principal = await this.authenticate(request, http.getResponse<unknown>());
    attachPrincipal(request, principal);
    await this.keyThrottler.canActivate(context);
    this.authorize(rule, principal, request);
    return true;
  }

  private async authenticate(request: HttpRequest, response: unknown): Promise<Principal> {
    const client = normalizeIp(request.ip ?? 'unknown');
    const header = request.headers.authorization;
    if (header === undefined || header === '') {
      // Not a guess, so not counted as a failed attempt.
      this.unauthorized(
        response,
        REALM,
        'Authentication required: send Authorization: Bearer <API key>',
      );
    }
    const token = typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
    const principal = token === undefined ? undefined : await this.identify(token);
    if (principal) {
      // Judged before the block, so a blocked client gets the same answer whether it guessed right or not.
      const blockedFor = await this.failures.blockedFor(client);
      if (blockedFor > 0) this.tooManyFailures(response, blockedFor);
      return principal;
    }

    const blockedFor = await this.failures.recordFailure(client);
    if (blockedFor > 0) this.tooManyFailures(response, blockedFor);
    if (token === undefined) {
      this.unauthorized(
        response,
        `${REALM}, error="invalid_request"`,
        'The Authorization header must be "Bearer <API key>"',
      );
    }
    this.unauthorized(
      response,
      `${REALM}, error="invalid_token"`,
      'The API key is unknown or revoked',
    );
  }

  private async identify(token: string): Promise<Principal | undefined> {
    if (this.adminKey.matches(token)) return ADMIN_PRINCIPAL;
    return this.keys.findPrincipal(token);
  }

  private authorize(rule: AuthRule, principal: Principal, request: HttpRequest): void {
    switch (rule.kind) {
      case 'public':
      case 'perObject':
        return;
      case 'admin':
        if (!principal.isAdmin) this.forbidden('Only the admin key may do this');
        return;
      case 'actsFor': {
        if (principal.isAdmin) return;
        // No JSON body at all: the content-type check answers 415, revealing nothing.
        if (
          'body' in rule.source &&
          (request.body === undefined || typeof request.body === 'string')
        ) {
          return;
        }
        // An unreadable number is refused too: a phone key must not learn how another's input fares.
        const party = this.partyAt(rule.source, request);
        if (party === undefined || !canActFor(principal, party)) {
          this.forbidden('This API key does not act for this number');
        }
        return;
      }
    }
  }

  /** The normalized address at `source`, or undefined when there is none. */
  private partyAt(source: PhoneSource, request: HttpRequest): string | undefined {
    const value =
      'body' in source
        ? (request.body as Record<string, unknown> | null | undefined)?.[source.body]
        : request.params?.[source.param];
    if (typeof value !== 'string') return undefined;
    const parsed = parsePartyAddress(value, {
      defaultCountry: this.defaultCountry,
      accept: ['phone', 'shortCode', 'senderId'],
    });
    return 'problem' in parsed ? undefined : parsed.value;
  }

  private unauthorized(response: unknown, challenge: string, message: string): never {
    this.adapterHost.httpAdapter.setHeader(response, 'WWW-Authenticate', `Bearer ${challenge}`);
    throw new ApiException(HttpStatus.UNAUTHORIZED, message);
  }

  private tooManyFailures(response: unknown, seconds: number): never {
    this.adapterHost.httpAdapter.setHeader(response, 'Retry-After', String(seconds));
    throw new ApiException(
      HttpStatus.TOO_MANY_REQUESTS,
      `Too many failed authentications from this address; retry in ${seconds} s`,
    );
  }

  private forbidden(message: string): never {
    throw new ApiException(HttpStatus.FORBIDDEN, message);
  }
}
