import {
  type DynamicModule,
  type INestApplication,
  Logger,
  type NestApplicationOptions,
} from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { documentCommonResponses } from './openapi/common-responses.js';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { Server } from 'node:http';
import {
  applyServerTimeouts,
  CONNECTIONS_CHECKING_INTERVAL_MS,
  configureHttpPipeline,
  decodeJsonBody,
  errorBody,
  securityHeaders,
} from '@app/common';
import { GATEWAY_SIGNATURE, GATEWAY_WEBHOOK_ROUTE, TWILIO_SIGNATURE } from '@app/gateways';
import { IMPORT_BODY_LIMIT_BYTES, IMPORT_PATH } from '@app/messaging';
import { assignedRequestId, configureObservability } from '@app/observability';
import { AppModule, type AppModuleOptions } from './app.module.js';
import { httpConfig, trustProxySetting } from './config/http.config.js';

/** The contract caps a request body at 64 KB; the bulk import alone takes up to 8 MB. */
export const JSON_BODY_LIMIT_BYTES = 64 * 1024;
const IMPORT_ROUTE = `/api/${IMPORT_PATH}`;

export type HttpPlatform = 'express' | 'fastify';

export interface CreateAppOptions extends AppModuleOptions {
  logger?: false;
}

/**
 * Builds the whole app, configured exactly as in production; e2e tests use it
 * too. Express is the default platform; `HTTP_ADAPTER=fastify` trades it for
 * Fastify's throughput. Only the few platform-specific pieces differ.
 */
export async function createApp(options: CreateAppOptions = {}): Promise<INestApplication> {
  const platform = (options.env?.HTTP_ADAPTER ??
    process.env.HTTP_ADAPTER ??
    'express') as HttpPlatform;
  // Both platforms take it when they are built, before the configuration module has run
  // (which validates it all the same).
  const trustProxy = trustProxySetting(options.env?.TRUST_PROXY ?? process.env.TRUST_PROXY);
  // logger: false (the tests) silences the request logs too.
  const module = AppModule.register(
    options.logger === false
      ? { ...options, env: { LOG_LEVEL: 'silent', ...options.env } }
      : options,
  );
  const nestOptions = {
    bodyParser: false,
    bufferLogs: options.logger !== false,
    logger: options.logger === false ? (false as const) : undefined,
  };
  const app =
    platform === 'fastify'
      ? await createFastifyApp(module, nestOptions, trustProxy)
      : await createExpressApp(module, nestOptions, trustProxy);
  configureApp(app);
  return app;
}

async function createExpressApp(
  module: DynamicModule,
  nestOptions: NestApplicationOptions,
  trustProxy: boolean | number | string,
): Promise<INestApplication> {
  // Each platform is loaded only when chosen: the other would cost ~10 MB of memory for nothing.
  const [{ PrototypedExpressAdapter }, { json, raw }] = await Promise.all([
    import('./platform/express-server.js'),
    import('express'),
  ]);
  const app = await NestFactory.create<NestExpressApplication>(
    module,
    new PrototypedExpressAdapter(),
    nestOptions,
  );
  // ETag hashing costs CPU on every response and buys nothing for an API
  // whose answers change constantly; x-powered-by only helps attackers.
  app.set('etag', false);
  app.disable('x-powered-by');
  // req.ip, req.protocol and req.host believe X-Forwarded-* only from these proxies.
  app.set('trust proxy', trustProxy);
  // Webhooks keep their exact bytes, whatever the media type: their signatures cover them.
  app.use(GATEWAY_WEBHOOK_ROUTE, raw({ type: () => true, limit: JSON_BODY_LIMIT_BYTES }));
  // Registered first: a body parsed here is skipped by the global parser below.
  // body-parser decodes leniently; the bytes are checked first (decodeJsonBody).
  const verify = (_request: unknown, _response: unknown, body: Buffer) => void decodeJsonBody(body);
  app.use(IMPORT_ROUTE, json({ limit: IMPORT_BODY_LIMIT_BYTES, verify }));
  app.use(json({ limit: JSON_BODY_LIMIT_BYTES, verify }));
  return app;
}

