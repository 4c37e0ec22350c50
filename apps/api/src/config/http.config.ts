import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, Matches, Min } from 'class-validator';
import { AppVariables, configNamespace, toBoolean } from '@app/common';

export const HTTP_ADAPTERS = ['express', 'fastify'] as const;

/** The HTTP server and what is served on it. */
export class HttpVariables extends AppVariables {
  /** The HTTP platform: Express (default) or Fastify (more throughput, same behaviour). */
  @IsIn(HTTP_ADAPTERS)
  HTTP_ADAPTER: (typeof HTTP_ADAPTERS)[number] = 'express';

  /**
   * Which proxies in front of the app to believe about the client (X-Forwarded-For/Proto/Host):
   * `false` (default), `true` (any), a number of hops, or addresses/CIDRs, comma-separated.
   */
  @Matches(/^(true|false|\d{1,2}|[\w.:/]+(\s*,\s*[\w.:/]+)*)$/, {
    message:
      'TRUST_PROXY must be true, false, a number of hops, or comma-separated addresses/CIDRs',
  })
  TRUST_PROXY: string = 'false';

  /** A client must send a request's headers within this long, else its connection closes (408). */
  @IsInt()
  @Min(1000)
  HTTP_HEADERS_TIMEOUT_MS: number = 10_000;

  /** A client must send a whole request, body included, within this long, else 408 and closed. */
  @IsInt()
  @Min(1000)
  HTTP_REQUEST_TIMEOUT_MS: number = 30_000;

  /** An idle keep-alive connection closes after this long; set it above a load balancer's idle timeout. */
  @IsInt()
  @Min(1000)
  HTTP_KEEP_ALIVE_TIMEOUT_MS: number = 5_000;

  /** Browser origins allowed to call the API, comma-separated; none by default. */
  @Matches(/^\s*(https?:\/\/[^\s,/]+\s*(,\s*https?:\/\/[^\s,/]+\s*)*)?$/, {
    message: 'CORS_ORIGINS must be comma-separated origins such as https://app.example.com',
  })
  CORS_ORIGINS: string = '';

  /** Unset: on, except in production. */
  @IsOptional()
  @IsBoolean({ message: 'SWAGGER_ENABLED must be true or false' })
  @Transform(toBoolean)
  SWAGGER_ENABLED?: boolean;
}

export const httpConfig = configNamespace('http', HttpVariables, {
  rules: (env) => [
    // Node refuses such a server: the headers are part of the request.
    env.HTTP_HEADERS_TIMEOUT_MS > env.HTTP_REQUEST_TIMEOUT_MS &&
      'HTTP_HEADERS_TIMEOUT_MS must not be greater than HTTP_REQUEST_TIMEOUT_MS',
  ],
  values: (env) => ({
    port: env.PORT,
    host: env.HOST,
    headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    corsOrigins: env.CORS_ORIGINS,
    swaggerEnabled: env.SWAGGER_ENABLED ?? env.NODE_ENV !== 'production',
  }),
});

/** TRUST_PROXY as both HTTP platforms take it: a boolean, a hop count, or a list of addresses. */
export function trustProxySetting(value: string | undefined): boolean | number | string {
  const text = (value ?? 'false').trim();
  if (text === 'true') return true;
  if (text === 'false' || text === '') return false;
  if (/^\d+$/.test(text)) return Number(text);
  return text;
}
