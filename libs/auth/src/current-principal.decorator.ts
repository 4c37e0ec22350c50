import { createParamDecorator, type ExecutionContext, UnauthorizedException } from '@nestjs/common';
import { principalOf, type Principal } from './principal.js';

/**
 * The caller established by the API-key guard, for services that authorize
 * per object. A protected route always has one; its absence is a wiring error.
 */
export const CurrentPrincipal = createParamDecorator(
  (_: unknown, context: ExecutionContext): Principal => {
    const principal = principalOf(context.switchToHttp().getRequest<object>());
    if (!principal) throw new UnauthorizedException('Authentication required');
    return principal;
  },
);
