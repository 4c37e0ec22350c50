import type { OpenAPIObject } from '@nestjs/swagger';

type OperationObject = NonNullable<OpenAPIObject['paths'][string]['get']>;
type ResponseObject = Extract<OperationObject['responses'][string], { description: string }>;
type HeaderObject = Extract<NonNullable<ResponseObject['headers']>[string], { schema?: unknown }>;

const INT32_MAX = 2_147_483_647;
const ERROR_BODY = { $ref: '#/components/schemas/ErrorBody' };
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'] as const;

/** The rate-limit headers (KeyRateLimit), and Retry-After, as components the responses refer to. */
const HEADERS: Record<string, HeaderObject> = {
  'X-RateLimit-Limit': {
    description:
      'Requests the key may make per window (THROTTLE_LIMIT); sent once the key is known',
    schema: { type: 'integer', format: 'int32', minimum: 1, maximum: INT32_MAX },
  },
  'X-RateLimit-Remaining': {
    description: 'Requests the key has left in this window',
    schema: { type: 'integer', format: 'int32', minimum: 0, maximum: INT32_MAX },
  },
  'X-RateLimit-Reset': {
    description: 'Seconds until the window starts again',
    schema: { type: 'integer', format: 'int32', minimum: 0, maximum: INT32_MAX },
  },
  'Retry-After': {
    description: 'Seconds to wait before trying again',
    schema: { type: 'integer', format: 'int32', minimum: 0, maximum: INT32_MAX },
  },
};

const headerRef = (name: string) => ({ $ref: `#/components/headers/${name}` });

/**
 * What every route can answer, written into the document once here rather
 * than repeated on every handler: a request the platform cannot read (400)
 * and an unexpected failure (500, the exception filter's error id) on every
 * operation; a body too large (413) or not JSON (415) where there is a body; on every operation that needs a key, the rate-limit headers on
 * its answers (required on success; on an error only once the key was
 * known, so not required) and Retry-After on 429 and 503.
 */
export function documentCommonResponses(document: OpenAPIObject): OpenAPIObject {
  document.components ??= {};
  document.components.headers = { ...document.components.headers, ...HEADERS };
  for (const path of Object.values(document.paths)) {
    for (const method of METHODS) {
      const operation = path[method];
      if (operation) documentOperation(operation);
    }
  }
  return document;
}

function documentOperation(operation: OperationObject): void {
  const responses = operation.responses as Record<string, ResponseObject>;
  responses['400'] ??= errorResponse(
    'The request could not be read (a malformed URL, header or body)',
  );
  responses['500'] ??= errorResponse(
    'An unexpected failure; the body names an error id the logs repeat, nothing else',
  );
  if (operation.requestBody) {
    responses['413'] ??= errorResponse('The body is larger than this route accepts');
    responses['415'] ??= errorResponse('The body is not JSON (Content-Type: application/json)');
  }
  // Only API keys have the per-key limit; a gateway's webhook is signed instead.
  const needsKey = (operation.security ?? []).some((requirement) => 'bearer' in requirement);
  for (const [status, response] of Object.entries(responses)) {
    const code = Number(status);
    if (code === 429 || code === 503) {
      response.headers = { ...response.headers, 'Retry-After': headerRef('Retry-After') };
    }
    if (!needsKey || !(code >= 200 && code < 500)) continue;
    const required = code < 300;
    response.headers = {
      ...response.headers,
      ...Object.fromEntries(
        ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'].map((name) => [
          name,
          required ? { ...HEADERS[name], required: true } : headerRef(name),
        ]),
      ),
    };
  }
}

function errorResponse(description: string): ResponseObject {
  return { description, content: { 'application/json': { schema: ERROR_BODY } } };
}