async function createFastifyApp(
  module: DynamicModule,
  nestOptions: NestApplicationOptions,
  trustProxy: boolean | number | string,
): Promise<INestApplication> {
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');
  const adapter = new FastifyAdapter({
    // No Nest middleware runs on Fastify (logging, headers and ids are hooked
    // on the Node server), so @fastify/middie's per-request hook is left out;
    // adding a middleware then fails at start-up, not silently.
    skipMiddie: true,
    // request.ip, .protocol and .host believe X-Forwarded-* only from these proxies.
    // Fastify takes a hop count too; the adapter's option type leaves numbers out.
    trustProxy: trustProxy as boolean | string,
    http: { connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS },
    // Fastify's router refuses a malformed URL or an overlong path parameter
    // before Nest sees the request; answer those in the one error shape too.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH';
      void reply.code(400).send({
        ...errorBody(400, tooLong ? 'A path parameter is far too long' : 'The URL is malformed', [
          {
            field: 'path',
            problem: tooLong ? 'has a parameter over 100 characters' : 'is malformed',
          },
        ]),
        requestId: request.id,
      });
    },
    bodyLimit: JSON_BODY_LIMIT_BYTES,
    // Fastify's request ids become the X-Request-Id ones (it copies its own over them).
    genReqId: assignedRequestId,
  });
  // Routes are registered at init, after this hook is in place.
  adapter.getInstance().addHook('onRoute', (route) => {
    if (route.url === IMPORT_ROUTE) route.bodyLimit = IMPORT_BODY_LIMIT_BYTES;
  });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    ...nestOptions,
    bodyParser: true,
  });
  // Fastify's own JSON parsing (with its __proto__/constructor checks) on strictly decoded text.
  const parseJson = adapter.getInstance().getDefaultJsonParser('error', 'error') as unknown as (
    request: unknown,
    body: string,
    done: (error: Error | null, value?: unknown) => void,
  ) => void;
  app.useBodyParser(
    'application/json',
    { bodyLimit: JSON_BODY_LIMIT_BYTES },
    (request, body: Buffer, done) => {
      // Webhooks keep their exact bytes: their signatures cover them.
      if (isWebhook(request)) {
        done(null, body);
        return;
      }
      let text: string;
      try {
        text = decodeJsonBody(body);
      } catch (error) {
        done(error as Error, undefined);
        return;
      }
      parseJson(request, text, done);
    },
  );
  // Twilio posts forms; only the webhook reads them (elsewhere the JSON-only guard answers 415).
  app.useBodyParser(
    'application/x-www-form-urlencoded',
    { bodyLimit: JSON_BODY_LIMIT_BYTES },
    (_request, body: Buffer, done) => done(null, body),
  );
  return app;
}

function isWebhook(request: unknown): boolean {
  return (request as FastifyRequest).routeOptions?.url === GATEWAY_WEBHOOK_ROUTE;
}

/** Everything that does not depend on the HTTP platform. */
export function configureApp(app: INestApplication): void {
  const config = app.get<ConfigType<typeof httpConfig>>(httpConfig.KEY);
  configureHttpPipeline(app);
  applyServerTimeouts(app.getHttpServer() as Server, {
    headersMs: config.headersTimeoutMs,
    requestMs: config.requestTimeoutMs,
    keepAliveMs: config.keepAliveTimeoutMs,
  });
  enableCors(app, config.corsOrigins);
  // Request ids, security headers, request logs, metrics, the request deadline
  // (REQUEST_TIMEOUT_MS), and a shutdown that drains requests first.
  configureObservability(app, { responseHeaders: responseHeaders() });
  if (config.swaggerEnabled) {
    SwaggerModule.setup('api/docs', app, () => createOpenApiDocument(app), {
      jsonDocumentUrl: 'api/docs-json',
      yamlDocumentUrl: 'api/docs-yaml',
    });
  }
}

/**
 * Every response gets the security headers; API answers also `Cache-Control:
 * no-store`, since they carry message texts and, once, a key's secret. The
 * page, its assets and the Swagger UI stay cacheable.
 */
function responseHeaders(): (url: string) => Map<string, string> {
  const page = securityHeaders();
  const api = new Map([...page, ['Cache-Control', 'no-store']]);
  return (url) => (url.startsWith('/api/') && !url.startsWith('/api/docs') ? api : page);
}

/** Browsers may call the API only from the listed origins; with none, CORS stays off. */
function enableCors(app: INestApplication, originList: string): void {
  const origins = originList
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  if (origins.length === 0) return;
  app.enableCors({
    origin: origins,
    methods: ['GET', 'POST', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type'],
    exposedHeaders: ['Retry-After', 'WWW-Authenticate', 'X-RateLimit-Remaining'],
    // Keys travel in a header, never in cookies.
    credentials: false,
    maxAge: 600,
  });
}

export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('SMS Service')
    .setDescription(
      'Phones report every SMS they send and receive; people read their conversations by number.',
    )
    .setVersion('0.1.0')
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'API key',
      description: 'An API key: the admin key, or a phone key (sms_...) from POST /api/keys',
    })
    // A gateway's webhook carries the provider's signature instead of a key.
    .addApiKey(
      {
        type: 'apiKey',
        in: 'header',
        name: 'X-Twilio-Signature',
        description: "Twilio's HMAC-SHA1 of the URL and the sorted form parameters",
      },
      TWILIO_SIGNATURE,
    )
    .addApiKey(
      {
        type: 'apiKey',
        in: 'header',
        name: 'X-Signature',
        description:
          'SMS Gateway for Android (with X-Timestamp) or textbee: hex HMAC-SHA256 of the body',
      },
      GATEWAY_SIGNATURE,
    )
    .build();
  return documentCommonResponses(SwaggerModule.createDocument(app, config));
}

export const bootstrapLogger = new Logger('Bootstrap');
