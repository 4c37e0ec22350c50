import { type CanActivate, type ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { normalizeIp } from '@nestjs/throttler';
import {
  andThen,
  ApiException,
  type MaybePromise,
  type PartyClassification,
  PhoneNumbers,
  resolveParty,
} from '@app/common';
import { attachActingParty } from './acting-party.decorator.js';
import { AdminKey } from './admin-key.js';
import { ApiKeysService } from './api-keys.service.js';
import { AUTH_RULE, type AuthRule, type PhoneSource } from './auth.decorators.js';
import { AuthFailureLimiter } from './auth-failure-limiter.js';
import { KeyRateLimit } from './key-rate-limit.js';
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
/** A phone key may act for a number written any way the API accepts. */
const ANY_PARTY = ['phone', 'shortCode', 'senderId'] as const;

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
 *
 * A known key with in-memory counters needs no I/O at all, so that case runs
 * synchronously: no promise, no microtask (see `andThen`).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  /** Rules never change after start-up; reading the metadata once per handler is enough. */
  private readonly rules = new WeakMap<object, AuthRule | undefined>();

  constructor(
    private readonly reflector: Reflector,
    private readonly adminKey: AdminKey,
    private readonly keys: ApiKeysService,
    private readonly failures: AuthFailureLimiter,
    private readonly keyRateLimit: KeyRateLimit,
    private readonly phones: PhoneNumbers,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  canActivate(context: ExecutionContext): MaybePromise<boolean> {
    if (context.getType() !== 'http') return true;
    const rule = this.ruleOf(context);
    if (!rule) {
      // AuthModule refuses to start with such a route; refuse the request if one slips through.
      throw new Error(`${context.getClass().name}.${context.getHandler().name} has no auth rule`);
    }
    if (rule.kind === 'public' || rule.kind === 'signedBySender') return true;

    const http = context.switchToHttp();
    const request = http.getRequest<HttpRequest>();
    const response = http.getResponse<unknown>();
    return andThen(this.authenticate(request, response), (principal) => {
      attachPrincipal(request, principal);
      return andThen(this.keyRateLimit.consume(principal, response), () => {
        this.authorize(rule, principal, request);
        return true;
      });
    });
  }

  private ruleOf(context: ExecutionContext): AuthRule | undefined {
    const handler = context.getHandler();
    if (!this.rules.has(handler)) this.rules.set(handler, authRuleOf(this.reflector, context));
    return this.rules.get(handler);
  }

  private authenticate(request: HttpRequest, response: unknown): MaybePromise<Principal> {
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
    const principal = token === undefined ? undefined : this.identify(token);
    return andThen(principal, (known) => {
      if (!known) return this.refuse(request, response, token);
      // Judged before the block, so a blocked client gets the same answer whether it guessed right or not.
      return andThen(this.failures.blockedFor(clientOf(request)), (blockedFor) => {
        if (blockedFor > 0) this.tooManyFailures(response, blockedFor);
        return known;
      });
    });
  }

  private identify(token: string): MaybePromise<Principal | undefined> {
    if (this.adminKey.matches(token)) return ADMIN_PRINCIPAL;
    return this.keys.findPrincipal(token);
  }

  /** Counts a failed authentication, then answers 429 or 401. */
  private async refuse(
    request: HttpRequest,
    response: unknown,
    token: string | undefined,
  ): Promise<never> {
    const blockedFor = await this.failures.recordFailure(clientOf(request));
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

  private authorize(rule: AuthRule, principal: Principal, request: HttpRequest): void {
    switch (rule.kind) {
      case 'public':
      case 'signedBySender':
      case 'perObject':
        return;
      case 'admin':
        if (!principal.isAdmin) this.forbidden('Only the admin key may do this');
        return;
      case 'actsFor': {
        // No JSON body at all: the content-type check answers 415, revealing nothing.
        if (
          'body' in rule.source &&
          (request.body === undefined || typeof request.body === 'string')
        ) {
          return;
        }
        const party = this.partyAt(rule.source, request);
        // The handler gets what was parsed here (@ActingParty), so the number is read once.
        if (party) attachActingParty(request, party);
        if (principal.isAdmin) return;
        // An unreadable number is refused too: a phone key must not learn how another's input fares.
        const resolved = party && resolveParty(party, ANY_PARTY);
        if (!resolved || 'problem' in resolved || !canActFor(principal, resolved.value)) {
          this.forbidden('This API key does not act for this number');
        }
        return;
      }
    }
  }

  /** What the number at `source` is, or undefined when there is no string there. */
  private partyAt(source: PhoneSource, request: HttpRequest): PartyClassification | undefined {
    const value =
      'body' in source
        ? (request.body as Record<string, unknown> | null | undefined)?.[source.body]
        : request.params?.[source.param];
    return typeof value === 'string' ? this.phones.classify(value) : undefined;
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

/** The address failed authentications are counted for (the client's, behind a TRUST_PROXY). */
export function clientOf(request: { ip?: string }): string {
  return normalizeIp(request.ip ?? 'unknown');
}
