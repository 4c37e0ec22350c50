import { createParamDecorator, type ExecutionContext } from '@nestjs/common';

/**
 * The request's Authorization header, which the auth guard has already
 * accepted; a stream keeps it to check later that its key still works. A
 * custom decorator rather than `@Headers('authorization')`, which would show
 * up in the OpenAPI document as a second, undocumented credential.
 */
export const AuthorizationHeader = createParamDecorator(
  (_: unknown, context: ExecutionContext): string => {
    const { headers } = context
      .switchToHttp()
      .getRequest<{ headers: Record<string, string | string[] | undefined> }>();
    return typeof headers.authorization === 'string' ? headers.authorization : '';
  },
);
