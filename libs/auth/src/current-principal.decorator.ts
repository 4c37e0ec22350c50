import { createParamDecorator, type ExecutionContext, UnauthorizedException } from '@nestjs/common';
import type { Principal } from './principal.js';

/** Where the API-key guard leaves the caller's identity on the request. */
export const PRINCIPAL_REQUEST_KEY = 'principal';

/**
 * The caller established by the API-key guard, for services that authorize
 * per object. A protected route always has one; its absence is a wiring error.
 */
export const CurrentPrincipal = createParamDecorator(
  (_: unknown, context: ExecutionContext): Principal => {
    const request = context.switchToHttp().getRequest<Record<string, unknown>>();
    const principal = request[PRINCIPAL_REQUEST_KEY] as Principal | undefined;
    if (!principal) throw new UnauthorizedException('Authentication required');
    return principal;
  },
);
